#include "queue/scheduler_state.h"

#include <algorithm>

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

Instant Place(TimePoint wall, std::optional<MonoTime> mono, bool same_boot, const Instant& now) {
  MonoTime m = same_boot && mono ? *mono : now.MonoOf(wall);
  return Instant(std::min(wall, now.wall), std::min(m, now.mono));
}

bool SameBoot(const AttemptRow& attempt, const std::string& boot_id) {
  return !boot_id.empty() && attempt.boot_id == boot_id;
}

}  // namespace

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
    scheduler.limiter().RecordAttempt(key, AttemptStart(a, now, boot_id));
    if (a.outcome) {
      AttemptResult result{*a.outcome, a.http_status, a.retry_after};
      scheduler.limiter().RecordOutcome(key, AttemptEnd(a, now, boot_id), result);
    }
  }

  auto pauses = store.Pauses();
  if (!pauses) return std::unexpected(pauses.error());
  for (const PauseRow& p : *pauses) scheduler.SetPaused(EndpointKey{p.app, p.target}, true);
  return scheduler;
}

Result<Scheduler> LoadSchedulerState(const Config& config, Store& store, const Instant& now,
                                     const std::string& boot_id) {
  auto loaded = LoadSchedulerLimits(config, store, now, boot_id);
  if (!loaded) return std::unexpected(loaded.error());
  Scheduler& scheduler = *loaded;

  auto jobs = store.QueuedJobs();
  if (!jobs) return std::unexpected(jobs.error());
  for (const JobRow& row : *jobs) {
    QueuedJob job = ToQueuedJob(row);
    if (row.state == JobState::kReady && job.due > now.wall) job.due = now.wall;
    if (job.not_before && *job.not_before > now.wall) {
      job.not_before =
          std::min(*job.not_before, scheduler.limiter().NextAllowed(job.endpoint, now));
    }
    scheduler.Upsert(job);
  }
  return loaded;
}

}  // namespace broadcastd
