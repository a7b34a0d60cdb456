// The status report at scale: filters, keyset paging, the single read snapshot, the
// trigger-kept counts, the forecast's bounded head.

#include "status/gather_status.h"

#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <set>

#include "core/time_format.h"
#include "fakes/queued_store_test.h"
#include "fakes/temp_dir.h"
#include "fakes/test_config.h"

namespace broadcastd {
namespace {

using namespace std::chrono_literals;

class GatherStatusTest : public QueuedStoreTest {
 protected:
  StatusReport Gather(const StatusQuery& query) {
    auto ro = Store::Open(config_.database, Store::Mode::kReadOnly);
    EXPECT_TRUE(ro.has_value());
    auto report = GatherStatus(config_, *ro, Instant(now_), query, {});
    EXPECT_TRUE(report.has_value()) << report.error().message;
    return std::move(*report);
  }

  static std::vector<int64_t> Listed(const StatusReport& r) {
    std::vector<int64_t> ids;
    for (const auto& j : r.jobs) ids.push_back(j.row.id);
    return ids;
  }
};

TEST_F(GatherStatusTest, FiltersSelectByStateCampaignAppAndTarget) {
  AddCampaign("a", 3, BroadcastTarget::kUsers);
  AddCampaign("b", 2, BroadcastTarget::kChatrooms, 2h);
  std::vector<int64_t> a = IdsOf("a"), b = IdsOf("b");
  MakeUnknown(a[1]);

  StatusReport all = Gather({});
  // Unknown first, then the next to go out (ready by due, then scheduled by due).
  EXPECT_EQ(Listed(all), (std::vector<int64_t>{a[1], a[0], a[2], b[0], b[1]}));
  EXPECT_EQ(all.jobs_by_state["unknown"], 1);
  EXPECT_EQ(all.jobs_by_state["ready"], 1);
  EXPECT_EQ(all.jobs_by_state["scheduled"], 3);
  EXPECT_EQ(all.unknown_jobs, 1);
  for (const auto& j : all.jobs) EXPECT_TRUE(j.row.body.empty()) << "bodies are never read";

  EXPECT_EQ(Listed(Gather({.state = JobState::kScheduled})),
            (std::vector<int64_t>{a[2], b[0], b[1]}));
  EXPECT_EQ(Listed(Gather({.campaign_id = "b"})), b);
  EXPECT_EQ(Listed(Gather({.target = BroadcastTarget::kUsers})),
            (std::vector<int64_t>{a[1], a[0], a[2]}));
  EXPECT_TRUE(Listed(Gather({.app = "other"})).empty());
  EXPECT_EQ(Listed(Gather({.state = JobState::kUnknown, .app = "main"})),
            (std::vector<int64_t>{a[1]}));

  StatusReport limited = Gather({.limit = 2});
  EXPECT_EQ(Listed(limited), (std::vector<int64_t>{a[1], a[0]}));
  ASSERT_TRUE(limited.next_cursor.has_value());
  EXPECT_FALSE(all.next_cursor.has_value()) << "a page that is not full is the last";
}

TEST_F(GatherStatusTest, AJobInsertedBetweenPagesIsNeitherDuplicatedNorSkipped) {
  AddCampaign("a", 5, BroadcastTarget::kUsers, 1h);
  StatusReport first = Gather({.limit = 3});
  ASSERT_EQ(first.jobs.size(), 3u);
  ASSERT_TRUE(first.next_cursor.has_value());

  // Lands after the cursor (due later), and one lands before it (due earlier): the next
  // page shows the first and not the second, and repeats nothing.
  AddCampaign("late", 1, BroadcastTarget::kUsers, 10h);
  AddCampaign("early", 1, BroadcastTarget::kUsers, 30min);
  auto after = ParseCursor(*first.next_cursor);
  ASSERT_TRUE(after.has_value());
  StatusReport second = Gather({.after = *after, .limit = 3});
  ASSERT_TRUE(second.next_cursor.has_value());
  StatusReport third = Gather({.after = *ParseCursor(*second.next_cursor), .limit = 3});
  EXPECT_FALSE(third.next_cursor.has_value());

  std::vector<int64_t> seen = Listed(first);
  for (const auto* page : {&second, &third}) {
    for (int64_t id : Listed(*page)) seen.push_back(id);
  }
  std::vector<int64_t> expected = IdsOf("a");
  expected.push_back(IdsOf("late")[0]);
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()).size(), seen.size());
}

TEST_F(GatherStatusTest, CursorsRoundTripAndRejectGarbage) {
  Store::ListingKey key{JobState::kReady, T("2027-03-01T08:00:00.250Z"), 42};
  auto back = ParseCursor(EncodeCursor(key));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->state, key.state);
  EXPECT_EQ(back->due, key.due);
  EXPECT_EQ(back->id, 42);
  for (const char* bad : {"", "ready", "ready.1", "nosuch.1.2", "ready.x.2", "ready.1.2.3"}) {
    EXPECT_FALSE(ParseCursor(bad).has_value()) << bad;
  }
}

TEST_F(GatherStatusTest, ASnapshotDoesNotSeeCommitsMadeDuringIt) {
  AddCampaign("a", 2, BroadcastTarget::kUsers);
  auto ro = Store::Open(config_.database, Store::Mode::kReadOnly);
  ASSERT_TRUE(ro.has_value());
  ASSERT_TRUE(ro->BeginSnapshot().has_value());
  auto before = ro->CountJobs();
  ASSERT_TRUE(before.has_value());

  AddCampaign("b", 3, BroadcastTarget::kUsers);  // commits meanwhile

  auto counts = ro->CountJobs();
  auto listed = ro->ListJobs({.states = {JobState::kReady, JobState::kScheduled}, .limit = 100});
  ASSERT_TRUE(counts.has_value() && listed.has_value());
  int64_t total = 0;
  for (const auto& c : *counts) total += c.count;
  EXPECT_EQ(total, 2);
  EXPECT_EQ(listed->size(), 2u) << "the listing sees the same snapshot as the counts";
  ro->EndSnapshot();

  auto after = ro->ListJobs({.states = {JobState::kReady, JobState::kScheduled}, .limit = 100});
  EXPECT_EQ(after->size(), 5u);
}

TEST_F(GatherStatusTest, TriggerKeptCountsMatchTheJobs) {
  AddCampaign("a", 4, BroadcastTarget::kUsers);
  AddCampaign("b", 3, BroadcastTarget::kOnlineUsers, 1h);
  std::vector<int64_t> a = IdsOf("a");
  MakeUnknown(a[0]);
  ASSERT_TRUE(rw_->CancelJob(a[1], now_).has_value());
  ASSERT_TRUE(rw_->RemoveCampaign("b", now_).has_value());
  ASSERT_TRUE(rw_->PromoteDue(now_ + 2h).has_value());

  SQLite::Database raw(config_.database, SQLite::OPEN_READONLY);
  SQLite::Statement q(raw,
                      "SELECT app, target, state, count(*) FROM jobs "
                      "GROUP BY app, target, state ORDER BY app, target, state");
  std::vector<std::string> expected;
  while (q.executeStep()) {
    expected.push_back(q.getColumn(0).getString() + "/" + q.getColumn(1).getString() + "/" +
                       q.getColumn(2).getString() + "=" + q.getColumn(3).getString());
  }
  auto counts = rw_->CountJobs();
  ASSERT_TRUE(counts.has_value());
  std::vector<std::string> got;
  for (const auto& c : *counts) {
    got.push_back(c.app + "/" + std::string(TargetName(c.target)) + "/" +
                  std::string(JobStateName(c.state)) + "=" + std::to_string(c.count));
  }
  std::sort(got.begin(), got.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(got, expected);
}

TEST_F(GatherStatusTest, TheForecastOfADeepJobIsBoundedByTheFirstJobLeftOut) {
  // More queued jobs on one endpoint than the forecast simulates: a job past the head
  // is shown as not before the first job left out, and those in the head are exact.
  std::vector<Store::JobSpec> specs;
  for (size_t i = 0; i < kForecastHeadCap + 10; ++i) {
    Store::JobSpec spec;
    spec.broadcast = "b" + std::to_string(i);
    spec.occurrence = "once";
    spec.app = "main";
    spec.target = BroadcastTarget::kChatrooms;
    spec.body = "{}";
    spec.due = now_ + std::chrono::seconds(i);
    specs.push_back(spec);
  }
  ASSERT_TRUE(rw_->ApplyCampaign({"deep", "deep", "h", "main", 0}, specs, now_, now_));
  StatusReport head = Gather({.limit = 1});
  ASSERT_EQ(head.jobs.size(), 1u);
  ASSERT_TRUE(head.jobs[0].forecast.has_value());
  EXPECT_EQ(head.jobs[0].forecast->kind, Scheduler::ForecastEntry::kSend);
  EXPECT_EQ(head.jobs[0].forecast->at, now_);

  auto jobs = rw_->Jobs({.campaign_id = "deep"});
  const JobRow& last = jobs->back();
  StatusReport deep =
      Gather({.after = Store::ListingKey{last.state, last.due, last.id - 1}, .limit = 1});
  ASSERT_EQ(deep.jobs.size(), 1u);
  ASSERT_TRUE(deep.jobs[0].forecast.has_value());
  EXPECT_EQ(deep.jobs[0].forecast->kind, Scheduler::ForecastEntry::kBeyondHorizon);
  EXPECT_EQ(deep.jobs[0].forecast->at, now_ + std::chrono::seconds(kForecastHeadCap));
}

}  // namespace
}  // namespace broadcastd
