#pragma once
// The status page served at `/`: what --status shows, for a person with a browser
// (endpoints with budget bars and window state, a 24-hour timeline of forecast sends per
// endpoint, the unknown jobs with the command that resolves each, the campaign files with
// problems). One HTML document with inline SVG and CSS: no script, no external asset.
// Every value that comes from a file, the config or the server is HTML-escaped.

#include <string>
#include <string_view>
#include <vector>

#include "status/send_forecast.h"
#include "status/status_report.h"

namespace broadcastd {

inline constexpr Duration kTimelineSpan = std::chrono::hours(24);

std::string HtmlEscape(std::string_view text);

// `report` gathered with StatusQuery{.state = JobState::kUnknown}; `forecast` from
// ForecastSends(…, kTimelineSpan) with the same reading of the clocks (report.now).
std::string RenderStatusPage(const StatusReport& report,
                             const std::vector<EndpointForecast>& forecast);

}  // namespace broadcastd
