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
  auto claimed = store_->ClaimForSending(Jobs()[0].id, now_);
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

TEST_F(CampaignIngesterTest, InvalidFileIsRejectedAndKeepsEarlierJobsUntilFixed) {
  dir_.Write("campaigns/spring.yaml", kTwoBroadcasts);
  Scan(now_);
  dir_.Write("campaigns/spring.yaml", "id: spring\nbroadcasts:\n  - target: everyone\n");
  dir_.Write("campaigns/other.yaml", R"(broadcasts:
  - target: online_users
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
  - target: users
    message: {type: txt, msg: x}
)");
  dir_.Write("campaigns/b.yaml", R"(id: same
broadcasts:
  - target: users
    message: {type: txt, msg: x}
)");
  dir_.Write("campaigns/c.yaml", R"(id: same
broadcasts:
  - target: users
    message: {type: txt, msg: y}
)");
  ScanReport r = Scan(now_);
  EXPECT_EQ(r.created, 1);   // b.yaml
  EXPECT_EQ(r.rejected, 2);  // a.yaml: unknown app; c.yaml: id taken by b.yaml
  std::string all;
  for (const auto& e : r.errors) all += e + "\n";
  EXPECT_NE(all.find("a.yaml: app: \"nosuch\" is not defined"), std::string::npos) << all;
  EXPECT_NE(all.find("c.yaml: id: \"same\" is already used by b.yaml"), std::string::npos) << all;
}

TEST_F(CampaignIngesterTest, RepeatOccurrencesComeAheadOfTimeAsTheHorizonMoves) {
  dir_.Write("campaigns/nightly.yaml", R"(broadcasts:
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
  dir_.Write("campaigns/ok.yaml", R"(broadcasts:
  - target: users
    message: {type: txt, msg: fine}
)");
  ScanReport r = Scan(now_);
  EXPECT_EQ(r.created, 1);
  EXPECT_EQ(r.rejected, 2);
  EXPECT_EQ(Jobs().size(), 1u);
}

}  // namespace
}  // namespace broadcastd
