// The Prometheus exposition (/metrics) read straight from a queue written into the store:
// every series the shipped alerting rules and dashboard read (monitoring/) is there before
// anything happens, and each follows the queue.

#include "web/metrics.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

#include "fakes/queued_store_test.h"

namespace broadcastd {
namespace {

using namespace std::chrono_literals;

// The value of the sample `series` (name and labels exactly as written), if there is one.
std::optional<double> Sample(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(series + " ")) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

constexpr char kUsers[] = "{app=\"main\",target=\"users\"}";

class MetricsTest : public QueuedStoreTest {
 protected:
  std::string Render(TimePoint at) {
    auto ro = Store::Open(config_.database, Store::Mode::kReadOnly);
    EXPECT_TRUE(ro.has_value()) << ro.error().message;
    if (!ro) return {};
    auto text = RenderMetrics(config_, *ro, Instant(at), {});
    EXPECT_TRUE(text.has_value()) << text.error().message;
    return text ? *text : std::string();
  }

  // Claims job `id` at `at` and records `outcome` with `status` a second later.
  void Answer(int64_t id, TimePoint at, OutcomeClass outcome, int status) {
    auto attempt = rw_->ClaimForSending(id, Instant(at));
    ASSERT_TRUE(attempt.has_value()) << attempt.error().message;
    Store::AttemptOutcome answer;
    answer.outcome = outcome;
    answer.http_status = status;
    if (outcome == OutcomeClass::kSent) answer.broadcast_id = "b-" + std::to_string(id);
    ASSERT_TRUE(rw_->RecordOutcome(id, *attempt, answer, Instant(at + 1s)).has_value());
  }
};

TEST_F(MetricsTest, EverySeriesTheRulesReadIsThereBeforeAnythingHappens) {
  const std::string text = Render(now_);
  const std::string users = kUsers;
  EXPECT_EQ(Sample(text, "broadcastd_rate_limited_total" + users), 0) << text;
  EXPECT_EQ(Sample(text, "broadcastd_rate_limited_total{app=\"main\",target=\"chatrooms\"}"), 0);
  EXPECT_EQ(Sample(text, "broadcastd_campaign_file_problems"), 0);
  for (const char* status : {"ok", "rejected", "removed", "refused"}) {
    EXPECT_EQ(Sample(text, "broadcastd_campaign_files{status=\"" + std::string(status) + "\"}"), 0)
        << status;
  }
  EXPECT_EQ(
      Sample(text, "broadcastd_endpoint_jobs{app=\"main\",target=\"users\",state=\"expired\"}"), 0);
  EXPECT_EQ(Sample(text, "broadcastd_endpoint_paused_since_timestamp_seconds" + users), 0);
  EXPECT_EQ(Sample(text, "broadcastd_daily_budget_exhausted" + users), 0);
  EXPECT_EQ(Sample(text, "broadcastd_endpoint_jobs_due_today" + users), 0);
  EXPECT_EQ(Sample(text, "broadcastd_app_token_missing{app=\"main\"}"), 0);
  // SQLite: no lease, the same names as on PostgreSQL.
  EXPECT_EQ(Sample(text, "broadcastd_sender_lease_holder{holder=\"\"}"), 1);
  EXPECT_EQ(Sample(text, "broadcastd_sender_lease_epoch"), 0);
  EXPECT_TRUE(Sample(text, "broadcastd_store_errors_total").has_value());
}

TEST_F(MetricsTest, TheFiguresFollowTheQueue) {
  config_.limits[BroadcastTarget::kUsers].daily = 2;
  AddCampaign("a", 3, BroadcastTarget::kUsers);          // due today from 08:00
  AddCampaign("late", 2, BroadcastTarget::kUsers, 20h);  // due tomorrow 04:00
  const std::vector<int64_t> a = IdsOf("a");
  Answer(a[0], now_, OutcomeClass::kSent, 200);
  Answer(a[1], now_ + 1min, OutcomeClass::kRetry, 429);
  ASSERT_TRUE(rw_->Pause("main", BroadcastTarget::kChatrooms, "maintenance", now_).has_value());
  ASSERT_TRUE(rw_->RejectCampaign("bad.yaml", "h", "line 3: no app", now_).has_value());
  ASSERT_TRUE(
      rw_->SetAppNotice({"main", "token", "401 from the token endpoint", now_}).has_value());

  const std::string text = Render(now_ + 2min);
  const std::string users = kUsers;
  const std::string chatrooms = "{app=\"main\",target=\"chatrooms\"}";
  EXPECT_EQ(Sample(text, "broadcastd_rate_limited_total" + users), 1) << text;
  EXPECT_EQ(Sample(text, "broadcastd_rate_limited_total" + chatrooms), 0);
  // The budget of 2 is spent; a[1] (queued again after the 429) and a[2] fall due today,
  // the two of "late" tomorrow.
  EXPECT_EQ(Sample(text, "broadcastd_daily_budget_exhausted" + users), 1);
  EXPECT_EQ(Sample(text, "broadcastd_daily_budget_remaining" + users), 0);
  EXPECT_EQ(Sample(text, "broadcastd_endpoint_jobs_due_today" + users), 2);
  EXPECT_EQ(Sample(text, "broadcastd_endpoint_queued_jobs" + users), 4);
  EXPECT_EQ(Sample(text, "broadcastd_endpoint_jobs{app=\"main\",target=\"users\",state=\"sent\"}"),
            1);
  EXPECT_EQ(Sample(text, "broadcastd_endpoint_paused" + chatrooms), 1);
  EXPECT_EQ(Sample(text, "broadcastd_endpoint_paused_since_timestamp_seconds" + chatrooms),
            ToMillis(now_) / 1000);
  EXPECT_EQ(Sample(text, "broadcastd_endpoint_paused_since_timestamp_seconds" + users), 0);
  EXPECT_EQ(Sample(text, "broadcastd_campaign_files{status=\"rejected\"}"), 1);
  EXPECT_EQ(Sample(text, "broadcastd_campaign_file_problems"), 1);
  EXPECT_EQ(Sample(text, "broadcastd_app_token_missing{app=\"main\"}"), 1);
}

TEST_F(MetricsTest, JobsDueTodayStopAtTheBudgetDaysEnd) {
  config_.day_boundary = 6h;                                  // the budget day runs from 06:00 UTC
  AddCampaign("a", 2, BroadcastTarget::kUsers, 21h + 59min);  // 05:59 and 06:00 tomorrow
  EXPECT_EQ(Sample(Render(now_), "broadcastd_endpoint_jobs_due_today" + std::string(kUsers)), 1);
}

TEST_F(MetricsTest, StoreErrorsCountTheFailuresOfThisProcess) {
  const auto before = Sample(Render(now_), "broadcastd_store_errors_total");
  ASSERT_TRUE(before.has_value());
  EXPECT_FALSE(Store::Open(dir_ / "no-such-folder" / "q.db", Store::Mode::kReadOnly).has_value());
  EXPECT_EQ(Sample(Render(now_), "broadcastd_store_errors_total"), *before + 1);
}

TEST_F(MetricsTest, PromtoolAcceptsTheExposition) {
  AddCampaign("a", 2, BroadcastTarget::kUsers);
  ASSERT_TRUE(rw_->Pause("main", BroadcastTarget::kUsers, "a \"quoted\" reason", now_).has_value());
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "promtool (Debian package prometheus) not installed";
  }
  const auto file = dir_ / "metrics.txt";
  std::ofstream(file) << Render(now_);
  const std::string out = (dir_ / "promtool.out").string();
  const std::string command = "promtool check metrics < " + file.string() + " > " + out + " 2>&1";
  EXPECT_EQ(std::system(command.c_str()), 0) << std::ifstream(out).rdbuf();
}

}  // namespace
}  // namespace broadcastd
