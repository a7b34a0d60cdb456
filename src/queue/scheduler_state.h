#pragma once
// Rebuilds the scheduler from the store: the limits of every app endpoint, the
// windows and budgets replayed from the audit of attempts (so a restart never
// grants a fresh window or budget), the pauses and the queued jobs. The daemon
// uses it at start-up and after operator actions; --status uses the same code
// to forecast, so the two cannot drift apart.

#include "config/config.h"
#include "core/clock.h"
#include "core/error.h"
#include "scheduler/scheduler.h"
#include "store/store.h"

namespace broadcastd {

// How far back the audit matters: the longest window of any endpoint plus a
// whole budget day.
Duration AuditLookback(const Config& config);

LimiterOptions LimiterOptionsFor(const Config& config);

// The limits, the windows and budgets replayed from the audit, and the pauses: every
// thing but the queued jobs (--status adds only the head of each queue it forecasts).
// REQUIRES: `store` is open (read-only is enough).
Result<Scheduler> LoadSchedulerLimits(const Config& config, Store& store, TimePoint now);

// LoadSchedulerLimits and every queued job.
// REQUIRES: `store` is open (read-only is enough).
Result<Scheduler> LoadSchedulerState(const Config& config, Store& store, TimePoint now);

QueuedJob ToQueuedJob(const JobRow& row);

}  // namespace broadcastd
