#include "scheduler/scheduler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "core/time_format.h"

namespace broadcastd {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

TimePoint At(const char* text) { return ParseRfc3339(text).value(); }

const EndpointKey kUsers{"main", BroadcastTarget::kUsers};
const EndpointKey kOnline{"main", BroadcastTarget::kOnlineUsers};
const EndpointKey kRooms{"main", BroadcastTarget::kChatrooms};
const EndpointKey kOtherUsers{"other", BroadcastTarget::kUsers};
const AttemptResult kOk{OutcomeClass::kSent, 200, std::nullopt};
const TimePoint kT0 = At("2027-03-01T10:00:00Z");

QueuedJob Job(int64_t id, const EndpointKey& endpoint, int64_t priority, TimePoint due) {
  QueuedJob job;
  job.id = id;
  job.endpoint = endpoint;
  job.priority = priority;
  job.due = due;
  return job;
}

// Sends the decision's jobs, all successfully, at `now`.
void SendAll(Scheduler& scheduler, const Decision& decision, TimePoint now) {
  for (int64_t id : decision.send) {
    const QueuedJob job = *scheduler.Find(id);
    scheduler.Begin(id, Instant(now));
    scheduler.Finish(job, Instant(now), kOk);
  }
}

TEST(SchedulerTest, EmptyQueueDecidesNothing) {
  Scheduler scheduler{LimiterOptions{}};
  const Decision d = scheduler.Decide(Instant(kT0));
  EXPECT_THAT(d.send, IsEmpty());
  EXPECT_THAT(d.expire, IsEmpty());
  EXPECT_FALSE(d.next.has_value());
}

TEST(SchedulerTest, OrderIsPriorityThenDueThenId) {
  Scheduler scheduler{LimiterOptions{}};
  scheduler.Upsert(Job(5, kOnline, 0, kT0 - hours(2)));
  scheduler.Upsert(Job(4, kOnline, 1, kT0 - minutes(5)));
  scheduler.Upsert(Job(3, kOnline, 1, kT0 - minutes(5)));
  scheduler.Upsert(Job(2, kOnline, 1, kT0 - minutes(30)));
  scheduler.Upsert(Job(1, kOnline, 2, kT0 - minutes(1)));
  std::vector<int64_t> order;
  TimePoint t = kT0;
  while (scheduler.size() > 0) {
    const Decision d = scheduler.Decide(Instant(t));
    ASSERT_EQ(d.send.size(), 1u);
    order.push_back(d.send[0]);
    SendAll(scheduler, d, t);
    t = scheduler.Decide(Instant(t)).next.value_or(t);
  }
  EXPECT_THAT(order, ElementsAre(1, 2, 3, 4, 5));
}

TEST(SchedulerTest, AtMostOnePerEndpointAndEndpointsIndependent) {
  Scheduler scheduler{LimiterOptions{}};
  scheduler.Upsert(Job(1, kUsers, 0, kT0));
  scheduler.Upsert(Job(2, kUsers, 0, kT0));
  scheduler.Upsert(Job(3, kOtherUsers, 0, kT0));
  scheduler.Upsert(Job(4, kRooms, 0, kT0));
  const Decision d = scheduler.Decide(Instant(kT0));
  EXPECT_THAT(d.send, UnorderedElementsAre(1, 3, 4));
}

TEST(SchedulerTest, DecideChangesNothing) {
  Scheduler scheduler{LimiterOptions{}};
  scheduler.Upsert(Job(1, kUsers, 0, kT0));
  scheduler.Upsert(Job(2, kUsers, 0, kT0 + hours(1)));
  const Decision first = scheduler.Decide(Instant(kT0 + hours(2)));
  const Decision again = scheduler.Decide(Instant(kT0 + hours(2)));
  EXPECT_EQ(scheduler.size(), 2u);
  EXPECT_EQ(first.send, again.send);
  EXPECT_EQ(first.next, again.next);
  // Asking about an earlier time afterwards still answers for that time.
  const Decision earlier = scheduler.Decide(Instant(kT0 - minutes(1)));
  EXPECT_THAT(earlier.send, IsEmpty());
  EXPECT_EQ(earlier.next, kT0);
}

TEST(SchedulerTest, FutureSendAtWaitsAndNextIsItsDueTime) {
  Scheduler scheduler{LimiterOptions{}};
  scheduler.Upsert(Job(1, kOnline, 9, kT0 + minutes(10)));
  Decision d = scheduler.Decide(Instant(kT0));
  EXPECT_THAT(d.send, IsEmpty());
  EXPECT_EQ(d.next, kT0 + minutes(10));
  EXPECT_THAT(scheduler.Decide(Instant(kT0 + minutes(10) - Duration{1})).send, IsEmpty());
  EXPECT_THAT(scheduler.Decide(Instant(kT0 + minutes(10))).send, ElementsAre(1));
}

TEST(SchedulerTest, HigherPriorityNotYetDueDoesNotBlock) {
  Scheduler scheduler{LimiterOptions{}};
  scheduler.Upsert(Job(1, kOnline, 9, kT0 + minutes(10)));
  scheduler.Upsert(Job(2, kOnline, 0, kT0));
  const Decision d = scheduler.Decide(Instant(kT0));
  EXPECT_THAT(d.send, ElementsAre(2));
  EXPECT_EQ(d.next, kT0 + minutes(10)) << "when the better job is due the pick may change";
}

TEST(SchedulerTest, NotBeforeHoldsAJob) {
  Scheduler scheduler{LimiterOptions{}};
  QueuedJob job = Job(1, kOnline, 0, kT0 - hours(1));
  job.not_before = kT0 + seconds(90);
  scheduler.Upsert(job);
  EXPECT_THAT(scheduler.Decide(Instant(kT0)).send, IsEmpty());
  EXPECT_EQ(scheduler.Decide(Instant(kT0)).next, kT0 + seconds(90));
  EXPECT_THAT(scheduler.Decide(Instant(kT0 + seconds(90))).send, ElementsAre(1));
}

TEST(SchedulerTest, NextIsExactlyWhenTheWindowOpens) {
  Scheduler scheduler{LimiterOptions{}};
  scheduler.Upsert(Job(1, kUsers, 0, kT0));
  scheduler.Upsert(Job(2, kUsers, 0, kT0));
  SendAll(scheduler, scheduler.Decide(Instant(kT0)), kT0);
  const Decision d = scheduler.Decide(Instant(kT0));
  EXPECT_THAT(d.send, IsEmpty());
  const TimePoint open = kT0 + minutes(30) + Duration{500};
  EXPECT_EQ(d.next, open);
  EXPECT_THAT(scheduler.Decide(Instant(open - Duration{1})).send, IsEmpty());
  EXPECT_THAT(scheduler.Decide(Instant(open)).send, ElementsAre(2));
}

TEST(SchedulerTest, NextWaitsForBothWindowAndDueTime) {
  Scheduler scheduler{LimiterOptions{}};
  scheduler.Upsert(Job(1, kUsers, 0, kT0));
  scheduler.Upsert(Job(2, kUsers, 0, kT0 + minutes(10)));  // due before the window opens
  scheduler.Upsert(Job(3, kOnline, 0, kT0 + hours(2)));    // another endpoint, later
  SendAll(scheduler, scheduler.Decide(Instant(kT0)), kT0);
  EXPECT_EQ(scheduler.Decide(Instant(kT0)).next, kT0 + minutes(30) + Duration{500});
  SendAll(scheduler, scheduler.Decide(Instant(kT0 + minutes(30) + Duration{500})),
          kT0 + minutes(30) + Duration{500});
  EXPECT_EQ(scheduler.Decide(Instant(kT0 + minutes(31))).next, kT0 + hours(2));
}

TEST(SchedulerTest, NextIsTheNextDayWhenTheBudgetIsSpent) {
  Scheduler scheduler{LimiterOptions{}};
  for (int64_t id = 1; id <= 4; ++id) scheduler.Upsert(Job(id, kUsers, 0, kT0));
  TimePoint t = kT0;
  for (int i = 0; i < 3; ++i) {
    const Decision d = scheduler.Decide(Instant(t));
    ASSERT_EQ(d.send.size(), 1u) << i;
    SendAll(scheduler, d, t);
    t = *scheduler.Decide(Instant(t)).next;
  }
  EXPECT_EQ(t, At("2027-03-02T00:00:00Z"));
  EXPECT_THAT(scheduler.Decide(Instant(t)).send, ElementsAre(4));
}

TEST(SchedulerTest, ExpiredJobsAreListedNeverSent) {
  Scheduler scheduler{LimiterOptions{}};
  QueuedJob best = Job(1, kOnline, 5, kT0 - hours(1));
  best.expires = kT0;
  QueuedJob later = Job(2, kOnline, 0, kT0 - hours(1));
  later.expires = kT0 + minutes(3);
  scheduler.Upsert(best);
  scheduler.Upsert(later);
  Decision d = scheduler.Decide(Instant(kT0 - Duration{1}));
  EXPECT_THAT(d.send, ElementsAre(1));
  d = scheduler.Decide(Instant(kT0));
  EXPECT_THAT(d.expire, ElementsAre(1)) << "expires <= now";
  EXPECT_THAT(d.send, ElementsAre(2));
  EXPECT_EQ(d.next, kT0 + minutes(3));
  scheduler.Remove(1);
  SendAll(scheduler, d, kT0);
  EXPECT_EQ(scheduler.size(), 0u);
}

TEST(SchedulerTest, NextIncludesExpiryOfAWaitingJob) {
  Scheduler scheduler{LimiterOptions{}};
  scheduler.Upsert(Job(1, kUsers, 0, kT0));
  QueuedJob waiting = Job(2, kUsers, 0, kT0);
  waiting.expires = kT0 + minutes(20);  // before the window opens again
  scheduler.Upsert(waiting);
  SendAll(scheduler, scheduler.Decide(Instant(kT0)), kT0);
  Decision d = scheduler.Decide(Instant(kT0));
  EXPECT_EQ(d.next, kT0 + minutes(20));
  d = scheduler.Decide(Instant(kT0 + minutes(20)));
  EXPECT_THAT(d.expire, ElementsAre(2));
  EXPECT_THAT(d.send, IsEmpty());
  EXPECT_FALSE(d.next.has_value()) << "nothing left that time alone would release";
}

TEST(SchedulerTest, PausedEndpointSendsNothingButStillExpires) {
  Scheduler scheduler{LimiterOptions{}};
  scheduler.Upsert(Job(1, kRooms, 0, kT0));
  QueuedJob expiring = Job(2, kRooms, 0, kT0);
  expiring.expires = kT0 + hours(1);
  scheduler.Upsert(expiring);
  scheduler.Upsert(Job(3, kOnline, 0, kT0));
  scheduler.SetPaused(kRooms, true);
  Decision d = scheduler.Decide(Instant(kT0));
  EXPECT_THAT(d.send, ElementsAre(3));
  EXPECT_EQ(d.next, kT0 + hours(1));
  d = scheduler.Decide(Instant(kT0 + hours(1)));
  EXPECT_THAT(d.expire, ElementsAre(2));
  scheduler.Remove(2);
  scheduler.SetPaused(kRooms, false);
  EXPECT_THAT(scheduler.Decide(Instant(kT0 + hours(1))).send, UnorderedElementsAre(1, 3));
}

// A held job (its campaign adopted by a new queue, not confirmed) is never sent, lets the
// endpoint's other jobs go, still expires, and goes once released.
TEST(SchedulerTest, HeldJobsAreNeverSentButStillExpire) {
  Scheduler scheduler{LimiterOptions{}};
  scheduler.ReplaceHeld({1, 2, 4});  // 4 is not queued yet: held when it comes
  scheduler.Upsert(Job(1, kRooms, 5, kT0));
  QueuedJob expiring = Job(2, kRooms, 5, kT0);
  expiring.expires = kT0 + hours(1);
  scheduler.Upsert(expiring);
  scheduler.Upsert(Job(3, kRooms, 0, kT0 + seconds(1)));
  scheduler.Upsert(Job(4, kOnline, 0, kT0));
  EXPECT_TRUE(scheduler.IsHeld(4));
  Decision d = scheduler.Decide(Instant(kT0));
  EXPECT_THAT(d.send, IsEmpty());
  EXPECT_EQ(d.next, kT0 + seconds(1));
  d = scheduler.Decide(Instant(kT0 + seconds(1)));
  EXPECT_THAT(d.send, ElementsAre(3));
  d = scheduler.Decide(Instant(kT0 + hours(1)));
  EXPECT_THAT(d.expire, ElementsAre(2));
  scheduler.Remove(2);
  scheduler.Remove(3);

  scheduler.ReplaceHeld({4});
  EXPECT_FALSE(scheduler.IsHeld(1));
  EXPECT_THAT(scheduler.Decide(Instant(kT0 + hours(1))).send, ElementsAre(1));
  scheduler.ReplaceHeld({});
  EXPECT_THAT(scheduler.Decide(Instant(kT0 + hours(1))).send, UnorderedElementsAre(1, 4));
}

TEST(SchedulerTest, UpsertReplacesAndRemoveDrops) {
  Scheduler scheduler{LimiterOptions{}};
  scheduler.Upsert(Job(1, kOnline, 0, kT0));
  scheduler.Upsert(Job(1, kOnline, 0, kT0 + hours(1)));  // the campaign file changed
  EXPECT_EQ(scheduler.size(), 1u);
  EXPECT_THAT(scheduler.Decide(Instant(kT0)).send, IsEmpty());
  EXPECT_EQ(scheduler.Decide(Instant(kT0)).next, kT0 + hours(1));
  scheduler.Upsert(Job(1, kRooms, 0, kT0));  // and its target
  EXPECT_THAT(scheduler.Decide(Instant(kT0)).send, ElementsAre(1));
  scheduler.Remove(1);
  scheduler.Remove(99);
  EXPECT_EQ(scheduler.size(), 0u);
  EXPECT_THAT(scheduler.Decide(Instant(kT0)).send, IsEmpty());
}

TEST(SchedulerTest, RetryRequeuesWithTheEndpointsNextAllowedTime) {
  LimiterOptions options;
  options.backoff_base = Duration{0};
  Scheduler scheduler(options);
  scheduler.Upsert(Job(1, kOnline, 0, kT0));
  const QueuedJob job = *scheduler.Find(1);
  scheduler.Begin(1, Instant(kT0));
  EXPECT_EQ(scheduler.size(), 0u);
  const auto not_before =
      scheduler.Finish(job, Instant(kT0 + seconds(2)), {OutcomeClass::kRetry, 429, {}});
  const TimePoint expected = kT0 + seconds(2) + minutes(1) + Duration{500};
  EXPECT_EQ(not_before, expected) << "the window again from the 429";
  ASSERT_NE(scheduler.Find(1), std::nullopt);
  EXPECT_EQ(scheduler.Find(1)->not_before, expected);
  EXPECT_THAT(scheduler.Decide(Instant(expected - Duration{1})).send, IsEmpty());
  EXPECT_THAT(scheduler.Decide(Instant(expected)).send, ElementsAre(1));
}

TEST(SchedulerTest, LimitExceededRequeuesForTheNextDay) {
  Scheduler scheduler{LimiterOptions{}};
  scheduler.Upsert(Job(1, kRooms, 0, kT0));
  const QueuedJob job = *scheduler.Find(1);
  scheduler.Begin(1, Instant(kT0));
  EXPECT_EQ(scheduler.Finish(job, Instant(kT0), {OutcomeClass::kNextDay, 403, {}}),
            At("2027-03-02T00:00:00Z"));
  EXPECT_EQ(scheduler.Decide(Instant(kT0)).next, At("2027-03-02T00:00:00Z"));
}

TEST(SchedulerTest, TerminalAnswersEndTheJobAndUnopenedPauses) {
  Scheduler scheduler{LimiterOptions{}};
  int64_t id = 0;
  for (OutcomeClass outcome : {OutcomeClass::kSent, OutcomeClass::kPermanent,
                               OutcomeClass::kUnknown, OutcomeClass::kUnopened}) {
    scheduler.Upsert(Job(++id, kRooms, 0, kT0));
    const QueuedJob job = *scheduler.Find(id);
    scheduler.Begin(id, Instant(kT0 + seconds(10 * id)));
    EXPECT_FALSE(
        scheduler.Finish(job, Instant(kT0 + seconds(10 * id)), {outcome, {}, {}}).has_value());
    EXPECT_EQ(scheduler.Find(id), std::nullopt) << OutcomeName(outcome) << " is never resent";
  }
  EXPECT_TRUE(scheduler.IsPaused(kRooms));
  EXPECT_FALSE(scheduler.IsPaused(kOnline));
}

TEST(SchedulerTest, EveryAttemptCountsWhateverItsAnswer) {
  Scheduler scheduler{LimiterOptions{}};
  scheduler.Upsert(Job(1, kUsers, 0, kT0));
  scheduler.Upsert(Job(2, kUsers, 0, kT0));
  const QueuedJob job = *scheduler.Find(1);
  scheduler.Begin(1, Instant(kT0));
  scheduler.Finish(job, Instant(kT0), {OutcomeClass::kUnknown, 503, {}});
  EXPECT_EQ(scheduler.Decide(Instant(kT0)).next, kT0 + minutes(30) + Duration{500});
  EXPECT_EQ(scheduler.limiter().View(kUsers, Instant(kT0)).used_today, 1);
}

}  // namespace
}  // namespace broadcastd
