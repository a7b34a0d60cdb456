#pragma once
// A clock that moves only when a test says so. Its wall and monotonic parts move
// together under Advance; Step moves the wall clock alone, as an operator or NTP
// setting the time does.

#include <string>
#include <utility>

#include "core/clock.h"

namespace broadcastd {

class FakeClock final : public Clock {
 public:
  // The monotonic part starts with the same number as the wall part.
  explicit FakeClock(TimePoint start) : wall_(start), mono_(MonoFromMillis(ToMillis(start))) {}
  FakeClock(TimePoint wall, MonoTime mono) : wall_(wall), mono_(mono) {}

  TimePoint Now() const override { return wall_; }
  MonoTime Monotonic() const override { return mono_; }
  std::string BootId() const override { return boot_id_; }

  // Sets the wall clock to `t`, moving the monotonic one by as much when `t` is
  // later (time passed) and not at all when it is earlier (a step back).
  void Set(TimePoint t) {
    if (t > wall_) mono_ += t - wall_;
    wall_ = t;
  }
  void Advance(Duration d) {
    wall_ += d;
    mono_ += d;
  }
  // A wall-clock step: the monotonic clock does not move.
  void Step(Duration d) { wall_ += d; }
  // A reboot: a new boot id, the monotonic clock starting again at `mono`.
  void Reboot(std::string boot_id, MonoTime mono) {
    boot_id_ = std::move(boot_id);
    mono_ = mono;
  }

 private:
  TimePoint wall_;
  MonoTime mono_;
  std::string boot_id_ = "fake-boot";
};

}  // namespace broadcastd
