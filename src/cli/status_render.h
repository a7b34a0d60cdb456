#pragma once
// --status's renderers of the status report (status/status_report.h): text for people,
// JSON (schema in README.md) for scripts.

#include <nlohmann/json.hpp>
#include <string>

#include "status/status_report.h"

namespace broadcastd {

std::string RenderStatusText(const StatusReport& report);
nlohmann::json RenderStatusJson(const StatusReport& report);

}  // namespace broadcastd
