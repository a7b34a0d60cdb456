#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "core/time_format.h"
#include "scheduler/scheduler.h"

namespace broadcastd {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using Entry = Scheduler::ForecastEntry;

TimePoint At(const char* text) { return ParseRfc3339(text).value(); }

const EndpointKey kUsers{"main", BroadcastTarget::kUsers};
const EndpointKey kRooms{"main", BroadcastTarget::kChatrooms};
const AttemptResult kOk{OutcomeClass::kSent, 200, std::nullopt};

QueuedJob Job(int64_t id, const EndpointKey& endpoint, int64_t priority, TimePoint due) {
  QueuedJob job;
  job.id = id;
  job.endpoint = endpoint;
  job.priority = priority;
  job.due = due;
  return job;
}

MATCHER_P2(IsEntry, kind, at, "") { return arg.kind == kind && arg.at == at; }

// Five all-users broadcasts due this morning, with 3 of the day's 5 left: three go out
// today, one tomorrow at the reset, and one expires tonight before it gets a turn.
class FiveUsersBroadcasts : public ::testing::Test {
 protected:
  FiveUsersBroadcasts() : scheduler_(LimiterOptions{}) {
    EndpointLimits limits = DefaultLimits(BroadcastTarget::kUsers);
    limits.daily = 5;
    scheduler_.Configure(kUsers, limits);
    scheduler_.limiter().RecordAttempt(kUsers, Instant(At("2027-03-01T06:00:00Z")));
    scheduler_.limiter().RecordAttempt(kUsers, Instant(At("2027-03-01T07:00:00Z")));
    for (int64_t id = 1; id <= 5; ++id) {
      QueuedJob job = Job(id, kUsers, 10 - id, At("2027-03-01T09:00:00Z"));
      if (id == 5) job.expires = At("2027-03-01T20:00:00Z");
      scheduler_.Upsert(job);
    }
  }
  const TimePoint now_ = At("2027-03-01T09:00:00Z");
  Scheduler scheduler_;
};

TEST_F(FiveUsersBroadcasts, ThreeTodayOneTomorrowOneExpires) {
  ASSERT_EQ(scheduler_.limiter().View(kUsers, Instant(now_)).used_today, 2);
  const auto forecast = scheduler_.Forecast(Instant(now_), hours(48));
  ASSERT_EQ(forecast.size(), 5u);
  EXPECT_THAT(forecast.at(1), IsEntry(Entry::kSend, At("2027-03-01T09:00:00Z")));
  EXPECT_THAT(forecast.at(2), IsEntry(Entry::kSend, At("2027-03-01T09:30:00.500Z")));
  EXPECT_THAT(forecast.at(3), IsEntry(Entry::kSend, At("2027-03-01T10:00:01Z")));
  EXPECT_THAT(forecast.at(4), IsEntry(Entry::kSend, At("2027-03-02T00:00:00Z")));
  EXPECT_THAT(forecast.at(5), IsEntry(Entry::kExpires, At("2027-03-01T20:00:00Z")));
}

TEST_F(FiveUsersBroadcasts, ForecastLeavesTheSchedulerAsItWas) {
  scheduler_.Forecast(Instant(now_), hours(48));
  EXPECT_EQ(scheduler_.size(), 5u);
  EXPECT_EQ(scheduler_.limiter().View(kUsers, Instant(now_)).used_today, 2);
  EXPECT_THAT(scheduler_.Decide(Instant(now_)).send, ::testing::ElementsAre(1));
}

TEST_F(FiveUsersBroadcasts, BeyondTheHorizon) {
  const auto forecast = scheduler_.Forecast(Instant(now_), hours(12));
  EXPECT_THAT(forecast.at(3), IsEntry(Entry::kSend, At("2027-03-01T10:00:01Z")));
  EXPECT_THAT(forecast.at(4), IsEntry(Entry::kBeyondHorizon, At("2027-03-01T21:00:00Z")));
  EXPECT_THAT(forecast.at(5), IsEntry(Entry::kExpires, At("2027-03-01T20:00:00Z")));
}

TEST_F(FiveUsersBroadcasts, AnotherEndpointsJobsDoNotWaitForThese) {
  scheduler_.Upsert(Job(6, kRooms, 0, At("2027-03-01T09:00:00Z")));
  scheduler_.Upsert(Job(7, kRooms, 0, At("2027-03-01T09:00:00Z")));
  const auto forecast = scheduler_.Forecast(Instant(now_), hours(48));
  EXPECT_THAT(forecast.at(6), IsEntry(Entry::kSend, At("2027-03-01T09:00:00Z")));
  EXPECT_THAT(forecast.at(7), IsEntry(Entry::kSend, At("2027-03-01T09:00:01.500Z")));
  EXPECT_THAT(forecast.at(4), IsEntry(Entry::kSend, At("2027-03-02T00:00:00Z")));
}

TEST_F(FiveUsersBroadcasts, HeldJobsAreShownHeldAndWaitForNothing) {
  scheduler_.ReplaceHeld({1, 5});  // 5 expires tonight: still shown held
  const auto forecast = scheduler_.Forecast(Instant(now_), hours(48));
  EXPECT_THAT(forecast.at(1), IsEntry(Entry::kHeld, now_));
  EXPECT_THAT(forecast.at(5), IsEntry(Entry::kHeld, now_));
  // The next job takes the held one's turn.
  EXPECT_THAT(forecast.at(2), IsEntry(Entry::kSend, At("2027-03-01T09:00:00Z")));
}

TEST_F(FiveUsersBroadcasts, PausedEndpoint) {
  scheduler_.SetPaused(kUsers, true);
  const auto forecast = scheduler_.Forecast(Instant(now_), hours(48));
  EXPECT_THAT(forecast.at(1), IsEntry(Entry::kPaused, now_));
  EXPECT_THAT(forecast.at(5), IsEntry(Entry::kExpires, At("2027-03-01T20:00:00Z")));
}

TEST(ForecastTest, AlreadyExpiredAndEmpty) {
  Scheduler scheduler{LimiterOptions{}};
  EXPECT_TRUE(scheduler.Forecast(Instant(At("2027-03-01T09:00:00Z")), hours(1)).empty());
  QueuedJob job = Job(1, kRooms, 0, At("2027-03-01T08:00:00Z"));
  job.expires = At("2027-03-01T08:30:00Z");
  scheduler.Upsert(job);
  EXPECT_THAT(scheduler.Forecast(Instant(At("2027-03-01T09:00:00Z")), hours(1)).at(1),
              IsEntry(Entry::kExpires, At("2027-03-01T08:30:00Z")));
}

}  // namespace
}  // namespace broadcastd
