// The store's reads behind /metrics' rate-limited counter and jobs due today, on both
// backends (store_test_support.h).

#include <gtest/gtest.h>

#include <map>

#include "store_test_support.h"

namespace broadcastd::testing_store {
namespace {

class StoreStatusReads : public StoreTest {
 protected:
  // Claims job `id` at `at` and records `outcome` with HTTP `status` a second later.
  void Answer(int64_t id, TimePoint at, OutcomeClass outcome, int status) {
    auto attempt = store().ClaimForSending(id, Instant(at));
    ASSERT_TRUE(attempt.has_value()) << attempt.error().message;
    Store::AttemptOutcome answer;
    answer.outcome = outcome;
    answer.http_status = status;
    if (outcome == OutcomeClass::kSent) answer.broadcast_id = "b-" + std::to_string(id);
    ASSERT_TRUE(store().RecordOutcome(id, *attempt, answer, Instant(at + 1s)).has_value());
  }
};

TEST_F(StoreStatusReads, RateLimitedCountsOnlyThe429AnswersByEndpoint) {
  std::vector<Store::JobSpec> specs;
  for (int i = 0; i < 4; ++i) specs.push_back(Spec("b" + std::to_string(i), "once", kT0));
  specs.push_back(Spec("c", "once", kT0, R"({"msg":"hi"})", BroadcastTarget::kChatrooms));
  ASSERT_TRUE(store().ApplyCampaign(File("a.yaml", "a", "h"), specs, kT0, kT0).has_value());
  auto jobs = store().Jobs({.campaign_id = "a"});
  ASSERT_TRUE(jobs.has_value());
  ASSERT_EQ(jobs->size(), 5u);
  std::map<std::string, int64_t> id;
  for (const JobRow& j : *jobs) id[j.broadcast] = j.id;

  Answer(id["b0"], kT0, OutcomeClass::kRetry, 429);
  Answer(id["b1"], kT0 + 1min, OutcomeClass::kRetry, 503);
  Answer(id["b0"], kT0 + 2min, OutcomeClass::kRetry, 429);
  Answer(id["b2"], kT0 + 3min, OutcomeClass::kSent, 200);
  Answer(id["c"], kT0 + 4min, OutcomeClass::kRetry, 429);

  auto counts = store().CountRateLimited();
  ASSERT_TRUE(counts.has_value()) << counts.error().message;
  std::map<BroadcastTarget, int64_t> by_target;
  for (const auto& c : *counts) {
    EXPECT_EQ(c.app, "main");
    by_target[c.target] += c.count;
  }
  EXPECT_EQ(by_target, (std::map<BroadcastTarget, int64_t>{{BroadcastTarget::kUsers, 2},
                                                           {BroadcastTarget::kChatrooms, 1}}));
  EXPECT_EQ(counts->size(), 2u) << "one row per endpoint";
}

TEST_F(StoreStatusReads, QueuedDueBeforeCountsScheduledAndReadyJobsDueBeforeTheEnd) {
  std::vector<Store::JobSpec> specs;
  for (int i = 0; i < 4; ++i) {
    specs.push_back(Spec("b" + std::to_string(i), "once", kT0 + std::chrono::hours(i)));
  }
  specs.push_back(Spec("c", "once", kT0, R"({"msg":"hi"})", BroadcastTarget::kChatrooms));
  ASSERT_TRUE(store().ApplyCampaign(File("a.yaml", "a", "h"), specs, kT0, kT0).has_value());
  auto jobs = store().Jobs({.campaign_id = "a"});
  ASSERT_TRUE(jobs.has_value());
  ASSERT_TRUE(store().PromoteDue(kT0).has_value());  // b0 and c ready, the others scheduled
  int64_t b1 = 0;
  for (const JobRow& j : *jobs) b1 = j.broadcast == "b1" ? j.id : b1;
  ASSERT_TRUE(store().CancelJob(b1, kT0).has_value());

  // b0 (ready, 08:00) and b2 (scheduled, 10:00); not b1 (cancelled), not b3 (due at the
  // end itself), not c (another endpoint).
  auto n = store().CountQueuedDueBefore("main", BroadcastTarget::kUsers, kT0 + 3h);
  ASSERT_TRUE(n.has_value()) << n.error().message;
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(store().CountQueuedDueBefore("main", BroadcastTarget::kUsers, kT0).value(), 0);
  EXPECT_EQ(store().CountQueuedDueBefore("other", BroadcastTarget::kUsers, kT0 + 3h).value(), 0);
}

}  // namespace
}  // namespace broadcastd::testing_store
