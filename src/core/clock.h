#pragma once
// The only way code reads the time. Production uses SystemClock; tests use
// FakeClock (tests/fakes) and advance it by hand, so no test sleeps.
//
// Two clocks, two kinds of question. The wall clock (UTC) answers calendar
// questions: a campaign's send_at and cron occurrences, expiry, the budget day.
// The monotonic clock measures intervals: rate windows, backoff, waits. The wall
// clock can step (an operator, a VM resume, NTP correcting a clock that ran
// ahead); an interval measured on it would then open a window early or stall an
// endpoint for as long as the step. The monotonic clock never steps.

#include <chrono>
#include <cstdint>
#include <string>

namespace broadcastd {

// Milliseconds since the Unix epoch, UTC. Stored as INTEGER in SQLite.
using Duration = std::chrono::milliseconds;
using TimePoint = std::chrono::sys_time<Duration>;

inline int64_t ToMillis(TimePoint t) { return t.time_since_epoch().count(); }
inline TimePoint FromMillis(int64_t ms) { return TimePoint{Duration{ms}}; }

// The monotonic timeline: milliseconds since the machine booted, suspend included
// (CLOCK_BOOTTIME), so that a vendor's window, which runs in real time, also runs
// while the machine sleeps. Readings of different boots are not comparable.
struct BootClock {
  using rep = Duration::rep;
  using period = Duration::period;
  using duration = Duration;
  using time_point = std::chrono::time_point<BootClock, Duration>;
  static constexpr bool is_steady = true;
};
using MonoTime = BootClock::time_point;

inline int64_t ToMillis(MonoTime t) { return t.time_since_epoch().count(); }
inline MonoTime MonoFromMillis(int64_t ms) { return MonoTime{Duration{ms}}; }

// One reading of both clocks, taken together. The pure core takes these: intervals
// on `mono`, calendar questions on `wall`. Between two readings the offset
// wall - mono changes only when the wall clock steps.
struct Instant {
  TimePoint wall;
  MonoTime mono;

  Instant() = default;
  Instant(TimePoint wall_time, MonoTime mono_time) : wall(wall_time), mono(mono_time) {}
  // A wall time alone stands for a reading of a clock that never stepped: the
  // monotonic part carries the same number. Tests and simulations on one timeline
  // use it; the daemon and every view of the status pass Clock::Read(). Explicit, so
  // that a wall time never passes for a reading where one is required.
  explicit Instant(TimePoint t) : wall(t), mono(MonoFromMillis(ToMillis(t))) {}

  // The wall time at which the monotonic clock will read `m`, if the wall clock
  // does not step meanwhile; and the converse.
  TimePoint WallOf(MonoTime m) const { return wall + (m - mono); }
  MonoTime MonoOf(TimePoint w) const { return mono + (w - wall); }
  // The same reading `d` later on both clocks.
  Instant After(Duration d) const { return Instant(wall + d, mono + d); }
};

class Clock {
 public:
  virtual ~Clock() = default;
  // The wall clock (UTC).
  virtual TimePoint Now() const = 0;
  // The monotonic clock.
  virtual MonoTime Monotonic() const = 0;
  // Names the boot the monotonic readings belong to (stored with them, so that a
  // restart knows whether it may compare them with its own).
  virtual std::string BootId() const = 0;
  Instant Read() const { return Instant(Now(), Monotonic()); }
};

class SystemClock final : public Clock {
 public:
  SystemClock();
  TimePoint Now() const override;
  MonoTime Monotonic() const override;
  std::string BootId() const override { return boot_id_; }

 private:
  std::string boot_id_;  // /proc/sys/kernel/random/boot_id; empty if unreadable
};

}  // namespace broadcastd
