#pragma once
// What the scheduler knows of a job waiting to be sent, and what it decides.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/clock.h"
#include "limiter/limiter.h"

namespace broadcastd {

struct QueuedJob {
  int64_t id = 0;  // insertion order: the last tie-breaker
  EndpointKey endpoint;
  int64_t priority = 0;                 // higher goes first among due jobs of one endpoint
  TimePoint due;                        // send_at, or when the job was taken in
  std::optional<TimePoint> expires;     // not sent by then: expired
  std::optional<TimePoint> not_before;  // after a retryable answer

  // The first time the job may go out as far as it alone is concerned.
  TimePoint EligibleAt() const { return not_before ? std::max(due, *not_before) : due; }
};

struct Decision {
  std::vector<int64_t> send;    // jobs to POST now: at most one per endpoint
  std::vector<int64_t> expire;  // jobs whose expires <= now, not sent: mark expired
  // The next time the decision could differ if nothing else happens (no new input, no
  // answers); nullopt: nothing is pending that time alone would release.
  std::optional<TimePoint> next;
};

}  // namespace broadcastd
