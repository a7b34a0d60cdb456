#include <algorithm>
#include <sstream>

#include "cli/status_report.h"
#include "core/log_value.h"
#include "core/time_format.h"

namespace broadcastd {
namespace {

using Row = std::vector<std::string>;

// Left-aligned columns separated by two spaces; the last column is not padded.
void PrintTable(std::ostringstream& out, const Row& header, const std::vector<Row>& rows) {
  std::vector<size_t> width(header.size(), 0);
  auto measure = [&](const Row& r) {
    for (size_t i = 0; i < r.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], r[i].size());
    }
  };
  measure(header);
  for (const Row& r : rows) measure(r);
  auto print = [&](const Row& r) {
    out << "  ";
    for (size_t i = 0; i < r.size(); ++i) {
      out << r[i];
      if (i + 1 < r.size()) out << std::string(width[i] - r[i].size() + 2, ' ');
    }
    out << '\n';
  };
  print(header);
  for (const Row& r : rows) print(r);
}

std::string Time(std::optional<TimePoint> t) { return t ? FormatRfc3339(*t) : "-"; }

const char* ForecastKindName(Scheduler::ForecastEntry::Kind kind) {
  switch (kind) {
    case Scheduler::ForecastEntry::kSend:
      return "send";
    case Scheduler::ForecastEntry::kExpires:
      return "expires";
    case Scheduler::ForecastEntry::kBeyondHorizon:
      return "beyond_horizon";
    case Scheduler::ForecastEntry::kPaused:
      return "paused";
  }
  return "?";
}

std::string ForecastText(const StatusReport::JobLine& job) {
  if (!job.forecast) return "-";
  switch (job.forecast->kind) {
    case Scheduler::ForecastEntry::kSend:
      return FormatRfc3339(job.forecast->at);
    case Scheduler::ForecastEntry::kExpires:
      return "EXPIRES " + FormatRfc3339(job.forecast->at);
    case Scheduler::ForecastEntry::kBeyondHorizon:
      return "after " + FormatRfc3339(job.forecast->at);
    case Scheduler::ForecastEntry::kPaused:
      return "paused";
  }
  return "-";
}

// Text from files and servers on one line, with no control character left to move the
// cursor or forge a line: newlines become spaces, the rest are escaped.
std::string OneLine(std::string text, size_t max = 80) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  text = EscapeControl(text);
  if (text.size() > max) text = text.substr(0, max - 3) + "...";
  return text;
}

nlohmann::json OptionalTime(std::optional<TimePoint> t) {
  return t ? nlohmann::json(FormatRfc3339(*t)) : nlohmann::json(nullptr);
}

nlohmann::json OptionalText(const std::string& s) {
  return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
}

}  // namespace

std::string RenderStatusText(const StatusReport& r) {
  std::ostringstream out;
  out << "broadcastd status at " << FormatRfc3339(r.now) << "\n";
  out << "database " << r.database << ", daemon "
      << (r.daemon_pid ? "running (pid " + std::to_string(*r.daemon_pid) + ")" : "not running")
      << "\n\nENDPOINTS\n";
  std::vector<Row> rows;
  for (const auto& e : r.endpoints) {
    rows.push_back({e.app, std::string(TargetName(e.target)),
                    std::to_string(e.used_today) + "/" + std::to_string(e.daily),
                    std::to_string(std::max(0, e.daily - e.used_today)), std::to_string(e.queued),
                    e.next_allowed <= r.now ? "now" : FormatRfc3339(e.next_allowed),
                    e.paused              ? "PAUSED " + e.pause_reason
                    : !e.no_token.empty() ? "NO TOKEN " + OneLine(e.no_token, 60)
                                          : "active"});
  }
  PrintTable(out, {"APP", "TARGET", "TODAY", "LEFT", "QUEUED", "NEXT SEND ALLOWED", "STATE"}, rows);

  out << "\nCAMPAIGNS\n";
  rows.clear();
  for (const auto& c : r.campaigns) {
    std::string jobs;
    for (const auto& [state, n] : c.jobs_by_state) {
      jobs += (jobs.empty() ? "" : " ") + state + "=" + std::to_string(n);
    }
    rows.push_back(
        {OneLine(c.row.file, 200), c.row.campaign_id.empty() ? "-" : c.row.campaign_id,
         std::string(CampaignStatusName(c.row.status)), jobs.empty() ? "-" : jobs,
         Time(c.last_forecast),
         c.row.status == CampaignStatus::kRejected || c.row.status == CampaignStatus::kRefused
             ? OneLine(c.row.last_error)
             : ""});
  }
  PrintTable(out, {"FILE", "ID", "STATUS", "JOBS", "LAST FORECAST", "ERROR"}, rows);

  out << "\nJOBS\n";
  rows.clear();
  for (const auto& j : r.jobs) {
    const JobRow& row = j.row;
    rows.push_back({std::to_string(row.id), row.campaign_id, row.broadcast, row.occurrence,
                    row.app + "/" + std::string(TargetName(row.target)),
                    std::string(JobStateName(row.state)), FormatRfc3339(row.due), ForecastText(j),
                    std::to_string(row.attempts), row.broadcast_id.value_or("-"),
                    OneLine(row.last_error, 60)});
  }
  PrintTable(out,
             {"ID", "CAMPAIGN", "BROADCAST", "OCCURRENCE", "ENDPOINT", "STATE", "DUE", "FORECAST",
              "ATTEMPTS", "BROADCAST ID", "LAST ERROR"},
             rows);

  if (!r.warnings.empty()) {
    out << "\nWARNINGS\n";
    for (const auto& w : r.warnings) out << "  " << OneLine(w, 200) << "\n";
  }
  return out.str();
}

nlohmann::json RenderStatusJson(const StatusReport& r) {
  nlohmann::json doc;
  doc["format"] = 1;
  doc["now"] = FormatRfc3339(r.now);
  doc["database"] = r.database;
  doc["daemon"] = {{"running", r.daemon_pid.has_value()},
                   {"pid", r.daemon_pid ? nlohmann::json(*r.daemon_pid) : nlohmann::json(nullptr)}};
  doc["forecast_horizon_seconds"] =
      std::chrono::duration_cast<std::chrono::seconds>(r.forecast_horizon).count();
  doc["endpoints"] = nlohmann::json::array();
  for (const auto& e : r.endpoints) {
    doc["endpoints"].push_back(
        {{"app", e.app},
         {"target", TargetName(e.target)},
         {"used_today", e.used_today},
         {"daily", e.daily},
         {"left_today", std::max(0, e.daily - e.used_today)},
         {"queued", e.queued},
         {"next_send_allowed", FormatRfc3339(std::max(e.next_allowed, r.now))},
         {"paused", e.paused},
         {"pause_reason", OptionalText(e.pause_reason)},
         {"no_token", OptionalText(e.no_token)}});
  }
  doc["campaigns"] = nlohmann::json::array();
  for (const auto& c : r.campaigns) {
    doc["campaigns"].push_back({{"file", c.row.file},
                                {"id", OptionalText(c.row.campaign_id)},
                                {"status", CampaignStatusName(c.row.status)},
                                {"error", OptionalText(c.row.last_error)},
                                {"jobs", c.jobs_by_state},
                                {"last_forecast", OptionalTime(c.last_forecast)},
                                {"will_expire", c.will_expire}});
  }
  doc["jobs"] = nlohmann::json::array();
  for (const auto& j : r.jobs) {
    const JobRow& row = j.row;
    nlohmann::json forecast = nullptr;
    if (j.forecast) {
      forecast = {{"kind", ForecastKindName(j.forecast->kind)},
                  {"at", j.forecast->kind == Scheduler::ForecastEntry::kPaused
                             ? nlohmann::json(nullptr)
                             : nlohmann::json(FormatRfc3339(j.forecast->at))}};
    }
    doc["jobs"].push_back({{"id", row.id},
                           {"campaign", row.campaign_id},
                           {"broadcast", row.broadcast},
                           {"occurrence", row.occurrence},
                           {"app", row.app},
                           {"target", TargetName(row.target)},
                           {"state", JobStateName(row.state)},
                           {"priority", row.priority},
                           {"due", FormatRfc3339(row.due)},
                           {"expires", OptionalTime(row.expires)},
                           {"not_before", OptionalTime(row.not_before)},
                           {"forecast", forecast},
                           {"attempts", row.attempts},
                           // A string: broadcast IDs exceed 2^53 and JSON readers that use
                           // doubles would corrupt them.
                           {"broadcast_id", row.broadcast_id ? nlohmann::json(*row.broadcast_id)
                                                             : nlohmann::json(nullptr)},
                           {"last_error", OptionalText(row.last_error)}});
  }
  doc["warnings"] = r.warnings;
  return doc;
}

}  // namespace broadcastd
