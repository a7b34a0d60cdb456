#include "limiter/limiter.h"

#include <algorithm>
#include <functional>
#include <utility>

namespace broadcastd {
namespace {

// SplitMix64's finaliser: a well-mixed 64-bit hash of a 64-bit value.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

constexpr int kRateLimited = 429;

}  // namespace

Limiter::Limiter(LimiterOptions options) : options_(options) {}

Limiter::EndpointState Limiter::Fresh(const EndpointLimits& limits) const {
  EndpointState state;
  state.limits = limits;
  state.windows = WindowSet(limits.windows, options_.safety_margin);
  state.day = DailyBudget(options_.day_boundary);
  return state;
}

Limiter::EndpointState& Limiter::StateFor(const EndpointKey& key) {
  auto it = endpoints_.find(key);
  if (it == endpoints_.end()) {
    it = endpoints_.emplace(key, Fresh(DefaultLimits(key.target))).first;
  }
  return it->second;
}

const Limiter::EndpointState* Limiter::Find(const EndpointKey& key) const {
  auto it = endpoints_.find(key);
  return it == endpoints_.end() ? nullptr : &it->second;
}

void Limiter::Configure(const EndpointKey& key, const EndpointLimits& limits) {
  EndpointState& state = StateFor(key);
  state.limits = limits;
  state.windows.Reconfigure(limits.windows, options_.safety_margin);
}

TimePoint Limiter::NextAllowed(const EndpointKey& key, const Instant& now) const {
  const EndpointState* state = Find(key);
  if (state == nullptr) return now.wall;  // nothing recorded: nothing holds it back
  MonoTime t = now.mono;
  if (state->backoff_until) t = std::max(t, *state->backoff_until);
  // Each constraint only moves t later and stays met once met, so this settles after
  // at most a couple of rounds. The day is a calendar question: asked on the wall
  // clock, at the wall time that t stands for.
  while (true) {
    const MonoTime after_windows = state->windows.EarliestStart(t);
    const TimePoint wall = state->day.EarliestStart(now.WallOf(after_windows), state->limits.daily);
    const MonoTime next = std::max(after_windows, now.MonoOf(wall));
    if (next == t) return now.WallOf(t);
    t = next;
  }
}

void Limiter::RecordAttempt(const EndpointKey& key, const Instant& started) {
  EndpointState& state = StateFor(key);
  state.windows.Record(started.mono);
  state.day.Record(started.wall);
}

Duration Limiter::Jitter(const EndpointKey& key, MonoTime at, int streak, Duration bound) const {
  if (bound <= Duration::zero()) return Duration::zero();
  uint64_t h = Mix(options_.seed);
  h = Mix(h ^ std::hash<std::string>{}(key.app));
  h = Mix(h ^ static_cast<uint64_t>(key.target));
  h = Mix(h ^ static_cast<uint64_t>(ToMillis(at)));
  h = Mix(h ^ static_cast<uint64_t>(streak));
  return Duration{static_cast<int64_t>(h % (static_cast<uint64_t>(bound.count()) + 1))};
}

void Limiter::RecordOutcome(const EndpointKey& key, const Instant& at,
                            const AttemptResult& result) {
  EndpointState& state = StateFor(key);
  std::optional<MonoTime> until;
  if (result.http_status == kRateLimited) {
    ++state.consecutive_429;
    // base * 2^(streak - 1), capped; doubling stops once the cap is reached so that a
    // long streak cannot overflow.
    Duration bound = std::max(options_.backoff_base, Duration::zero());
    for (int i = 1; i < state.consecutive_429 && bound < options_.backoff_cap; ++i) bound *= 2;
    bound = std::min(bound, std::max(options_.backoff_cap, Duration::zero()));
    until = at.mono + state.windows.Reach() + Jitter(key, at.mono, state.consecutive_429, bound);
  } else if (result.outcome == OutcomeClass::kSent) {
    state.consecutive_429 = 0;
  }
  if (NeverWritten(result)) {
    if (result.started) {
      state.windows.Unrecord(result.started->mono);
      state.day.Unrecord(result.started->wall);
    }
    ++state.consecutive_unwritten;
    Duration wait = std::max(options_.backoff_base, Duration::zero());
    for (int i = 1; i < state.consecutive_unwritten && wait < options_.backoff_cap; ++i) wait *= 2;
    wait = std::min(wait, std::max(options_.backoff_cap, Duration::zero()));
    until = std::max(until.value_or(at.mono), at.mono + wait);
  } else if (result.http_status) {
    state.consecutive_unwritten = 0;
  }
  if (result.retry_after) {
    const Duration wait = std::clamp(*result.retry_after, Duration::zero(),
                                     std::max(options_.retry_after_cap, Duration::zero()));
    until = std::max(until.value_or(at.mono), at.mono + wait);
  }
  if (until) state.backoff_until = std::max(state.backoff_until.value_or(*until), *until);
  if (result.outcome == OutcomeClass::kNextDay) state.day.MarkSpent(at.wall);
}

Limiter::EndpointView Limiter::View(const EndpointKey& key, const Instant& now) const {
  EndpointView view;
  const EndpointState* state = Find(key);
  if (state == nullptr) {
    view.daily = DefaultLimits(key.target).daily;
    view.next_allowed = now.wall;
    return view;
  }
  view.used_today = state->day.Used(now.wall);
  view.daily = state->limits.daily;
  view.next_allowed = NextAllowed(key, now);
  view.consecutive_429 = state->consecutive_429;
  view.day_exhausted = state->day.Spent(now.wall, state->limits.daily);
  return view;
}

void Limiter::Forget(const Instant& before) {
  for (auto& [key, state] : endpoints_) {
    state.windows.Forget(before.mono);
    state.day.Forget(before.wall);
    if (state.backoff_until && *state.backoff_until <= before.mono) state.backoff_until.reset();
  }
}

}  // namespace broadcastd
