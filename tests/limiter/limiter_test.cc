#include "limiter/limiter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <vector>

#include "core/time_format.h"
#include "fakes/fake_clock.h"

namespace broadcastd {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TimePoint At(const char* text) { return ParseRfc3339(text).value(); }

const EndpointKey kUsers{"main", BroadcastTarget::kUsers};
const EndpointKey kOnline{"main", BroadcastTarget::kOnlineUsers};
const EndpointKey kRooms{"main", BroadcastTarget::kChatrooms};
const AttemptResult kOk{OutcomeClass::kSent, 200, std::nullopt};
const AttemptResult k429{OutcomeClass::kRetry, 429, std::nullopt};
const AttemptResult k403Limit{OutcomeClass::kNextDay, 403, std::nullopt};

LimiterOptions NoMargin() {
  LimiterOptions options;
  options.safety_margin = Duration{0};
  return options;
}

// Sends on `key` as soon as allowed, `n` times, starting at clock's time; returns the
// start times.
std::vector<TimePoint> SendGreedily(Limiter& limiter, const EndpointKey& key, FakeClock& clock,
                                    int n) {
  std::vector<TimePoint> starts;
  for (int i = 0; i < n; ++i) {
    clock.Set(limiter.NextAllowed(key, Instant(clock.Now())));
    limiter.RecordAttempt(key, Instant(clock.Now()));
    limiter.RecordOutcome(key, Instant(clock.Now()), kOk);
    starts.push_back(clock.Now());
  }
  return starts;
}

TEST(LimiterTest, UsersOnePerThirtyMinutes) {
  Limiter limiter(NoMargin());
  FakeClock clock(At("2027-03-01T01:00:00Z"));
  const auto starts = SendGreedily(limiter, kUsers, clock, 3);
  EXPECT_EQ(starts[0], At("2027-03-01T01:00:00Z"));
  EXPECT_EQ(starts[1], At("2027-03-01T01:30:00Z"));
  EXPECT_EQ(starts[2], At("2027-03-01T02:00:00Z"));
}

TEST(LimiterTest, OnlineUsersOnePerMinute) {
  Limiter limiter(NoMargin());
  FakeClock clock(At("2027-03-01T01:00:00Z"));
  const auto starts = SendGreedily(limiter, kOnline, clock, 3);
  EXPECT_EQ(starts[1] - starts[0], minutes(1));
  EXPECT_EQ(starts[2] - starts[1], minutes(1));
}

TEST(LimiterTest, ChatroomsOnePerSecondAndTenPerMinute) {
  Limiter limiter(NoMargin());
  FakeClock clock(At("2027-03-01T01:00:00Z"));
  const auto starts = SendGreedily(limiter, kRooms, clock, 12);
  const TimePoint t0 = starts[0];
  for (int i = 0; i < 10; ++i) EXPECT_EQ(starts[i], t0 + seconds(i)) << i;
  EXPECT_EQ(starts[10], t0 + minutes(1)) << "the eleventh waits for the first to leave the minute";
  EXPECT_EQ(starts[11], t0 + minutes(1) + seconds(1));
}

TEST(LimiterTest, MarginWidensEveryWindow) {
  Limiter limiter{LimiterOptions{}};  // default margin: 500 ms
  FakeClock clock(At("2027-03-01T01:00:00Z"));
  const auto starts = SendGreedily(limiter, kRooms, clock, 11);
  const TimePoint t0 = starts[0];
  EXPECT_EQ(starts[1] - t0, Duration{1500});
  // Ten starts 1.5 s apart, then the minute window (60.5 s from the first) decides.
  EXPECT_EQ(starts[9] - t0, Duration{13500});
  EXPECT_EQ(starts[10] - t0, Duration{60500});

  limiter.RecordAttempt(kUsers, Instant(t0));
  EXPECT_EQ(limiter.NextAllowed(kUsers, Instant(t0)), t0 + minutes(30) + Duration{500});
  EXPECT_EQ(limiter.NextAllowed(kUsers, Instant(t0 + minutes(30))),
            t0 + minutes(30) + Duration{500});
}

TEST(LimiterTest, NeverEarlierThanNow) {
  Limiter limiter{LimiterOptions{}};
  const TimePoint t = At("2027-03-01T01:00:00Z");
  limiter.RecordAttempt(kUsers, Instant(t));
  EXPECT_EQ(limiter.NextAllowed(kUsers, Instant(t + hours(5))), t + hours(5));
  EXPECT_EQ(limiter.NextAllowed(kOnline, Instant(t)), t) << "an endpoint with no history is open";
}

TEST(LimiterTest, DailyBudgetResetsAtMidnightUtc) {
  Limiter limiter(NoMargin());
  FakeClock clock(At("2027-03-01T20:00:00Z"));
  const auto starts = SendGreedily(limiter, kUsers, clock, 3);
  EXPECT_EQ(starts[2], At("2027-03-01T21:00:00Z"));
  const auto view = limiter.View(kUsers, Instant(At("2027-03-01T23:00:00Z")));
  EXPECT_EQ(view.used_today, 3);
  EXPECT_EQ(view.daily, 3);
  EXPECT_TRUE(view.day_exhausted);
  EXPECT_EQ(view.next_allowed, At("2027-03-02T00:00:00Z"));
  const auto more = SendGreedily(limiter, kUsers, clock, 1);
  EXPECT_EQ(more[0], At("2027-03-02T00:00:00Z"));
  EXPECT_EQ(limiter.View(kUsers, Instant(more[0])).used_today, 1);
  EXPECT_FALSE(limiter.View(kUsers, Instant(more[0])).day_exhausted);
}

TEST(LimiterTest, ShiftedDayBoundary) {
  LimiterOptions options = NoMargin();
  options.day_boundary = hours(8);  // 08:00 UTC, midnight in Beijing
  Limiter limiter(options);
  FakeClock clock(At("2027-03-01T06:00:00Z"));
  const auto starts = SendGreedily(limiter, kUsers, clock, 5);
  EXPECT_EQ(starts[2], At("2027-03-01T07:00:00Z"));
  EXPECT_EQ(starts[3], At("2027-03-01T08:00:00Z")) << "a new day at 08:00 UTC, not midnight";
  EXPECT_EQ(starts[4], At("2027-03-01T08:30:00Z"));
  EXPECT_EQ(limiter.View(kUsers, Instant(At("2027-03-01T09:00:00Z"))).used_today, 2);
}

TEST(LimiterTest, PerAppDailyOverride) {
  Limiter limiter(NoMargin());
  const EndpointKey big{"big", BroadcastTarget::kUsers};
  const EndpointKey small{"small", BroadcastTarget::kUsers};
  EndpointLimits limits = DefaultLimits(BroadcastTarget::kUsers);
  limits.daily = 5;
  limiter.Configure(big, limits);
  FakeClock clock_big(At("2027-03-01T00:00:00Z"));
  FakeClock clock_small(At("2027-03-01T00:00:00Z"));
  const auto big_starts = SendGreedily(limiter, big, clock_big, 6);
  const auto small_starts = SendGreedily(limiter, small, clock_small, 4);
  EXPECT_EQ(big_starts[4], At("2027-03-01T02:00:00Z"));
  EXPECT_EQ(big_starts[5], At("2027-03-02T00:00:00Z"));
  EXPECT_EQ(small_starts[2], At("2027-03-01T01:00:00Z")) << "apps do not share windows";
  EXPECT_EQ(small_starts[3], At("2027-03-02T00:00:00Z"));
  EXPECT_EQ(limiter.View(big, Instant(At("2027-03-01T12:00:00Z"))).daily, 5);
}

TEST(LimiterTest, ReconfigureKeepsWhatWasSent) {
  Limiter limiter(NoMargin());
  const TimePoint t = At("2027-03-01T10:00:00Z");
  limiter.RecordAttempt(kUsers, Instant(t));
  limiter.RecordAttempt(kUsers, Instant(t + hours(1)));
  EndpointLimits limits = DefaultLimits(BroadcastTarget::kUsers);
  limits.daily = 2;
  limiter.Configure(kUsers, limits);
  EXPECT_EQ(limiter.NextAllowed(kUsers, Instant(t + hours(2))), At("2027-03-02T00:00:00Z"));
}

Duration JitterOf(Limiter& limiter, const EndpointKey& key, TimePoint at) {
  limiter.RecordAttempt(key, Instant(at));
  limiter.RecordOutcome(key, Instant(at), k429);
  // The window (plus margin) from `at` is the floor; the rest is backoff.
  return limiter.NextAllowed(key, Instant(at)) - (at + minutes(1) + Duration{500});
}

TEST(LimiterTest, BackoffGrowsIsCappedAndJitterStaysInRange) {
  // For each streak length, over many seeds: every jitter in [0, bound], and the
  // largest one above half the bound (so the bound really doubles until the cap).
  LimiterOptions options;
  options.backoff_base = seconds(1);
  options.backoff_cap = seconds(20);
  const std::vector<Duration> bounds = {seconds(1),  seconds(2),  seconds(4),  seconds(8),
                                        seconds(16), seconds(20), seconds(20), seconds(20)};
  std::vector<Duration> largest(bounds.size(), Duration{0});
  std::vector<std::set<int64_t>> distinct(bounds.size());
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    options.seed = seed;
    Limiter limiter(options);
    TimePoint t = At("2027-03-01T10:00:00Z");
    for (size_t n = 0; n < bounds.size(); ++n) {
      const Duration jitter = JitterOf(limiter, kOnline, t);
      ASSERT_GE(jitter, Duration{0}) << "seed " << seed << " streak " << n + 1;
      ASSERT_LE(jitter, bounds[n]) << "seed " << seed << " streak " << n + 1;
      largest[n] = std::max(largest[n], jitter);
      distinct[n].insert(jitter.count());
      EXPECT_EQ(limiter.View(kOnline, Instant(t)).consecutive_429, static_cast<int>(n) + 1);
      t = limiter.NextAllowed(kOnline, Instant(t));
    }
  }
  for (size_t n = 0; n < bounds.size(); ++n) {
    EXPECT_GT(largest[n], bounds[n] / 2) << "streak " << n + 1;
    EXPECT_GT(distinct[n].size(), 100u) << "jitter varies with the seed";
  }
}

TEST(LimiterTest, SuccessResetsTheStreak) {
  LimiterOptions options;
  options.backoff_base = seconds(10);
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    options.seed = seed;
    Limiter limiter(options);
    TimePoint t = At("2027-03-01T10:00:00Z");
    for (int i = 0; i < 4; ++i) {
      JitterOf(limiter, kOnline, t);
      t = limiter.NextAllowed(kOnline, Instant(t));
    }
    limiter.RecordAttempt(kOnline, Instant(t));
    limiter.RecordOutcome(kOnline, Instant(t), kOk);
    EXPECT_EQ(limiter.View(kOnline, Instant(t)).consecutive_429, 0);
    t = limiter.NextAllowed(kOnline, Instant(t));
    EXPECT_LE(JitterOf(limiter, kOnline, t), seconds(10)) << "bound back to the base";
    EXPECT_EQ(limiter.View(kOnline, Instant(t)).consecutive_429, 1);
  }
}

TEST(LimiterTest, JitterIsReproducibleFromTheSameAnswers) {
  LimiterOptions options;
  options.seed = 42;
  Limiter a(options), b(options);
  const TimePoint t = At("2027-03-01T10:00:00Z");
  EXPECT_EQ(JitterOf(a, kRooms, t), JitterOf(b, kRooms, t));
}

TEST(LimiterTest, RetryAfterHonouredAndClamped) {
  const TimePoint t = At("2027-03-01T10:00:00Z");
  auto next_after = [&](std::optional<Duration> retry_after, int status) {
    LimiterOptions options;
    options.backoff_base = Duration{0};  // no jitter: the figures are exact
    Limiter limiter(options);
    limiter.RecordAttempt(kOnline, Instant(t));
    limiter.RecordOutcome(kOnline, Instant(t), {OutcomeClass::kRetry, status, retry_after});
    return limiter.NextAllowed(kOnline, Instant(t));
  };
  const TimePoint window = t + minutes(1) + Duration{500};
  EXPECT_EQ(next_after(minutes(10), 429), t + minutes(10));
  EXPECT_EQ(next_after(seconds(5), 429), window) << "the window again is the floor";
  EXPECT_EQ(next_after(seconds(-30), 429), window) << "negative counts as zero";
  EXPECT_EQ(next_after(hours(1000), 429), t + hours(1)) << "clamped to retry_after_cap";
  EXPECT_EQ(next_after(minutes(7), 503), t + minutes(7)) << "any answer's Retry-After";
  EXPECT_EQ(next_after(std::nullopt, 503), window);
}

TEST(LimiterTest, LimitExceededSpendsTheDay) {
  Limiter limiter{LimiterOptions{}};
  const TimePoint t = At("2027-03-01T10:00:00Z");
  limiter.RecordAttempt(kOnline, Instant(t));
  limiter.RecordOutcome(kOnline, Instant(t), k403Limit);
  EXPECT_EQ(limiter.NextAllowed(kOnline, Instant(t)), At("2027-03-02T00:00:00Z"));
  const auto view = limiter.View(kOnline, Instant(t + hours(1)));
  EXPECT_EQ(view.used_today, 1);
  EXPECT_TRUE(view.day_exhausted) << "1 of 50 used, but the server said the day is spent";
  EXPECT_FALSE(limiter.View(kOnline, Instant(At("2027-03-02T00:00:00Z"))).day_exhausted);
}

// The daemon restarts mid-day and rebuilds the limiter from the audit rows since
// now - max(longest window, 1 day). The rebuilt limiter must not grant anything the
// old one would not have.
TEST(LimiterTest, RestartByReplayKeepsBudgetAndWindows) {
  struct Row {
    EndpointKey key;
    TimePoint started;
    AttemptResult result;
  };
  LimiterOptions options;
  options.seed = 7;
  options.day_boundary = hours(8);
  Limiter before(options);
  std::vector<Row> audit;
  auto attempt = [&](const EndpointKey& key, TimePoint at, AttemptResult result) {
    before.RecordAttempt(key, Instant(at));
    before.RecordOutcome(key, Instant(at), result);
    audit.push_back({key, at, result});
  };
  // Yesterday (budget day starting 2027-02-28T08:00Z) and today.
  attempt(kUsers, At("2027-03-01T06:00:00Z"), kOk);
  attempt(kUsers, At("2027-03-01T09:00:00Z"), kOk);
  attempt(kUsers, At("2027-03-01T09:40:00Z"), kOk);
  attempt(kUsers, At("2027-03-01T10:20:00Z"), kOk);  // the day's third
  for (int i = 0; i < 10; ++i) attempt(kRooms, At("2027-03-01T10:20:00Z") + seconds(2 * i), kOk);
  attempt(kOnline, At("2027-03-01T10:20:30Z"), k429);

  const TimePoint now = At("2027-03-01T10:20:40Z");
  Limiter after(options);
  const TimePoint from = now - std::max<Duration>(minutes(30) + options.safety_margin, hours(24));
  for (const Row& row : audit) {
    if (row.started < from) continue;
    after.RecordAttempt(row.key, Instant(row.started));
    after.RecordOutcome(row.key, Instant(row.started), row.result);
  }

  for (const EndpointKey& key : {kUsers, kRooms, kOnline}) {
    for (Duration d :
         std::vector<Duration>{Duration{0}, seconds(30), minutes(5), minutes(40), hours(21)}) {
      EXPECT_EQ(after.NextAllowed(key, Instant(now + d)), before.NextAllowed(key, Instant(now + d)))
          << TargetName(key.target) << " +" << d.count() << " ms";
    }
    const auto a = after.View(key, Instant(now));
    const auto b = before.View(key, Instant(now));
    EXPECT_EQ(a.used_today, b.used_today);
    EXPECT_EQ(a.day_exhausted, b.day_exhausted);
    EXPECT_EQ(a.consecutive_429, b.consecutive_429);
  }
  // Stated outright: no fresh budget, no fresh window.
  EXPECT_EQ(after.NextAllowed(kUsers, Instant(now)), At("2027-03-02T08:00:00Z"));
  EXPECT_EQ(after.NextAllowed(kRooms, Instant(now)), At("2027-03-01T10:21:00.500Z"));
  EXPECT_GE(after.NextAllowed(kOnline, Instant(now)), At("2027-03-01T10:21:30.500Z"));
}

// A request that was never written (no socket, DNS failure, connection refused) spends no
// window and no day's budget, and the endpoint backs off (1 s, 2 s, 4 s, ... capped) rather
// than spinning. One that may have reached the server (kUnknown) or got an answer keeps
// what it took.
TEST(LimiterTest, ARequestNeverWrittenSpendsNoWindowNoBudgetAndBacksOff) {
  LimiterOptions options = NoMargin();
  options.backoff_base = seconds(1);
  options.backoff_cap = seconds(8);
  Limiter limiter(options);
  EndpointLimits limits = DefaultLimits(BroadcastTarget::kUsers);
  limits.daily = 3;
  limiter.Configure(kUsers, limits);
  FakeClock clock(At("2027-03-01T01:00:00Z"));
  std::vector<Duration> waits;
  for (int i = 0; i < 6; ++i) {
    const Instant started = clock.Read();
    limiter.RecordAttempt(kUsers, started);
    clock.Advance(milliseconds(5));
    limiter.RecordOutcome(kUsers, clock.Read(),
                          AttemptResult{OutcomeClass::kRetry, std::nullopt, std::nullopt, started});
    EXPECT_EQ(limiter.View(kUsers, clock.Read()).used_today, 0) << i;
    const TimePoint next = limiter.NextAllowed(kUsers, clock.Read());
    waits.push_back(next - clock.Now());
    clock.Set(next);
  }
  EXPECT_EQ(waits, (std::vector<Duration>{seconds(1), seconds(2), seconds(4), seconds(8),
                                          seconds(8), seconds(8)}));
  // Then it goes out: the budget and the 30-minute window count that one only, and an
  // answer resets the backoff.
  const Instant sent = clock.Read();
  limiter.RecordAttempt(kUsers, sent);
  limiter.RecordOutcome(kUsers, sent, AttemptResult{OutcomeClass::kSent, 200, std::nullopt, sent});
  EXPECT_EQ(limiter.View(kUsers, sent).used_today, 1);
  EXPECT_EQ(limiter.NextAllowed(kUsers, sent), sent.wall + minutes(30));

  // A request that may have left keeps its window and its budget.
  clock.Set(sent.wall + minutes(30));
  const Instant maybe = clock.Read();
  limiter.RecordAttempt(kUsers, maybe);
  limiter.RecordOutcome(kUsers, maybe,
                        AttemptResult{OutcomeClass::kUnknown, std::nullopt, std::nullopt, maybe});
  EXPECT_EQ(limiter.View(kUsers, maybe).used_today, 2);
  EXPECT_EQ(limiter.NextAllowed(kUsers, maybe), maybe.wall + minutes(30));
  // As does a retry the server answered (a 429).
  clock.Set(maybe.wall + minutes(30));
  const Instant limited = clock.Read();
  limiter.RecordAttempt(kUsers, limited);
  limiter.RecordOutcome(kUsers, limited,
                        AttemptResult{OutcomeClass::kRetry, 429, std::nullopt, limited});
  EXPECT_EQ(limiter.View(kUsers, limited).used_today, 3);
}

TEST(LimiterTest, ForgetChangesNoAnswerFromThenOn) {
  Limiter limiter{LimiterOptions{}};
  TimePoint t = At("2027-03-01T22:00:00Z");
  for (int i = 0; i < 30; ++i) {
    limiter.RecordAttempt(kRooms, Instant(t));
    limiter.RecordOutcome(kRooms, Instant(t), i % 7 == 3 ? k429 : kOk);
    limiter.RecordAttempt(kUsers, Instant(t));
    t = t + minutes(7);
  }
  Limiter forgetful = limiter;
  forgetful.Forget(Instant(t));
  for (Duration d :
       std::vector<Duration>{Duration{0}, seconds(1), minutes(1), minutes(31), hours(3)}) {
    EXPECT_EQ(forgetful.NextAllowed(kRooms, Instant(t + d)),
              limiter.NextAllowed(kRooms, Instant(t + d)));
    EXPECT_EQ(forgetful.NextAllowed(kUsers, Instant(t + d)),
              limiter.NextAllowed(kUsers, Instant(t + d)));
    EXPECT_EQ(forgetful.View(kUsers, Instant(t + d)).used_today,
              limiter.View(kUsers, Instant(t + d)).used_today);
  }
}

// Windows measure intervals on the monotonic clock; a wall-clock step moves only the
// wall times the limiter answers in.
TEST(LimiterClockStepTest, AForwardStepOpensNoWindowEarly) {
  Limiter limiter(NoMargin());
  const Instant sent(At("2027-03-01T01:00:00Z"), MonoFromMillis(1'000'000));
  limiter.RecordAttempt(kUsers, sent);
  limiter.RecordOutcome(kUsers, sent, kOk);
  // 2.6 s later by the monotonic clock, two hours later by the wall clock.
  const Instant now(sent.wall + hours(2) + milliseconds(2600), sent.mono + milliseconds(2600));
  EXPECT_EQ(limiter.NextAllowed(kUsers, now), now.wall + minutes(30) - milliseconds(2600));
}

TEST(LimiterClockStepTest, ABackwardStepStallsNoLongerThanTheWindow) {
  Limiter limiter(NoMargin());
  const Instant sent(At("2027-03-01T01:00:00Z"), MonoFromMillis(1'000'000));
  limiter.RecordAttempt(kRooms, sent);
  const Instant now(sent.wall - hours(2) + seconds(1), sent.mono + seconds(1));
  EXPECT_EQ(limiter.NextAllowed(kRooms, now), now.wall);  // 1 per second: open again
  limiter.RecordAttempt(kUsers, sent);
  EXPECT_EQ(limiter.NextAllowed(kUsers, now), now.wall + minutes(30) - seconds(1));
}

TEST(LimiterClockStepTest, BackoffIsMonotonicToo) {
  LimiterOptions options = NoMargin();
  options.backoff_base = Duration{0};
  Limiter limiter(options);
  const Instant sent(At("2027-03-01T01:00:00Z"), MonoFromMillis(1'000'000));
  limiter.RecordAttempt(kRooms, sent);
  limiter.RecordOutcome(kRooms, sent, AttemptResult{OutcomeClass::kRetry, 200, minutes(5)});
  const Instant now(sent.wall + hours(3), sent.mono + minutes(1));
  EXPECT_EQ(limiter.NextAllowed(kRooms, now), now.wall + minutes(4));
}

TEST(LimiterClockStepTest, TheDailyBudgetCountsWallClockDays) {
  Limiter limiter(NoMargin());
  limiter.Configure(kRooms, EndpointLimits{{}, 1});
  const Instant sent(At("2027-03-01T23:00:00Z"), MonoFromMillis(1'000'000));
  limiter.RecordAttempt(kRooms, sent);
  // Spent for the day; the next day starts at midnight on the wall clock, whatever
  // the monotonic clock says.
  const Instant now(At("2027-03-01T23:30:00Z"), sent.mono + hours(5));
  EXPECT_EQ(limiter.NextAllowed(kRooms, now), At("2027-03-02T00:00:00Z"));
}

}  // namespace
}  // namespace broadcastd
