#pragma once
// Rebuilds the scheduler from the store: the limits of every app endpoint, the
// windows and budgets replayed from the audit of attempts (so a restart never
// grants a fresh window or budget), the pauses and the queued jobs. The daemon
// uses it at start-up and after operator actions; --status uses the same code
// to forecast, so the two cannot drift apart.

#include <string>

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

// The limits, the windows and budgets replayed from the audit, the pauses and the held
// jobs: everything but the queued jobs (--status adds only the head of each queue it
// forecasts).
// REQUIRES: `store` is open (read-only is enough). `now` is a reading of both clocks
// and `boot_id` names the boot of its monotonic part (Clock::BootId).
//
// Stored attempts are mapped onto the monotonic timeline of `now`: by their own
// monotonic readings when they were taken on this boot (their wall time, and so their
// budget day, is where that reading falls on `now`'s wall clock, whatever the stamp says),
// else by their wall times through the current offset. Whatever the wall clock did since,
// an attempt dated after `now` counts as made at `now` (on both clocks): a clock that ran
// ahead and was set back holds an endpoint one window at most, never for as long as it
// ran ahead.
Result<Scheduler> LoadSchedulerLimits(const Config& config, Store& store, const Instant& now,
                                      const std::string& boot_id = {});

// Where a scheduler stands against the store: the last job change (Store::LastJobChange)
// and the newest attempt (Store::LastAttemptId) it reflects.
struct QueuePosition {
  int64_t job_change = 0;
  int64_t attempt = 0;
};

// LoadSchedulerLimits and every queued job, read lean (Store::ForEachQueuedJob: no
// bodies). A queued job is held by a stored not_before no longer than its endpoint's
// limiter holds it, and a job already `ready` does not wait for a `due` that a clock set
// back put in the future. `position`, when given, receives where the result stands (read
// before the jobs: a change committed meanwhile is seen again by the next refresh, which
// is harmless).
Result<Scheduler> LoadSchedulerState(const Config& config, Store& store, const Instant& now,
                                     const std::string& boot_id = {},
                                     QueuePosition* position = nullptr);

// What RefreshSchedulerState did.
struct QueueRefresh {
  int64_t jobs = 0;              // jobs re-read (upserted or removed)
  bool limiter_rebuilt = false;  // the audit had grown: windows and budgets replayed
};

// Brings `scheduler`, which stands at `position`, in line with the store incrementally:
// re-reads only the jobs changed since position.job_change (each upserted with the same
// adjustments as LoadSchedulerState, or removed when no longer queued), replaces the
// pauses, and replays the limiter from the audit (a day's attempts: cheap) only when
// something changed: an attempt added since position.attempt, or any job changed (an
// outcome moves its job out of `sending`). Advances `position`. Jobs in flight are `sending` in the
// store, so a refresh never queues them again. REQUIRES: the same config as the scheduler was
// loaded with.
Result<QueueRefresh> RefreshSchedulerState(const Config& config, Store& store, Scheduler& scheduler,
                                           const Instant& now, const std::string& boot_id,
                                           QueuePosition& position);

// The held jobs (Store::HeldJobIds: of adopted campaigns not confirmed yet) into
// `scheduler` (Scheduler::ReplaceHeld). LoadSchedulerLimits, LoadSchedulerState and
// RefreshSchedulerState do it.
Status ReplaceHeld(Store& store, Scheduler& scheduler);

// Where a stored attempt's start and end lie on the timeline of `now` (see above).
Instant AttemptStart(const AttemptRow& attempt, const Instant& now, const std::string& boot_id);
Instant AttemptEnd(const AttemptRow& attempt, const Instant& now, const std::string& boot_id);

QueuedJob ToQueuedJob(const JobRow& row);

}  // namespace broadcastd
