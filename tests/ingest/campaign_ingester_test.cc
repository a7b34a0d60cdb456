#include "ingest/campaign_ingester.h"

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "fakes/hostile_yaml.h"
#include "fakes/temp_dir.h"
#include "fakes/test_config.h"

namespace broadcastd {
namespace {

using namespace std::chrono_literals;

TimePoint T(const char* text) { return *ParseRfc3339(text); }

constexpr const char* kTwoBroadcasts = R"(id: spring
broadcasts:
  - name: kickoff
    target: users
    send_at: "2027-03-01T09:00:00+08:00"
    message: {type: txt, msg: "Spring sale starts now"}
  - name: rooms
    target: chatrooms
    send_at: "2027-03-01T10:00:00+08:00"
    message: {type: txt, msg: "hello rooms"}
)";

class CampaignIngesterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_ / "campaigns");
    config_ = TestConfig(dir_.path());
    auto store = Store::Open(config_.database, Store::Mode::kReadWrite);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    store_.emplace(std::move(*store));
    ingester_.emplace(config_, *store_);
  }

  // As the daemon scans after inotify's IN_CLOSE_WRITE for every file the test
  // wrote: read at once, whatever their mtime says against the fake clock.
  ScanReport Scan(TimePoint now) {
    for (const auto& entry : std::filesystem::directory_iterator(dir_ / "campaigns")) {
      ingester_->MarkWritten(entry.path().filename().string());
    }
    auto r = ingester_->Scan(now);
    EXPECT_TRUE(r.has_value()) << r.error().message;
    return r.value_or(ScanReport{});
  }

  std::vector<JobRow> Jobs() { return store_->Jobs().value(); }

  // The job of this broadcast (occurrence "once"); fails the test when there is none.
  JobRow Job(const std::string& broadcast) {
    for (const JobRow& job : Jobs()) {
      if (job.broadcast == broadcast) return job;
    }
    ADD_FAILURE() << "no job " << broadcast;
    return {};
  }

  // Claims the job and records the answer.
  void Answer(const std::string& broadcast, OutcomeClass outcome, TimePoint at) {
    const int64_t id = Job(broadcast).id;
    auto attempt = store_->ClaimForSending(id, Instant(at));
    ASSERT_TRUE(attempt.has_value()) << attempt.error().message;
    Store::AttemptOutcome o;
    o.outcome = outcome;
    o.http_status = outcome == OutcomeClass::kSent ? 200 : 429;
    if (outcome == OutcomeClass::kSent) o.broadcast_id = "1234567890123456789";
    if (outcome == OutcomeClass::kRetry) o.retry_not_before = at + 1s;
    ASSERT_TRUE(store_->RecordOutcome(id, *attempt, o, Instant(at)).has_value());
  }

  std::optional<CampaignRow> FileRow(const std::string& file) {
    const std::vector<CampaignRow> rows = store_->Campaigns().value();
    for (const CampaignRow& row : rows) {
      if (row.file == file) return row;
    }
    ADD_FAILURE() << "no row for " << file;
    return CampaignRow{};
  }

  void SetModified(const std::string& name, std::chrono::seconds later) {
    auto path = dir_ / ("campaigns/" + name);
    std::filesystem::last_write_time(path, std::filesystem::last_write_time(path) + later);
  }

  TempDir dir_;
  Config config_;
  std::optional<Store> store_;
  std::optional<CampaignIngester> ingester_;
  const TimePoint now_ = T("2027-02-01T00:00:00Z");
};

TEST_F(CampaignIngesterTest, NewFileBecomesJobsAndAnUnchangedFileChangesNothing) {
  dir_.Write("campaigns/spring.yaml", kTwoBroadcasts);
  ScanReport first = Scan(now_);
  EXPECT_EQ(first.created, 1);
  auto jobs = Jobs();
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].campaign_id, "spring");
  EXPECT_EQ(jobs[0].broadcast, "kickoff");
  EXPECT_EQ(jobs[0].app, "main");
  EXPECT_EQ(jobs[0].state, JobState::kScheduled);
  EXPECT_EQ(jobs[0].due, T("2027-03-01T01:00:00Z"));
  EXPECT_EQ(jobs[1].target, BroadcastTarget::kChatrooms);

  ScanReport second = Scan(now_ + 1h);
  EXPECT_EQ(second.created + second.updated + second.rejected + second.removed, 0);
  EXPECT_EQ(second.unchanged, 1);
  auto again = Jobs();
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0].updated_at, jobs[0].updated_at);

  // A fresh ingester (a restart) over the same store: still nothing changes.
  CampaignIngester restarted(config_, *store_);
  auto r = restarted.Scan(now_ + 2h);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->created + r->updated, 0);
  EXPECT_EQ(Jobs()[0].updated_at, jobs[0].updated_at);
}

TEST_F(CampaignIngesterTest, ChangedFileUpdatesUnattemptedJobsAndCancelsDroppedOnes) {
  dir_.Write("campaigns/spring.yaml", kTwoBroadcasts);
  Scan(now_);
  // The first job was attempted (claimed and answered): it must keep its history.
  auto claimed = store_->ClaimForSending(Jobs()[0].id, Instant(now_));
  ASSERT_TRUE(claimed.has_value()) << claimed.error().message;

  dir_.Write("campaigns/spring.yaml", R"(id: spring
broadcasts:
  - name: kickoff
    target: users
    send_at: "2027-03-02T09:00:00+08:00"
    message: {type: txt, msg: "changed text"}
)");
  ScanReport r = Scan(now_ + 1h);
  EXPECT_EQ(r.updated, 1);
  auto jobs = Jobs();
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].state, JobState::kSending);  // attempted: untouched
  EXPECT_EQ(jobs[0].due, T("2027-03-01T01:00:00Z"));
  EXPECT_NE(jobs[0].body.find("Spring sale"), std::string::npos);
  EXPECT_EQ(jobs[1].state, JobState::kCancelled);  // dropped from the file, never attempted
}

// The lateness guard is part of a job's expiry: a reload (or a restart) under another
// max_delay re-plans the jobs no attempt may have reached, and only those.
TEST_F(CampaignIngesterTest, AChangedMaxDelayReplansTheDeadlinesOfUnattemptedJobsOnly) {
  dir_.Write("campaigns/spring.yaml", kTwoBroadcasts);
  Scan(now_);
  EXPECT_EQ(Job("kickoff").expires, T("2027-03-02T01:00:00Z"));  // send_at + 24h
  EXPECT_EQ(Job("rooms").expires, T("2027-03-02T02:00:00Z"));
  // Attempted, answer not in yet: never touched again by a change of files or config.
  auto claimed = store_->ClaimForSending(Job("kickoff").id, Instant(now_));
  ASSERT_TRUE(claimed.has_value()) << claimed.error().message;

  Config tighter = config_;
  tighter.max_delay = 90min;
  ingester_->SetConfig(tighter);
  EXPECT_EQ(Scan(now_ + 1min).updated, 1);
  EXPECT_EQ(Job("rooms").expires, T("2027-03-01T03:30:00Z"));
  EXPECT_EQ(Job("rooms").state, JobState::kScheduled);
  EXPECT_EQ(Job("kickoff").expires, T("2027-03-02T01:00:00Z"));
  EXPECT_EQ(Job("kickoff").state, JobState::kSending);

  Config unguarded = config_;
  unguarded.max_delay = std::nullopt;
  ingester_->SetConfig(unguarded);
  EXPECT_EQ(Scan(now_ + 2min).updated, 1);
  EXPECT_FALSE(Job("rooms").expires.has_value());

  // A restart under the same config changes nothing; under another, it re-plans.
  CampaignIngester same(unguarded, *store_);
  same.MarkWritten("spring.yaml");
  auto unchanged = same.Scan(now_ + 3min);
  ASSERT_TRUE(unchanged.has_value()) << unchanged.error().message;
  EXPECT_EQ(unchanged->created + unchanged->updated, 0);
  EXPECT_EQ(unchanged->unchanged, 1);
  CampaignIngester restarted(config_, *store_);
  restarted.MarkWritten("spring.yaml");
  auto replanned = restarted.Scan(now_ + 4min);
  ASSERT_TRUE(replanned.has_value()) << replanned.error().message;
  EXPECT_EQ(replanned->updated, 1);
  EXPECT_EQ(Job("rooms").expires, T("2027-03-02T02:00:00Z"));
  EXPECT_EQ(Job("kickoff").state, JobState::kSending);
}

TEST_F(CampaignIngesterTest, InvalidFileIsRejectedAndKeepsEarlierJobsUntilFixed) {
  dir_.Write("campaigns/spring.yaml", kTwoBroadcasts);
  Scan(now_);
  dir_.Write("campaigns/spring.yaml", "id: spring\nbroadcasts:\n  - target: everyone\n");
  dir_.Write("campaigns/other.yaml", R"(id: other
broadcasts:
  - name: refresh
    target: online_users
    message: {type: cmd, action: refresh}
)");
  ScanReport r = Scan(now_ + 1h);
  EXPECT_EQ(r.rejected, 1);
  EXPECT_EQ(r.created, 1);  // the bad file harms nothing else
  ASSERT_FALSE(r.errors.empty());
  EXPECT_NE(r.errors[0].find("spring.yaml:3"), std::string::npos) << r.errors[0];

  auto campaigns = store_->Campaigns().value();
  auto spring = std::find_if(campaigns.begin(), campaigns.end(),
                             [](const CampaignRow& c) { return c.file == "spring.yaml"; });
  ASSERT_NE(spring, campaigns.end());
  EXPECT_EQ(spring->status, CampaignStatus::kRejected);
  EXPECT_NE(spring->last_error.find("target"), std::string::npos) << spring->last_error;
  size_t kept = 0;
  for (const JobRow& j : Jobs())
    kept += j.campaign_id == "spring" && j.state == JobState::kScheduled;
  EXPECT_EQ(kept, 2u);

  // The same bad content again is not reported again.
  EXPECT_EQ(Scan(now_ + 2h).rejected, 0);

  // Removing the file cancels the never-attempted jobs.
  std::filesystem::remove(dir_ / "campaigns/spring.yaml");
  EXPECT_EQ(Scan(now_ + 3h).removed, 1);
  for (const JobRow& j : Jobs()) {
    if (j.campaign_id == "spring") {
      EXPECT_EQ(j.state, JobState::kCancelled);
    }
  }
}

TEST_F(CampaignIngesterTest, AppMustBeKnownAndIdsUnique) {
  dir_.Write("campaigns/a.yaml", R"(id: same
app: nosuch
broadcasts:
  - name: x
    target: users
    message: {type: txt, msg: x}
)");
  dir_.Write("campaigns/b.yaml", R"(id: same
broadcasts:
  - name: x
    target: users
    message: {type: txt, msg: x}
)");
  dir_.Write("campaigns/c.yaml", R"(id: same
broadcasts:
  - name: x
    target: users
    message: {type: txt, msg: y}
)");
  ScanReport r = Scan(now_);
  EXPECT_EQ(r.created, 1);   // b.yaml
  EXPECT_EQ(r.rejected, 2);  // a.yaml: unknown app; c.yaml: id taken by b.yaml
  std::string all;
  for (const auto& e : r.errors) all += e + "\n";
  EXPECT_NE(all.find("a.yaml: app: \"nosuch\" is not defined"), std::string::npos) << all;
  EXPECT_NE(all.find("c.yaml:1:5: id \"same\" is already used by b.yaml [rule.id_unique]"),
            std::string::npos)
      << all;
}

TEST_F(CampaignIngesterTest, RepeatOccurrencesComeAheadOfTimeAsTheHorizonMoves) {
  dir_.Write("campaigns/nightly.yaml", R"(id: nightly
broadcasts:
  - name: promo
    target: chatrooms
    repeat: {cron: "0 20 * * *", timezone: Asia/Shanghai}
    message: {type: txt, msg: nightly}
)");
  const TimePoint start = T("2027-03-01T13:00:00Z");  // 21:00 Shanghai
  Scan(start);
  auto jobs = Jobs();
  ASSERT_EQ(jobs.size(), 2u);  // 48 h ahead: 2 and 3 March
  EXPECT_EQ(jobs[0].occurrence, "2027-03-02T12:00:00Z");
  EXPECT_EQ(*jobs[0].expires, T("2027-03-03T12:00:00Z"));

  ScanReport later = Scan(start + 24h);
  EXPECT_EQ(later.occurrences_added, 1);  // 4 March joins; nothing is duplicated
  jobs = Jobs();
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(jobs[2].occurrence, "2027-03-04T12:00:00Z");
}

TEST_F(CampaignIngesterTest, HostileFileIsRejectedAndOthersGoOn) {
  dir_.Write("campaigns/bomb.yaml", BillionLaughs());
  dir_.Write("campaigns/huge.yaml", std::string(2 * 1024 * 1024, '#'));
  dir_.Write("campaigns/ok.yaml", R"(id: ok
broadcasts:
  - name: fine
    target: users
    message: {type: txt, msg: fine}
)");
  ScanReport r = Scan(now_);
  EXPECT_EQ(r.created, 1);
  EXPECT_EQ(r.rejected, 2);
  EXPECT_EQ(Jobs().size(), 1u);
}

// ------------------------------------------------------------------ identity
// A job is (campaign id, broadcast name, occurrence), whatever file carries it.

// Two broadcasts: `a` as soon as allowed, `b` in 2099; `extra` goes before them.
std::string PromoYaml(const std::string& extra = "", const std::string& a_text = "a") {
  return "id: promo\nbroadcasts:\n" + extra +
         "  - {name: a, target: users, message: {type: txt, msg: " + a_text +
         "}}\n"
         "  - {name: b, target: users, send_at: \"2099-01-01T00:00:00Z\", "
         "message: {type: txt, msg: b}}\n";
}

TEST_F(CampaignIngesterTest, BroadcastsWithoutNamesAreRejectedNotKeyedByPosition) {
  dir_.Write("campaigns/a.yaml", R"(id: promo
broadcasts:
  - {target: users, message: {type: txt, msg: a}}
)");
  ScanReport r = Scan(now_);
  EXPECT_EQ(r.rejected, 1);
  EXPECT_TRUE(Jobs().empty());
  ASSERT_FALSE(r.errors.empty());
  EXPECT_NE(r.errors[0].find("a.yaml:3:5: broadcasts[0].name is required [schema.required]"),
            std::string::npos)
      << r.errors[0];

  dir_.Write("campaigns/a.yaml",
             "broadcasts:\n  - {name: a, target: users, message: {type: "
             "txt, msg: a}}\n");
  r = Scan(now_ + 1s);
  EXPECT_EQ(r.rejected, 1);
  EXPECT_NE(r.errors.at(0).find("a.yaml:1:1: id is required [schema.required]"), std::string::npos)
      << r.errors[0];
}

// `d`, as soon as allowed and not sent yet, is due from the file's modification time:
// an edit elsewhere in the file (a newer mtime) must not push it back.
constexpr const char* kAsSoonAsAllowed =
    "  - {name: d, target: chatrooms, message: {type: txt, msg: d}}\n";

TEST_F(CampaignIngesterTest, InsertingABroadcastAtTheTopChangesNoOtherJob) {
  dir_.Write("campaigns/a.yaml", PromoYaml() + kAsSoonAsAllowed);
  Scan(now_);
  Answer("a", OutcomeClass::kSent, now_);
  const JobRow a = Job("a"), b = Job("b"), d = Job("d");

  dir_.Write(
      "campaigns/a.yaml",
      PromoYaml("  - {name: c, target: users, message: {type: txt, msg: c}}\n") + kAsSoonAsAllowed);
  SetModified("a.yaml", 60s);
  EXPECT_EQ(Scan(now_ + 1min).updated, 1);
  EXPECT_EQ(Jobs().size(), 4u);
  EXPECT_EQ(Job("c").state, JobState::kReady);
  EXPECT_EQ(Job("a").state, JobState::kSent);
  EXPECT_EQ(Job("a").attempts, 1);
  EXPECT_EQ(Job("a").updated_at, a.updated_at);
  EXPECT_EQ(Job("b").state, JobState::kScheduled);
  EXPECT_EQ(Job("b").updated_at, b.updated_at);
  EXPECT_EQ(Job("d").due, d.due);
  EXPECT_EQ(Job("d").updated_at, d.updated_at);
}

TEST_F(CampaignIngesterTest, DeletingTheFirstBroadcastLeavesTheOthers) {
  dir_.Write("campaigns/a.yaml", PromoYaml() + kAsSoonAsAllowed);
  Scan(now_);
  const JobRow b = Job("b"), d = Job("d");
  dir_.Write("campaigns/a.yaml", std::string(R"(id: promo
broadcasts:
  - {name: b, target: users, send_at: "2099-01-01T00:00:00Z", message: {type: txt, msg: b}}
)") + kAsSoonAsAllowed);
  SetModified("a.yaml", 60s);
  EXPECT_EQ(Scan(now_ + 1min).updated, 1);
  EXPECT_EQ(Job("a").state, JobState::kCancelled);
  EXPECT_EQ(Job("b").state, JobState::kScheduled);
  EXPECT_EQ(Job("b").id, b.id);
  EXPECT_EQ(Job("b").updated_at, b.updated_at);
  EXPECT_EQ(Job("d").state, JobState::kReady);
  EXPECT_EQ(Job("d").due, d.due);
  EXPECT_EQ(Job("d").updated_at, d.updated_at);
}

TEST_F(CampaignIngesterTest, ReorderingBroadcastsChangesNoJob) {
  dir_.Write("campaigns/a.yaml", std::string(R"(id: promo
broadcasts:
  - {name: a, target: users, send_at: "2099-01-01T00:00:00Z", message: {type: txt, msg: a}}
  - {name: b, target: chatrooms, send_at: "2099-01-02T00:00:00Z", message: {type: txt, msg: b}}
)") + kAsSoonAsAllowed);
  Scan(now_);
  const std::vector<JobRow> before = Jobs();
  dir_.Write(
      "campaigns/a.yaml",
      std::string(R"(id: promo
broadcasts:
)") + kAsSoonAsAllowed +
          R"(  - {name: b, target: chatrooms, send_at: "2099-01-02T00:00:00Z", message: {type: txt, msg: b}}
  - {name: a, target: users, send_at: "2099-01-01T00:00:00Z", message: {type: txt, msg: a}}
)");
  SetModified("a.yaml", 60s);
  EXPECT_EQ(Scan(now_ + 1min).updated, 1);
  const std::vector<JobRow> after = Jobs();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].broadcast, before[i].broadcast);
    EXPECT_EQ(after[i].body, before[i].body);
    EXPECT_EQ(after[i].due, before[i].due);
    EXPECT_EQ(after[i].updated_at, before[i].updated_at) << after[i].broadcast;
  }
}

// A job due as soon as allowed keeps its due across edits of its file (a newer mtime),
// and so keeps its deadline: an edit does not buy a stale broadcast another day.
TEST_F(CampaignIngesterTest, AnEditKeepsTheDeadlineOfAJobDueAsSoonAsAllowed) {
  dir_.Write("campaigns/a.yaml", PromoYaml() + kAsSoonAsAllowed);
  Scan(now_);
  const JobRow d = Job("d");
  ASSERT_TRUE(d.expires.has_value());
  EXPECT_EQ(*d.expires, d.due + 24h);

  dir_.Write("campaigns/a.yaml", PromoYaml("", "edited") + kAsSoonAsAllowed);
  SetModified("a.yaml", 2h);
  EXPECT_EQ(Scan(now_ + 1min).updated, 1);
  EXPECT_EQ(Job("d").due, d.due);
  EXPECT_EQ(Job("d").expires, d.expires);
  EXPECT_EQ(Job("d").updated_at, d.updated_at);
}

TEST_F(CampaignIngesterTest, ARenameSeenInOneScanMovesTheCampaign) {
  dir_.Write("campaigns/a.yaml", PromoYaml());
  Scan(now_);
  Answer("a", OutcomeClass::kSent, now_);
  const std::vector<JobRow> before = Jobs();
  std::filesystem::rename(dir_ / "campaigns/a.yaml", dir_ / "campaigns/b.yaml");

  ScanReport r = Scan(now_ + 1min);
  EXPECT_EQ(r.moved, 1);
  EXPECT_EQ(r.removed + r.rejected + r.created, 0);
  const std::vector<JobRow> after = Jobs();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].state, before[i].state);
    EXPECT_EQ(after[i].updated_at, before[i].updated_at);
    EXPECT_EQ(after[i].file, "b.yaml");
  }
  EXPECT_EQ(FileRow("a.yaml")->status, CampaignStatus::kRemoved);
  EXPECT_EQ(FileRow("b.yaml")->status, CampaignStatus::kOk);
  EXPECT_EQ(Scan(now_ + 2min).unchanged, 1);
}

TEST_F(CampaignIngesterTest, ARenameAcrossScansAndARestartResendsNothing) {
  dir_.Write("campaigns/a.yaml", PromoYaml());
  Scan(now_);
  Answer("a", OutcomeClass::kSent, now_);
  std::filesystem::rename(dir_ / "campaigns/a.yaml", dir_ / "b.yaml.tmp");
  EXPECT_EQ(Scan(now_ + 1min).removed, 1);
  EXPECT_EQ(Job("b").state, JobState::kCancelled);

  std::filesystem::rename(dir_ / "b.yaml.tmp", dir_ / "campaigns/b.yaml");
  CampaignIngester restarted(config_, *store_);
  restarted.MarkWritten("b.yaml");  // renamed in: inotify's IN_MOVED_TO
  auto r = restarted.Scan(now_ + 2min);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->created, 1);
  EXPECT_EQ(Jobs().size(), 2u);
  EXPECT_EQ(Job("a").state, JobState::kSent);
  EXPECT_EQ(Job("a").attempts, 1);
  EXPECT_EQ(Job("b").state, JobState::kScheduled);
  EXPECT_EQ(Job("b").file, "b.yaml");
}

TEST_F(CampaignIngesterTest, MovingACampaignToANewerFileKeepsTheDueOfItsJobs) {
  dir_.Write("campaigns/a.yaml", PromoYaml());
  Scan(now_);
  const JobRow a = Job("a");
  std::filesystem::remove(dir_ / "campaigns/a.yaml");
  dir_.Write("campaigns/moved.yaml", "# moved here\n" + PromoYaml());
  SetModified("moved.yaml", 3600s);

  EXPECT_EQ(Scan(now_ + 1h).moved, 1);
  EXPECT_EQ(Job("a").id, a.id);
  EXPECT_EQ(Job("a").due, a.due);
  EXPECT_EQ(Job("a").state, a.state);
  EXPECT_EQ(Job("a").file, "moved.yaml");
}

TEST_F(CampaignIngesterTest, TwoFilesWithOneIdTheHolderKeepsItUntilItGoes) {
  dir_.Write("campaigns/b.yaml", PromoYaml());
  Scan(now_);
  dir_.Write("campaigns/a.yaml", PromoYaml("", "from a"));  // sorts first
  ScanReport r = Scan(now_ + 1min);
  EXPECT_EQ(r.rejected, 1);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], "a.yaml:1:5: id \"promo\" is already used by b.yaml [rule.id_unique]");
  EXPECT_EQ(FileRow("a.yaml")->status, CampaignStatus::kRejected);
  EXPECT_EQ(Scan(now_ + 2min).rejected, 0);  // logged once

  // b.yaml goes: a.yaml, unchanged, takes the campaign over; nothing is cancelled.
  std::filesystem::remove(dir_ / "campaigns/b.yaml");
  r = Scan(now_ + 3min);
  EXPECT_EQ(r.moved, 1);
  EXPECT_EQ(r.removed, 0);
  EXPECT_EQ(Job("a").state, JobState::kReady);
  EXPECT_NE(Job("a").body.find("from a"), std::string::npos);
  EXPECT_EQ(Job("b").state, JobState::kScheduled);
  EXPECT_EQ(FileRow("a.yaml")->status, CampaignStatus::kOk);
}

TEST_F(CampaignIngesterTest, AnIdGivenUpInOneScanIsTakenInTheSame) {
  dir_.Write("campaigns/b.yaml", PromoYaml());
  Scan(now_);
  // b.yaml now carries another campaign, and a.yaml (sorted first) takes promo.
  std::string other = PromoYaml();
  other.replace(0, std::string("id: promo").size(), "id: other");
  dir_.Write("campaigns/b.yaml", other);
  dir_.Write("campaigns/a.yaml", PromoYaml());
  ScanReport r = Scan(now_ + 1min);
  EXPECT_EQ(r.rejected, 0) << (r.errors.empty() ? "" : r.errors[0]);
  EXPECT_EQ(FileRow("a.yaml")->campaign_id, "promo");
  EXPECT_EQ(FileRow("b.yaml")->campaign_id, "other");
}

TEST_F(CampaignIngesterTest, RemovedAndRestoredAFileResendsNothingAndBringsBackTheRest) {
  dir_.Write("campaigns/a.yaml", PromoYaml());
  Scan(now_);
  Answer("a", OutcomeClass::kSent, now_);
  std::filesystem::remove(dir_ / "campaigns/a.yaml");
  Scan(now_ + 1min);
  EXPECT_EQ(Job("b").state, JobState::kCancelled);
  dir_.Write("campaigns/a.yaml", PromoYaml("", "a-edited"));
  Scan(now_ + 2min);
  EXPECT_EQ(Jobs().size(), 2u);
  EXPECT_EQ(Job("a").state, JobState::kSent);
  EXPECT_EQ(Job("a").body.find("edited"), std::string::npos);
  EXPECT_EQ(Job("b").state, JobState::kScheduled);
}

TEST_F(CampaignIngesterTest, AJobRetriedAfterA429FollowsEditsAndRemoval) {
  dir_.Write("campaigns/a.yaml", PromoYaml("", "old text"));
  dir_.Write("campaigns/c.yaml", R"(id: other
broadcasts:
  - {name: x, target: users, message: {type: txt, msg: x}}
)");
  Scan(now_);
  Answer("a", OutcomeClass::kRetry, now_);
  Answer("x", OutcomeClass::kRetry, now_);
  ASSERT_EQ(Job("a").attempts, 1);

  dir_.Write("campaigns/a.yaml", PromoYaml("", "new text"));
  EXPECT_EQ(Scan(now_ + 1min).updated, 1);
  EXPECT_NE(Job("a").body.find("new text"), std::string::npos);
  EXPECT_EQ(Job("a").state, JobState::kReady);

  std::filesystem::remove(dir_ / "campaigns/c.yaml");
  EXPECT_EQ(Scan(now_ + 2min).removed, 1);
  EXPECT_EQ(Job("x").state, JobState::kCancelled);
  // Once an answer leaves it in doubt, no change of files touches it again.
  Answer("a", OutcomeClass::kUnknown, now_ + 3min);
  dir_.Write("campaigns/a.yaml", PromoYaml("", "newer text"));
  Scan(now_ + 4min);
  EXPECT_NE(Job("a").body.find("new text"), std::string::npos);
  EXPECT_EQ(Job("a").state, JobState::kUnknown);
}

TEST_F(CampaignIngesterTest, AFileThatLostItsIdIsRejectedAndKeepsItsJobs) {
  dir_.Write("campaigns/a.yaml", PromoYaml());
  Scan(now_);
  const std::vector<JobRow> before = Jobs();
  dir_.Write("campaigns/a.yaml", R"(broadcasts:
  - {target: users, message: {type: txt, msg: a}}
)");
  ScanReport r = Scan(now_ + 1min);
  EXPECT_EQ(r.rejected, 1);
  EXPECT_EQ(FileRow("a.yaml")->status, CampaignStatus::kRejected);
  EXPECT_NE(FileRow("a.yaml")->last_error.find("[schema.required]"), std::string::npos);
  EXPECT_EQ(FileRow("a.yaml")->campaign_id, "promo");
  const std::vector<JobRow> after = Jobs();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) EXPECT_EQ(after[i].updated_at, before[i].updated_at);
}

}  // namespace
}  // namespace broadcastd
