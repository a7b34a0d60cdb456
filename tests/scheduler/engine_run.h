#pragma once
// Random workloads, a fake broadcast server, and a run of the real engine
// (src/daemon/engine.h) over them, as the daemon's loop drives it: each job a campaign
// file dropped into campaigns_dir when it arrives, every step the engine hands out
// (token fetches, claims) dispatched, answered by the fake server at the same instant
// and completed, then the fake clock moved to NextWake() or the next arrival. A SQLite
// store in a folder of its own; fake time only: days run in milliseconds.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "attempt_log_checker.h"
#include "scheduler/scheduler.h"

namespace broadcastd {

struct Workload {
  // The daemon takes day_boundary and safety_margin from its config; the backoff and the
  // jitter's seed are its own (LimiterOptionsFor), whatever this says.
  LimiterOptions options;
  std::map<EndpointKey, EndpointLimits> limits;  // the vendor's windows, daily budgets vary
  // A job whose due equals its arrival names no send_at (due when its file is read);
  // campaign files cannot name an expiry at or before send_at, so a job that expires
  // before it is due is one of those.
  std::vector<SubmittedJob> jobs;
  std::vector<LoggedAttempt> history;  // attempts before `start`, made by the engine first
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
  double restart_chance = 0;  // per loop turn: a new engine on the same store and folder
  Duration give_up_after = std::chrono::days(200);
  // When set: the engine's forecast at `start`, once the jobs arrived by then are read.
  std::optional<Duration> forecast_horizon;
};

struct LoopResult {
  RunRecord record;                   // attempts and expiries as the store holds them
  std::map<int64_t, TimePoint> sent;  // the attempt that got a kSent answer
  // The engine's forecast (LoopOptions::forecast_horizon), by workload job id.
  std::map<int64_t, Scheduler::ForecastEntry> forecast;
  bool gave_up = false;             // time ran past give_up_after with work pending
  std::vector<std::string> faults;  // what the engine did that a daemon could not carry out
  int restarts = 0;
  int turns = 0;
};

LoopResult RunEngine(const Workload& workload, const FakeServer& server,
                     const LoopOptions& options);

}  // namespace broadcastd
