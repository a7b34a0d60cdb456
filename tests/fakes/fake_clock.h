#pragma once
// A clock that moves only when a test says so.

#include "core/clock.h"

namespace broadcastd {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start) : now_(start) {}
  TimePoint Now() const override { return now_; }
  void Set(TimePoint t) { now_ = t; }
  void Advance(Duration d) { now_ += d; }

 private:
  TimePoint now_;
};

}  // namespace broadcastd
