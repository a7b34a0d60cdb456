#pragma once
// When each (app, target) endpoint may take its next request: sliding rate windows,
// the daily budget, 429 backoff and a day the server declared spent (DESIGN.md,
// "Guarantees" 1 and 7). Pure: no I/O and no clock; every call takes the time it is
// about, so a day of traffic runs in milliseconds under test.
//
// Two clocks (core/clock.h): every call takes an Instant, a reading of both. Windows,
// 429 backoff and Retry-After measure intervals on its monotonic part, so a wall-clock
// step neither opens a window early nor stalls an endpoint; the daily budget counts
// requests per calendar day on its wall part. Answers are wall times, expressed with
// the offset of the Instant passed in (what the scheduler and --status speak).
//
// Restart: the state is only what the recorded attempts and outcomes imply, so
// replaying the audit rows (RecordAttempt, then RecordOutcome, in start order) from
// `now - max(longest window, 1 day)` rebuilds it; a restart grants no fresh window or
// budget. The 429 jitter is a function of the seed, the endpoint, the answer's
// monotonic time and the 429 streak, not of call order, so a replay that passes each
// answer's time as recorded reproduces the backoff (the wall time may be clamped by
// then, the monotonic reading of the same boot is not). A Retry-After is state too: replay it, or a
// restart inside its hold sees only the window and the jittered backoff.

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/limits.h"
#include "core/outcome.h"
#include "core/target.h"
#include "limiter/daily_budget.h"
#include "limiter/window_set.h"

namespace broadcastd {

struct EndpointKey {
  std::string app;  // the app's name in the config
  BroadcastTarget target = BroadcastTarget::kUsers;
  auto operator<=>(const EndpointKey&) const = default;
};

// What the answer to one attempt said, as far as rate limiting cares.
struct AttemptResult {
  OutcomeClass outcome = OutcomeClass::kSent;
  std::optional<int> http_status;       // absent when no answer came
  std::optional<Duration> retry_after;  // from a Retry-After header
  // When the attempt started, as passed to RecordAttempt: a request never written gives
  // back what it took (NeverWritten).
  std::optional<Instant> started = std::nullopt;
};

// A retry without any HTTP answer: the transport proved that no byte of the request was
// written (easemob/transport.h, kNotSent: no socket, DNS failure, connection refused, a
// TLS handshake that failed, ...), or the daemon never sent a claimed request. The server
// cannot have counted it, so it spends no window and no day's budget.
inline bool NeverWritten(const AttemptResult& result) {
  return result.outcome == OutcomeClass::kRetry && !result.http_status;
}

struct LimiterOptions {
  Duration day_boundary{0};  // the budget day starts at 00:00 UTC + this
  // Added to every window's length. Our start time is not the server's arrival time:
  // two requests that leave exactly one window apart arrive closer together when the
  // first is slower in transit, and the server's clock may differ from ours. The daemon
  // takes it from the config (safety_margin_ms, default 100 ms: docs/BENCHMARKS.md); this
  // default is the tests' wider one.
  Duration safety_margin{500};
  Duration backoff_base{1000};
  Duration backoff_cap{15 * 60 * 1000};
  Duration retry_after_cap{60 * 60 * 1000};  // a Retry-After above this is clamped
  uint64_t seed = 0;                         // jitter seed (tests fix it)
};

class Limiter {
 public:
  explicit Limiter(LimiterOptions options);

  // Sets the limits of one endpoint (Config::LimitsFor), keeping what it has recorded.
  // An endpoint never configured uses DefaultLimits(target), the vendor's published ones.
  void Configure(const EndpointKey& key, const EndpointLimits& limits);

  // The earliest wall time >= now.wall at which a request on `key` may START, as long
  // as the wall clock does not step (the daemon asks again when it does): every window holds
  // (with the margin), the day containing that time has budget left and was not
  // declared spent, and any 429 backoff is over. Never earlier than allowed. Once
  // reached, the endpoint stays allowed until something new is recorded.
  TimePoint NextAllowed(const EndpointKey& key, const Instant& now) const;

  // Every attempt counts against every window and the day, whatever its answer.
  void RecordAttempt(const EndpointKey& key, const Instant& started);

  // The answer to an attempt on `key`, received at `at`:
  // - 429 (http_status 429): the endpoint waits at least its longest window (plus the
  //   margin) from `at` plus a full-jitter exponential backoff, uniform in
  //   [0, min(backoff_cap, backoff_base * 2^(consecutive 429s - 1))].
  // - a Retry-After on any answer: the endpoint waits until `at` + its value clamped to
  //   [0, retry_after_cap]; with a 429, whichever of the two is later.
  // - kSent resets the 429 streak.
  // - kNextDay (403 "... limit exceeded"): the day containing `at` is spent.
  // - NeverWritten: the attempt recorded at result.started no longer counts against any
  //   window or the day, and the endpoint waits backoff_base * 2^(consecutive such
  //   failures - 1), capped at backoff_cap, from `at` (no jitter: nothing reached the
  //   server to synchronise with), so that a local fault (out of descriptors, no network,
  //   the server's port closed) neither burns the day's budget nor spins. Any HTTP answer
  //   resets that streak.
  void RecordOutcome(const EndpointKey& key, const Instant& at, const AttemptResult& result);

  struct EndpointView {
    int used_today = 0;  // attempts started in the budget day containing `now`
    int daily = 0;       // the day's budget (<= 0: none)
    TimePoint next_allowed;
    int consecutive_429 = 0;
    bool day_exhausted = false;  // no request may start again today
  };
  // For --status.
  EndpointView View(const EndpointKey& key, const Instant& now) const;

  // Drops what no window, day or backoff can need for a request at or after `before`.
  // REQUIRES: no later call passes a time earlier than `before`.
  void Forget(const Instant& before);

  const LimiterOptions& options() const { return options_; }

 private:
  struct EndpointState {
    EndpointLimits limits;
    WindowSet windows;
    DailyBudget day;
    int consecutive_429 = 0;
    int consecutive_unwritten = 0;          // NeverWritten failures in a row
    std::optional<MonoTime> backoff_until;  // monotonic
  };

  EndpointState& StateFor(const EndpointKey& key);
  const EndpointState* Find(const EndpointKey& key) const;
  EndpointState Fresh(const EndpointLimits& limits) const;
  Duration Jitter(const EndpointKey& key, MonoTime at, int streak, Duration bound) const;

  LimiterOptions options_;
  std::map<EndpointKey, EndpointState> endpoints_;
};

}  // namespace broadcastd
