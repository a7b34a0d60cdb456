#pragma once
// The only way code reads the time. Production uses SystemClock; tests use
// FakeClock (tests/fakes) and advance it by hand, so no test sleeps.

#include <chrono>
#include <cstdint>

namespace broadcastd {

// Milliseconds since the Unix epoch, UTC. Stored as INTEGER in SQLite.
using Duration = std::chrono::milliseconds;
using TimePoint = std::chrono::sys_time<Duration>;

inline int64_t ToMillis(TimePoint t) { return t.time_since_epoch().count(); }
inline TimePoint FromMillis(int64_t ms) { return TimePoint{Duration{ms}}; }

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override;
};

}  // namespace broadcastd
