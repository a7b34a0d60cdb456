#pragma once
// Random workloads, a fake broadcast server, and a loop that drives the scheduler
// exactly as the daemon does: Decide at now, expire, Begin, answer, Finish, then jump
// to Decision::next (or the next arrival). Fake time only: days run in milliseconds.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "attempt_log_checker.h"
#include "scheduler/scheduler.h"

namespace broadcastd {

struct Workload {
  LimiterOptions options;
  std::map<EndpointKey, EndpointLimits> limits;
  std::vector<SubmittedJob> jobs;
  std::vector<LoggedAttempt> history;  // attempts before `start`, replayed into the limiter
  std::set<EndpointKey> paused;        // endpoints paused from the start
  TimePoint start;
};

// Several apps, all three targets, random budgets, priorities, arrival and send times
// (some already due: a backlog), expiries (some before the send time).
Workload RandomWorkload(uint64_t seed);

using FakeServer = std::function<AttemptResult(const QueuedJob&, TimePoint)>;

// Mostly success, with 429s (with and without Retry-After, some negative or huge),
// 403 limit exceeded, 5xx, 400, failures before sending and the odd 403 unopened.
FakeServer RandomServer(uint64_t seed);
FakeServer SuccessServer();

struct LoopOptions {
  uint64_t seed = 0;
  double restart_chance = 0;  // per loop turn: rebuild the scheduler by replay
  Duration give_up_after = std::chrono::days(200);
};

struct LoopResult {
  RunRecord record;
  std::map<int64_t, TimePoint> sent;  // the attempt that got a kSent answer
  bool gave_up = false;               // time ran past give_up_after with work pending
  std::vector<std::string> faults;    // decisions a daemon could not carry out
  int restarts = 0;
  int turns = 0;
};

LoopResult RunDaemonLoop(const Workload& workload, const FakeServer& server,
                         const LoopOptions& options);

}  // namespace broadcastd
