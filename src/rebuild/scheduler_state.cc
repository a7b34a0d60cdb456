#include "rebuild/scheduler_state.h"

#include <algorithm>
#include <set>
#include <utility>

namespace broadcastd {

Duration AuditLookback(const Config& config) {
  Duration longest{0};
  for (const auto& [target, limits] : config.limits) {
    for (const RateWindow& w : limits.windows) longest = std::max(longest, w.length);
  }
  return longest + std::chrono::hours(24) + std::chrono::minutes(1);
}

LimiterOptions LimiterOptionsFor(const Config& config) {
  LimiterOptions options;
  options.day_boundary = config.day_boundary;
  options.safety_margin = config.safety_margin;
  return options;
}

QueuedJob ToQueuedJob(const JobRow& row) {
  QueuedJob job;
  job.id = row.id;
  job.endpoint = EndpointKey{row.app, row.target};
  job.priority = row.priority;
  job.due = row.due;
  job.expires = row.expires;
  job.not_before = row.not_before;
  return job;
}

namespace {

// On this boot an attempt's place is its monotonic reading, and its wall time is where that
// reading falls on the wall clock of `now`, not the wall time it was stamped with: the day
// of an attempt must not move when the wall clock steps. Were the stamp kept, an attempt made
// just before a step back would count on the day before while the step holds it in the
// future (clamped to now), and again on its stamped day once the clock reaches that day,
// beside the requests the daemon sent meanwhile on that day: "used 6/3".
Instant Place(TimePoint wall, std::optional<MonoTime> mono, bool same_boot, const Instant& now) {
  if (same_boot && mono) {
    const MonoTime m = std::min(*mono, now.mono);
    return Instant(now.WallOf(m), m);
  }
  const MonoTime m = now.MonoOf(wall);
  return Instant(std::min(wall, now.wall), std::min(m, now.mono));
}

bool SameBoot(const AttemptRow& attempt, const std::string& boot_id) {
  return !boot_id.empty() && attempt.boot_id == boot_id;
}

}  // namespace

Status ReplaceHeld(Store& store, Scheduler& scheduler) {
  auto held = store.HeldJobIds();
  if (!held) return std::unexpected(held.error());
  scheduler.ReplaceHeld(*held);
  return {};
}

Instant AttemptStart(const AttemptRow& attempt, const Instant& now, const std::string& boot_id) {
  return Place(attempt.started_at, attempt.started_mono, SameBoot(attempt, boot_id), now);
}

Instant AttemptEnd(const AttemptRow& attempt, const Instant& now, const std::string& boot_id) {
  if (!attempt.ended_at) return AttemptStart(attempt, now, boot_id);
  return Place(*attempt.ended_at, attempt.ended_mono, SameBoot(attempt, boot_id), now);
}

Result<Scheduler> LoadSchedulerLimits(const Config& config, Store& store, const Instant& now,
                                      const std::string& boot_id) {
  Scheduler scheduler(LimiterOptionsFor(config));
  for (const auto& [name, app] : config.apps) {
    for (BroadcastTarget target : kAllTargets) {
      scheduler.Configure(EndpointKey{name, target}, config.LimitsFor(name, target));
    }
  }

  const Duration lookback = AuditLookback(config);
  auto attempts = store.RecentAttempts(now.wall - lookback, boot_id, now.mono - lookback);
  if (!attempts) return std::unexpected(attempts.error());
  for (const AttemptRow& a : *attempts) {
    EndpointKey key{a.app, a.target};
    const Instant started = AttemptStart(a, now, boot_id);
    scheduler.limiter().RecordAttempt(key, started);
    if (a.outcome) {
      AttemptResult result{*a.outcome, a.http_status, a.retry_after, started};
      scheduler.limiter().RecordOutcome(key, AttemptEnd(a, now, boot_id), result);
    }
  }

  auto pauses = store.Pauses();
  if (!pauses) return std::unexpected(pauses.error());
  for (const PauseRow& p : *pauses) scheduler.SetPaused(EndpointKey{p.app, p.target}, true);
  if (Status st = ReplaceHeld(store, scheduler); !st) return std::unexpected(st.error());
  return scheduler;
}

namespace {

// The scheduler's view of a lean row, reusing `job` (and its endpoint's string when the
// endpoint is the previous row's), with LoadSchedulerState's adjustments.
void FillQueuedJob(const QueuedJobRow& row, const Scheduler& scheduler, const Instant& now,
                   QueuedJob& job) {
  job.id = row.id;
  if (job.endpoint.app != row.app) job.endpoint.app.assign(row.app);
  job.endpoint.target = row.target;
  job.priority = row.priority;
  job.due = row.due;
  job.expires = row.expires;
  job.not_before = row.not_before;
  if (row.state == JobState::kReady && job.due > now.wall) job.due = now.wall;
  if (job.not_before && *job.not_before > now.wall) {
    job.not_before = std::min(*job.not_before, scheduler.limiter().NextAllowed(job.endpoint, now));
  }
}

Result<QueuePosition> PositionOf(Store& store) {
  QueuePosition position;
  auto change = store.LastJobChange();
  if (!change) return std::unexpected(change.error());
  position.job_change = *change;
  auto attempt = store.LastAttemptId();
  if (!attempt) return std::unexpected(attempt.error());
  position.attempt = *attempt;
  return position;
}

int64_t QueuedCount(Store& store) {
  auto counts = store.CountJobs();
  if (!counts) return 0;  // only a hint
  int64_t n = 0;
  for (const Store::JobCount& c : *counts) {
    if (IsQueued(c.state)) n += c.count;
  }
  return n;
}

}  // namespace

Result<Scheduler> LoadSchedulerState(const Config& config, Store& store, const Instant& now,
                                     const std::string& boot_id, QueuePosition* position) {
  if (position != nullptr) {
    auto at = PositionOf(store);
    if (!at) return std::unexpected(at.error());
    *position = *at;
  }
  auto loaded = LoadSchedulerLimits(config, store, now, boot_id);
  if (!loaded) return std::unexpected(loaded.error());
  Scheduler& scheduler = *loaded;
  scheduler.Reserve(static_cast<size_t>(QueuedCount(store)));

  // Jobs of campaigns waiting for signatures are not the scheduler's (the claim refuses
  // them): they come back through the job change log once released.
  auto held = store.SignatureHeldJobs();
  if (!held) return std::unexpected(held.error());
  QueuedJob job;
  auto read = store.ForEachQueuedJob([&](const QueuedJobRow& row) {
    if (held->contains(row.id)) return;
    FillQueuedJob(row, scheduler, now, job);
    scheduler.Upsert(job);
  });
  if (!read) return std::unexpected(read.error());
  // Read after the queue: a job a held campaign gained meanwhile is held.
  if (Status st = ReplaceHeld(store, scheduler); !st) return std::unexpected(st.error());
  return loaded;
}

Result<QueueRefresh> RefreshSchedulerState(const Config& config, Store& store, Scheduler& scheduler,
                                           const Instant& now, const std::string& boot_id,
                                           QueuePosition& position) {
  QueueRefresh refresh;
  // The limiter first: the jobs' not_before is clamped by it. The audit changed when an
  // attempt was added or a job changed (an outcome moves its job out of `sending`).
  auto attempt = store.LastAttemptId();
  if (!attempt) return std::unexpected(attempt.error());
  auto changes = store.CountJobChangesSince(position.job_change);
  if (!changes) return std::unexpected(changes.error());
  if (*attempt != position.attempt || *changes > 0) {
    auto limits = LoadSchedulerLimits(config, store, now, boot_id);
    if (!limits) return std::unexpected(limits.error());
    scheduler.limiter() = std::move(limits->limiter());
    position.attempt = *attempt;
    refresh.limiter_rebuilt = true;
  }

  auto pauses = store.Pauses();
  if (!pauses) return std::unexpected(pauses.error());
  std::set<EndpointKey> paused;
  for (const PauseRow& p : *pauses) paused.insert(EndpointKey{p.app, p.target});
  scheduler.ReplacePauses(std::move(paused));

  auto held = store.SignatureHeldJobs();
  if (!held) return std::unexpected(held.error());
  QueuedJob job;
  auto last =
      store.ForEachJobChangedSince(position.job_change, [&](int64_t id, const QueuedJobRow* row) {
        ++refresh.jobs;
        if (row == nullptr || held->contains(id)) {
          scheduler.Remove(id);
          return;
        }
        FillQueuedJob(*row, scheduler, now, job);
        scheduler.Upsert(job);
      });
  if (!last) return std::unexpected(last.error());
  position.job_change = *last;
  // Read after the changes (a job a held campaign gained meanwhile is held), and every
  // time: a confirmation changes no job.
  if (Status st = ReplaceHeld(store, scheduler); !st) return std::unexpected(st.error());
  return refresh;
}

}  // namespace broadcastd
