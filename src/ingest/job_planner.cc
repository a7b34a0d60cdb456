#include "ingest/job_planner.h"

#include <algorithm>

#include "core/time_format.h"
#include "cron/cron.h"
#include "easemob/request_body.h"

namespace broadcastd {

std::optional<TimePoint> OnceDeadline(const Broadcast& broadcast, TimePoint due,
                                      std::optional<Duration> max_delay) {
  if (broadcast.max_delay) max_delay = broadcast.max_delay->limit;
  std::optional<TimePoint> deadline = broadcast.expires_at;
  if (max_delay && (!deadline || due + *max_delay < *deadline)) deadline = due + *max_delay;
  return deadline;
}

Result<JobPlan> PlanJobs(const Campaign& campaign, const std::string& app, TimePoint default_due,
                         std::optional<Duration> max_delay, TimePoint from,
                         const std::map<std::string, TimePoint>& from_by_broadcast, TimePoint to,
                         size_t max_per_broadcast) {
  JobPlan plan;
  plan.covered_from = from;
  for (const Broadcast& b : campaign.broadcasts) {
    Store::JobSpec base;
    base.broadcast = b.name;
    base.app = app;
    base.target = b.target;
    base.priority = campaign.priority;
    base.body = BuildRequestBody(b);

    if (!b.repeat) {
      Store::JobSpec spec = base;
      spec.occurrence = kOnceOccurrence;
      spec.due = b.send_at.value_or(default_due);
      spec.due_is_default = !b.send_at.has_value();
      spec.expires = OnceDeadline(b, spec.due, max_delay);
      spec.max_delay = b.max_delay ? b.max_delay->limit : max_delay;
      plan.jobs.push_back(std::move(spec));
      continue;
    }

    auto schedule = CronSchedule::Create(b.repeat->cron, b.repeat->timezone);
    if (!schedule) {
      return Fail(schedule.error().kind, "broadcast " + b.name + ": " + schedule.error().message);
    }
    TimePoint start = from;
    if (auto it = from_by_broadcast.find(b.name); it != from_by_broadcast.end()) {
      start = std::min(start, it->second);
    }
    plan.covered_from = std::min(plan.covered_from, start);
    if (b.send_at) start = std::max(start, *b.send_at);
    TimePoint end = to;
    if (b.repeat->until) end = std::min(end, *b.repeat->until);
    // The first occurrence after what this pass describes, if it is not after until.
    auto note_next = [&](std::optional<TimePoint> next) {
      if (!next || (b.repeat->until && *next > *b.repeat->until)) return;
      if (!plan.next_occurrence || *next < *plan.next_occurrence) plan.next_occurrence = next;
    };
    if (start > end) {
      note_next(schedule->NextAfter(std::max(start, end) - Duration(1)));
      continue;
    }
    const std::vector<TimePoint> occurrences = schedule->Between(start, end, max_per_broadcast);
    for (TimePoint occurrence : occurrences) {
      Store::JobSpec spec = base;
      spec.occurrence = FormatRfc3339(occurrence);
      spec.due = occurrence;
      spec.expires = schedule->NextAfter(occurrence);
      plan.jobs.push_back(std::move(spec));
    }
    note_next(schedule->NextAfter(occurrences.size() >= max_per_broadcast && !occurrences.empty()
                                      ? occurrences.back()
                                      : end));
  }
  return plan;
}

}  // namespace broadcastd
