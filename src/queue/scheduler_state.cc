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

Result<Scheduler> LoadSchedulerLimits(const Config& config, Store& store, TimePoint now) {
  Scheduler scheduler(LimiterOptionsFor(config));
  for (const auto& [name, app] : config.apps) {
    for (BroadcastTarget target : kAllTargets) {
      scheduler.Configure(EndpointKey{name, target}, config.LimitsFor(name, target));
    }
  }

  auto attempts = store.AttemptsSince(now - AuditLookback(config));
  if (!attempts) return std::unexpected(attempts.error());
  for (const AttemptRow& a : *attempts) {
    EndpointKey key{a.app, a.target};
    scheduler.limiter().RecordAttempt(key, a.started_at);
    if (a.outcome) {
      AttemptResult result{*a.outcome, a.http_status, a.retry_after};
      scheduler.limiter().RecordOutcome(key, a.ended_at.value_or(a.started_at), result);
    }
  }

  auto pauses = store.Pauses();
  if (!pauses) return std::unexpected(pauses.error());
  for (const PauseRow& p : *pauses) scheduler.SetPaused(EndpointKey{p.app, p.target}, true);
  return scheduler;
}

Result<Scheduler> LoadSchedulerState(const Config& config, Store& store, TimePoint now) {
  auto scheduler = LoadSchedulerLimits(config, store, now);
  if (!scheduler) return std::unexpected(scheduler.error());

  auto jobs = store.QueuedJobs();
  if (!jobs) return std::unexpected(jobs.error());
  for (const JobRow& row : *jobs) scheduler->Upsert(ToQueuedJob(row));
  return scheduler;
}

}  // namespace broadcastd
