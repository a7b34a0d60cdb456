#pragma once
// Rate limits of one (app, target): sliding windows and a daily budget.
// Filled by the config (defaults from the vendor's page), used by the limiter.

#include <chrono>
#include <vector>

#include "core/clock.h"
#include "core/target.h"

namespace broadcastd {

struct RateWindow {
  int count = 1;       // at most this many requests…
  Duration length{0};  // …in any interval of this length
  friend bool operator==(const RateWindow&, const RateWindow&) = default;
};

struct EndpointLimits {
  std::vector<RateWindow> windows;
  int daily = 0;  // requests per day (day starts at the configured boundary)
  friend bool operator==(const EndpointLimits&, const EndpointLimits&) = default;
};

// The vendor's published limits: users 1/30 min + 3/day; online_users 1/min +
// 50/day; chatrooms 1/s + 10/min + 100/day.
EndpointLimits DefaultLimits(BroadcastTarget target);

}  // namespace broadcastd
