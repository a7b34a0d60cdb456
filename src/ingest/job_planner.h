#pragma once
// Which jobs a valid campaign asks for. Pure: no I/O.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "campaign/campaign.h"
#include "core/clock.h"
#include "core/error.h"
#include "store/store.h"

namespace broadcastd {

inline constexpr const char* kOnceOccurrence = "once";

struct JobPlan {
  std::vector<Store::JobSpec> jobs;
  // Timed occurrences earlier than this are outside what `jobs` describes: the
  // store must not cancel them just because they are missing.
  TimePoint covered_from;
  // The earliest occurrence of a repeating broadcast that `jobs` stop short of (past
  // `to`, or left out by the cap): until it enters the horizon, a later pass adds
  // nothing. None when no repeating broadcast has an occurrence left.
  std::optional<TimePoint> next_occurrence;
};

// A broadcast without `repeat` is one job, occurrence "once", due at send_at or,
// without one, at `default_due` (the file's modification time: "as soon as
// allowed" counted from its latest version). It expires at the earlier of its
// expires_at and due + max_delay (the lateness guard: the broadcast's own max_delay,
// else `max_delay`, the config's; none: no guard), so that a broadcast days late (a
// wrong year, a file restored from a backup, a daemon stopped over a weekend) is not
// sent: the scheduler, the forecast and --status see the guard as the job's expiry.
//
// A repeating broadcast is one job per cron occurrence in [from, to] (at most
// `max_per_broadcast`), never before send_at nor after until; `from` may be
// earlier for one broadcast (`from_by_broadcast`, by name) so that its pending
// occurrences are described too and are updated rather than cancelled. Each occurrence
// expires when the next one is due: a backlog must not send yesterday's nightly
// message after tonight's is due.
//
// The deadline of a one-shot broadcast due at `due`: the earlier of its expires_at and
// due + its max_delay (else `max_delay`); none when neither applies.
std::optional<TimePoint> OnceDeadline(const Broadcast& broadcast, TimePoint due,
                                      std::optional<Duration> max_delay);

// REQUIRES: `campaign` was validated (cron and time zone parse) and `app` is
// the resolved app name.
Result<JobPlan> PlanJobs(const Campaign& campaign, const std::string& app, TimePoint default_due,
                         std::optional<Duration> max_delay, TimePoint from,
                         const std::map<std::string, TimePoint>& from_by_broadcast, TimePoint to,
                         size_t max_per_broadcast);

}  // namespace broadcastd
