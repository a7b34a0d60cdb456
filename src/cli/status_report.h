#pragma once
// What `broadcastd --status` shows: every app endpoint (budget used and left,
// when the next window opens), every campaign and every job with its forecast
// send time. Gathered read-only from the store, so it works while the daemon
// runs; rendered as text for people or as JSON (schema in README.md) for scripts.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/error.h"
#include "scheduler/scheduler.h"
#include "store/store.h"

namespace broadcastd {

struct StatusReport {
  struct Endpoint {
    std::string app;
    BroadcastTarget target;
    int used_today = 0;
    int daily = 0;
    TimePoint next_allowed;
    bool paused = false;
    std::string pause_reason;
    size_t queued = 0;
    std::string no_token;  // why the daemon has no token for the app ("" when it has)
  };
  struct CampaignLine {
    CampaignRow row;
    std::map<std::string, int> jobs_by_state;
    std::optional<TimePoint> last_forecast;  // when its last queued job is forecast to go out
    int will_expire = 0;                     // queued jobs forecast to expire unsent
  };
  struct JobLine {
    JobRow row;
    std::optional<Scheduler::ForecastEntry> forecast;  // queued jobs only
  };

  TimePoint now;
  std::string database;
  std::optional<int> daemon_pid;
  Duration forecast_horizon{0};
  std::vector<Endpoint> endpoints;
  std::vector<CampaignLine> campaigns;
  std::vector<JobLine> jobs;
  std::vector<std::string> warnings;
};

// Forecasts at most this far ahead; later jobs are shown as beyond the horizon.
inline constexpr Duration kForecastHorizon = std::chrono::hours(24 * 14);

// REQUIRES: `store` open (read-only is enough). `now` reads both clocks and `boot_id`
// names the boot of its monotonic part (Clock::BootId), so that --status rebuilds the
// windows as the daemon does.
Result<StatusReport> GatherStatus(const Config& config, Store& store, const Instant& now,
                                  const std::string& boot_id = {});

std::string RenderStatusText(const StatusReport& report);
nlohmann::json RenderStatusJson(const StatusReport& report);

}  // namespace broadcastd
