#pragma once
// Forecast send times from the head of each endpoint's queue: for the listed jobs of
// the status report, and for every endpoint over a span (the page's timeline). The
// forecast is the scheduler's own (Scheduler::Forecast) on the limits rebuilt from the
// store, so it is what the daemon would do.

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/error.h"
#include "scheduler/scheduler.h"
#include "status/status_report.h"
#include "store/store.h"

namespace broadcastd {

// The forecast send times within `horizon` of `now` of every endpoint, from the head of
// each queue (at most kForecastHeadCap jobs: with more, the sends of the jobs left out are
// not shown, and `exact_until` is the due of the first of them).
struct EndpointForecast {
  EndpointKey endpoint;
  std::vector<TimePoint> sends;
  std::optional<TimePoint> exact_until;
};
// REQUIRES: `store` open (read-only is enough) with no transaction open. `now` and
// `boot_id` as for GatherStatus.
Result<std::vector<EndpointForecast>> ForecastSends(const Config& config, Store& store,
                                                    const Instant& now, Duration horizon,
                                                    const std::string& boot_id);

// Sets the forecast of `lines`, queued jobs of endpoint `key`, from the head of that
// endpoint's queue simulated on `limits`. REQUIRES: a read transaction open on `store`.
Status ForecastListedJobs(const Scheduler& limits, Store& store, const EndpointKey& key,
                          const Instant& now, const std::vector<StatusReport::JobLine*>& lines);

}  // namespace broadcastd
