#include "status/send_forecast.h"

#include <algorithm>

#include "rebuild/scheduler_state.h"
#include "status/store_snapshot.h"

namespace broadcastd {

Status ForecastListedJobs(const Scheduler& limits, Store& store, const EndpointKey& key,
                          const Instant& now, const std::vector<StatusReport::JobLine*>& lines) {
  TimePoint through = TimePoint::min();
  for (const auto* line : lines) through = std::max(through, line->row.due);
  auto head = store.QueuedHead(key.app, key.target, through, kForecastHeadCap);
  if (!head) return std::unexpected(head.error());

  Scheduler sim = limits;
  for (const JobRow& row : head->jobs) sim.Upsert(ToQueuedJob(row));
  auto forecast = sim.Forecast(now, kForecastHorizon);
  for (auto* line : lines) {
    // A job left out of the head falls due at or after every job in it, so at equal
    // priority it waits behind them all: the head's forecast stands. (A job deeper in
    // the queue with a higher priority could still take a slot first.)
    if (auto it = forecast.find(line->row.id); it != forecast.end()) {
      line->forecast = it->second;
    } else {
      // Deeper than the simulated head: it cannot go before the first job left out.
      line->forecast = Scheduler::ForecastEntry{Scheduler::ForecastEntry::kBeyondHorizon,
                                                head->cut.value_or(now.wall + kForecastHorizon)};
    }
  }
  return {};
}

Result<std::vector<EndpointForecast>> ForecastSends(const Config& config, Store& store,
                                                    const Instant& now, Duration horizon,
                                                    const std::string& boot_id) {
  auto snapshot = StoreSnapshot::Begin(store);
  if (!snapshot) return std::unexpected(snapshot.error());
  auto limits = LoadSchedulerLimits(config, store, now, boot_id);
  if (!limits) return std::unexpected(limits.error());
  std::vector<EndpointForecast> result;
  for (const auto& [name, app] : config.apps) {
    for (BroadcastTarget target : kAllTargets) {
      EndpointForecast f{EndpointKey{name, target}, {}, std::nullopt};
      auto head = store.QueuedHead(name, target, now.wall + horizon, kForecastHeadCap);
      if (!head) return std::unexpected(head.error());
      Scheduler sim = *limits;
      for (const JobRow& row : head->jobs) sim.Upsert(ToQueuedJob(row));
      for (const auto& [id, entry] : sim.Forecast(now, horizon)) {
        if (entry.kind != Scheduler::ForecastEntry::kSend) continue;
        f.sends.push_back(entry.at);
      }
      std::sort(f.sends.begin(), f.sends.end());
      if (head->cut && head->jobs.size() >= kForecastHeadCap) f.exact_until = head->cut;
      result.push_back(std::move(f));
    }
  }
  return result;
}

}  // namespace broadcastd
