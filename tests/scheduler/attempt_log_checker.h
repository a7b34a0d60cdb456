#pragma once
// An independent judge of a run: it reads only the workload as submitted (jobs, limits,
// options), the log of attempts with their answers, and when jobs were expired. It
// shares no code with the limiter or the scheduler, so a bug there cannot hide here.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/limits.h"
#include "limiter/limiter.h"

namespace broadcastd {

struct SubmittedJob {
  int64_t id = 0;
  EndpointKey endpoint;
  int64_t priority = 0;
  TimePoint due;
  TimePoint arrival;  // when the daemon took it in
  std::optional<TimePoint> expires;
};

struct LoggedAttempt {
  TimePoint at;  // start; the answer arrived at the same instant
  int64_t job = 0;
  EndpointKey endpoint;
  AttemptResult result;
};

struct RunRecord {
  LimiterOptions options;
  std::map<EndpointKey, EndpointLimits> limits;
  std::vector<SubmittedJob> jobs;
  std::vector<LoggedAttempt> attempts;  // in the order they happened
  std::map<int64_t, TimePoint> expired;
};

// Returns every violation found, each a sentence; empty means the run kept:
// - no window exceeded over any interval (with the margin), no day over its budget,
//   nothing more in a day after the server said it was spent, nothing after unopened;
// - every job attempted only while due and unexpired, again only after a retryable
//   answer, and ending sent/failed/unknown, expired exactly at its expiry, or waiting
//   on a paused endpoint;
// - the best-ranked waiting job chosen each time;
// - with a job waiting, each attempt made the moment the endpoint allowed it (exactly;
//   after a 429, within the jitter's range), and none left waiting at the end.
std::vector<std::string> CheckRun(const RunRecord& run);

}  // namespace broadcastd
