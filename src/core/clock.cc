#include "core/clock.h"

#include <time.h>

#include <fstream>

namespace broadcastd {

SystemClock::SystemClock() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::getline(in, boot_id_);
}

TimePoint SystemClock::Now() const {
  return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
}

MonoTime SystemClock::Monotonic() const {
  timespec ts{};
  // Fails only for an unknown clock or a bad pointer (EINVAL, EFAULT): neither here.
  (void)::clock_gettime(CLOCK_BOOTTIME, &ts);
  return MonoFromMillis(static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000);
}

}  // namespace broadcastd
