#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/store.h"
#include "store_test_support.h"

namespace broadcastd::testing_store {
namespace {

using ::testing::HasSubstr;

class StoreOperator : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    ASSERT_TRUE(store().ApplyCampaign(
        File("a.yaml", "promo", "h1"),
        {Spec("queued", "once", kT0 + 1h), Spec("ready", "once", kT0), Spec("sending", "once", kT0),
         Spec("unknown", "once", kT0), Spec("sent", "once", kT0)},
        kT0, kT0));
    ASSERT_TRUE(store().ClaimForSending(JobNamed("sending").id, Instant(kT0)).has_value());
    Attempt(JobNamed("unknown").id, OutcomeClass::kUnknown, kT0);
    Attempt(JobNamed("sent").id, OutcomeClass::kSent, kT0, "99");
  }

  // An operator command runs in its own process: its own connection, while the daemon's
  // stays open.
  Store OperatorStore() {
    auto opened = OpenStore(Store::Mode::kReadWrite);
    EXPECT_TRUE(opened.has_value());
    return std::move(*opened);
  }
};

TEST_F(StoreOperator, CancelJobRefusesASendingJob) {
  Store op = OperatorStore();
  auto cancel = op.CancelJob(JobNamed("sending").id, kT0 + 1s);
  ASSERT_FALSE(cancel.has_value());
  EXPECT_THAT(cancel.error().message, HasSubstr("is sending"));
  EXPECT_THAT(cancel.error().message, HasSubstr("in flight"));
  EXPECT_EQ(JobNamed("sending").state, JobState::kSending);

  EXPECT_FALSE(op.CancelJob(JobNamed("sent").id, kT0).has_value());
  EXPECT_THAT(op.CancelJob(424242, kT0).error().message, HasSubstr("does not exist"));
  EXPECT_TRUE(op.OperatorActions().value().empty());
}

TEST_F(StoreOperator, CancelJobTakesQueuedAndUnknownJobs) {
  Store op = OperatorStore();
  for (const char* name : {"queued", "ready", "unknown"}) {
    SCOPED_TRACE(name);
    int64_t id = JobNamed(name).id;
    ASSERT_TRUE(op.CancelJob(id, kT0 + 1s));
    EXPECT_EQ(JobNamed(name).state, JobState::kCancelled);
    EXPECT_EQ(JobNamed(name).last_error, "cancelled by an operator");
    auto actions = op.OperatorActions(id).value();
    ASSERT_EQ(actions.size(), 1u);
    EXPECT_EQ(actions[0].action, "cancel_job");
    EXPECT_EQ(actions[0].at, kT0 + 1s);
  }
  // The daemon's connection can no longer claim it.
  EXPECT_FALSE(store().ClaimForSending(JobNamed("ready").id, Instant(kT0 + 2s)).has_value());
}

TEST_F(StoreOperator, CancelCampaignTakesQueuedAndUnknownJobsOnly) {
  ASSERT_TRUE(
      store().ApplyCampaign(File("b.yaml", "other", "h1"), {Spec("x", "once", kT0)}, kT0, kT0));
  Store op = OperatorStore();
  auto cancelled = op.CancelCampaign("promo", kT0 + 1s);
  ASSERT_TRUE(cancelled.has_value()) << cancelled.error().message;
  EXPECT_EQ(*cancelled, 3);
  EXPECT_EQ(JobNamed("queued").state, JobState::kCancelled);
  EXPECT_EQ(JobNamed("ready").state, JobState::kCancelled);
  EXPECT_EQ(JobNamed("unknown").state, JobState::kCancelled);
  EXPECT_EQ(JobNamed("sending").state, JobState::kSending);
  EXPECT_EQ(JobNamed("sent").state, JobState::kSent);
  EXPECT_EQ(JobNamed("x").state, JobState::kReady);
  EXPECT_EQ(op.OperatorActions().value().at(0).action, "cancel_campaign");

  auto missing = op.CancelCampaign("nope", kT0);
  ASSERT_FALSE(missing.has_value());
  EXPECT_THAT(missing.error().message, HasSubstr("'nope'"));

  // An operator's cancellation sticks when the file changes.
  ASSERT_TRUE(store().ApplyCampaign(File("a.yaml", "promo", "h2"),
                                    {Spec("queued", "once", kT0 + 1h, "{}")}, kT0, kT0 + 2s));
  EXPECT_EQ(JobNamed("queued").state, JobState::kCancelled);
}

TEST_F(StoreOperator, PauseAndResume) {
  Store op = OperatorStore();
  ASSERT_TRUE(op.Pause("main", BroadcastTarget::kUsers, "quiet hours", kT0));
  ASSERT_TRUE(op.Pause("main", BroadcastTarget::kUsers, "still quiet", kT0 + 1min));
  auto pauses = store().Pauses().value();
  ASSERT_EQ(pauses.size(), 1u);
  EXPECT_EQ(pauses[0].reason, "still quiet");
  EXPECT_EQ(pauses[0].since, kT0);
  EXPECT_FALSE(store().ClaimForSending(JobNamed("ready").id, Instant(kT0 + 2min)).has_value());

  ASSERT_TRUE(op.Resume("main", BroadcastTarget::kUsers, kT0 + 3min));
  EXPECT_TRUE(store().Pauses().value().empty());
  EXPECT_TRUE(store().ClaimForSending(JobNamed("ready").id, Instant(kT0 + 4min)).has_value());
  auto again = op.Resume("main", BroadcastTarget::kUsers, kT0 + 5min);
  ASSERT_FALSE(again.has_value());
  EXPECT_THAT(again.error().message, HasSubstr("main users is not paused"));

  auto actions = op.OperatorActions().value();
  ASSERT_EQ(actions.size(), 3u);
  EXPECT_EQ(actions[0].action, "pause");
  EXPECT_EQ(actions[2].action, "resume");
}

TEST_F(StoreOperator, ResolveSentKeepsTheBroadcastIdAndANote) {
  Store op = OperatorStore();
  int64_t id = JobNamed("unknown").id;
  ASSERT_TRUE(op.ResolveSent(id, "18446744073709551615", kT0 + 1h));
  JobRow job = JobNamed("unknown");
  EXPECT_EQ(job.state, JobState::kSent);
  EXPECT_EQ(job.broadcast_id, "18446744073709551615");
  auto actions = op.OperatorActions(id).value();
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].action, "resolve_sent");
  EXPECT_THAT(actions[0].detail, HasSubstr("18446744073709551615"));
  // The attempt history stays as it was.
  EXPECT_EQ(op.AttemptsOf(id).value().at(0).outcome, OutcomeClass::kUnknown);
  // Only unknown jobs are resolved.
  EXPECT_THAT(op.ResolveSent(id, std::nullopt, kT0).error().message, HasSubstr("is sent"));
  EXPECT_FALSE(op.ResolveSent(JobNamed("ready").id, std::nullopt, kT0).has_value());
}

TEST_F(StoreOperator, ResolveNotSentQueuesTheJobAgain) {
  Store op = OperatorStore();
  int64_t id = JobNamed("unknown").id;
  ASSERT_TRUE(op.ResolveNotSent(id, kT0 + 1h));
  JobRow job = JobNamed("unknown");
  EXPECT_EQ(job.state, JobState::kReady);
  EXPECT_EQ(job.not_before, kT0 + 1h);
  EXPECT_EQ(job.attempts, 1);  // its history is kept
  EXPECT_EQ(op.OperatorActions(id).value().at(0).action, "resolve_not_sent");
  EXPECT_TRUE(store().ClaimForSending(id, Instant(kT0 + 1h)).has_value());
  EXPECT_FALSE(op.ResolveNotSent(JobNamed("sending").id, kT0).has_value());
}

}  // namespace
}  // namespace broadcastd::testing_store
