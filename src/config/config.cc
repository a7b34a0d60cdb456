#include "config/config.h"

namespace broadcastd {

EndpointLimits Config::LimitsFor(const std::string& app, BroadcastTarget target) const {
  auto limit = limits.find(target);
  EndpointLimits result = limit != limits.end() ? limit->second : DefaultLimits(target);
  if (auto a = apps.find(app); a != apps.end()) {
    if (auto daily = a->second.daily_budget.find(target); daily != a->second.daily_budget.end()) {
      result.daily = daily->second;
    }
  }
  return result;
}

}  // namespace broadcastd
