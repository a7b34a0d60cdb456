#include "cli/status_render.h"

#include <algorithm>
#include <sstream>

#include "cli/text_table.h"
#include "core/log_value.h"
#include "core/time_format.h"

namespace broadcastd {
namespace {

using Row = TextRow;

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
    case Scheduler::ForecastEntry::kHeld:
      return "held";
  }
  return "?";
}

std::string ForecastText(const StatusReport::JobLine& job) {
  if (!job.forecast) return "-";
  switch (job.forecast->kind) {
    case Scheduler::ForecastEntry::kSend:
      return FormatDisplayTime(job.forecast->at);
    case Scheduler::ForecastEntry::kExpires:
      return "EXPIRES " + FormatDisplayTime(job.forecast->at);
    case Scheduler::ForecastEntry::kBeyondHorizon:
      return "after " + FormatDisplayTime(job.forecast->at);
    case Scheduler::ForecastEntry::kPaused:
      return "paused";
    case Scheduler::ForecastEntry::kHeld:
      return "held: adopted";
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
  return t ? nlohmann::json(FormatDisplayTime(*t)) : nlohmann::json(nullptr);
}

nlohmann::json OptionalText(const std::string& s) {
  return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
}

void Header(std::ostream& out, const StatusReport& r) {
  out << "broadcastd status at " << FormatDisplayTime(r.now.wall) << "\n";
  if (!r.lease) {
    out << "database " << r.database << ", daemon "
        << (r.daemon_pid ? "running (pid " + std::to_string(*r.daemon_pid) + ")" : "not running")
        << "\n";
    return;
  }
  const Store::LeaseStatus& l = *r.lease;
  out << "database " << r.database << "\nsender   ";
  if (l.holder.empty()) {
    out << "none yet (no daemon has held the sender lease)";
  } else if (l.expires <= l.db_now) {
    out << "none: the lease of " << l.holder << " expired at " << FormatDisplayTime(l.expires)
        << " (a standby takes it over at its next renewal)";
  } else {
    out << l.holder << " since " << FormatDisplayTime(l.since) << " (epoch " << l.epoch
        << ", lease valid until " << FormatDisplayTime(l.expires) << ")";
  }
  out << "\ndaemons  ";
  bool first_node = true;
  for (const auto& n : l.nodes) {
    const bool sender = n.node == l.holder && l.expires > l.db_now;
    out << (first_node ? "" : ", ") << n.node << " (" << (sender ? "sender" : "standby")
        << ", seen "
        << std::chrono::duration_cast<std::chrono::seconds>(l.db_now - n.last_seen).count()
        << " s ago)";
    first_node = false;
  }
  if (l.nodes.empty()) out << "none seen";
  out << "\n";
}

void QueueAndEndpoints(std::ostream& out, const StatusReport& r) {
  out << "\nQUEUE\n  ";
  bool first = true;
  for (const auto& [state, n] : r.jobs_by_state) {
    out << (first ? "" : "  ") << state << "=" << n;
    first = false;
  }
  out << "\n\nENDPOINTS\n";
  std::vector<Row> rows;
  for (const auto& e : r.endpoints) {
    rows.push_back({e.app, std::string(TargetName(e.target)),
                    std::to_string(e.used_today) + "/" + std::to_string(e.daily),
                    std::to_string(std::max(0, e.daily - e.used_today)), std::to_string(e.queued),
                    e.next_allowed <= r.now.wall ? "now" : FormatDisplayTime(e.next_allowed),
                    e.paused              ? "PAUSED " + e.pause_reason
                    : !e.no_token.empty() ? "NO TOKEN " + OneLine(e.no_token, 60)
                                          : "active"});
  }
  PrintTable(out, {"APP", "TARGET", "TODAY", "LEFT", "QUEUED", "NEXT SEND ALLOWED", "STATE"}, rows);
}

void Campaigns(std::ostream& out, const StatusReport& r) {
  size_t ok = 0;
  for (const auto& c : r.campaigns) ok += c.status == CampaignStatus::kOk;
  out << "\nCAMPAIGNS  " << r.campaigns.size() << " files, " << ok << " ok, "
      << r.campaign_problems.size() << " with problems\n";
  if (r.campaign_problems.empty()) return;
  std::vector<Row> rows;
  for (const auto& c : r.campaign_problems) {
    rows.push_back({OneLine(c.file, 200), c.campaign_id.empty() ? "-" : c.campaign_id,
                    std::string(CampaignStatusName(c.status)), OneLine(c.last_error)});
  }
  PrintTable(out, {"FILE", "ID", "STATUS", "ERROR"}, rows);
}

// Signed campaigns: the campaigns whose jobs wait for signers.
void SignatureHolds(std::ostream& out, const StatusReport& r) {
  if (r.signature_holds.empty()) return;
  out << "\nWAITING FOR SIGNATURES  " << r.signature_holds.size() << " campaigns\n";
  std::vector<Row> rows;
  for (const auto& h : r.signature_holds) {
    rows.push_back({h.campaign_id, OneLine(h.file, 200), std::to_string(h.queued),
                    h.signers.empty() ? "-" : OneLine(h.signers, 200), OneLine(h.reason, 200)});
  }
  PrintTable(out, {"CAMPAIGN", "FILE", "JOBS", "SIGNED BY", "HELD"}, rows);
  for (const auto& h : r.signature_holds) {
    if (!h.problems.empty())
      out << "  " << h.campaign_id << ": " << OneLine(h.problems, 300) << "\n";
  }
}

void Adopted(std::ostream& out, const StatusReport& r) {
  if (r.adopted.empty()) return;
  out << "\nADOPTED  " << r.adopted.size()
      << " campaigns a new queue found in the folder, held until confirmed\n";
  std::vector<Row> rows;
  for (const auto& c : r.adopted) {
    rows.push_back({c.campaign_id, c.file.empty() ? "-" : OneLine(c.file, 200),
                    std::to_string(c.queued_jobs), FormatDisplayTime(c.since),
                    "broadcastd --confirm " + c.campaign_id});
  }
  PrintTable(out, {"ID", "FILE", "QUEUED", "SINCE", "TO SEND"}, rows);
}

void Jobs(std::ostream& out, const StatusReport& r) {
  out << "\nJOBS";
  if (r.query.state) out << "  state=" << JobStateName(*r.query.state);
  if (r.query.campaign_id) out << "  campaign=" << *r.query.campaign_id;
  if (r.query.app) out << "  app=" << *r.query.app;
  if (r.query.target) out << "  target=" << TargetName(*r.query.target);
  out << (r.query.state ? "" : "  (unknown first, then the next to go out)") << "\n";
  std::vector<Row> rows;
  for (const auto& j : r.jobs) {
    const JobRow& row = j.row;
    rows.push_back({std::to_string(row.id), row.campaign_id, row.broadcast, row.occurrence,
                    row.app + "/" + std::string(TargetName(row.target)),
                    std::string(JobStateName(row.state)), FormatDisplayTime(row.due),
                    ForecastText(j), std::to_string(row.attempts), row.broadcast_id.value_or("-"),
                    OneLine(row.last_error, 60)});
  }
  PrintTable(out,
             {"ID", "CAMPAIGN", "BROADCAST", "OCCURRENCE", "ENDPOINT", "STATE", "DUE", "FORECAST",
              "ATTEMPTS", "BROADCAST ID", "LAST ERROR"},
             rows);
  if (r.next_cursor) {
    out << "  ... more: add --limit N, or page with --json and --after " << *r.next_cursor << "\n";
  }
}

nlohmann::json LeaseJson(const Store::LeaseStatus& l) {
  const bool held = !l.holder.empty() && l.expires > l.db_now;
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& n : l.nodes) {
    nodes.push_back(
        {{"node", n.node},
         {"role", held && n.node == l.holder ? "sender" : "standby"},
         {"last_seen", FormatDisplayTime(n.last_seen)},
         {"seen_seconds_ago",
          std::chrono::duration_cast<std::chrono::seconds>(l.db_now - n.last_seen).count()}});
  }
  return {{"holder", held ? nlohmann::json(l.holder) : nlohmann::json(nullptr)},
          {"last_holder", OptionalText(l.holder)},
          {"epoch", l.epoch},
          {"since",
           l.holder.empty() ? nlohmann::json(nullptr) : nlohmann::json(FormatDisplayTime(l.since))},
          {"expires", l.holder.empty() ? nlohmann::json(nullptr)
                                       : nlohmann::json(FormatDisplayTime(l.expires))},
          {"nodes", nodes}};
}

nlohmann::json EndpointsJson(const StatusReport& r) {
  nlohmann::json endpoints = nlohmann::json::array();
  for (const auto& e : r.endpoints) {
    endpoints.push_back(
        {{"app", e.app},
         {"target", TargetName(e.target)},
         {"used_today", e.used_today},
         {"daily", e.daily},
         {"left_today", std::max(0, e.daily - e.used_today)},
         {"queued", e.queued},
         {"jobs", e.jobs_by_state},
         {"next_send_allowed", FormatDisplayTime(std::max(e.next_allowed, r.now.wall))},
         {"paused", e.paused},
         {"pause_reason", OptionalText(e.pause_reason)},
         {"no_token", OptionalText(e.no_token)}});
  }
  return endpoints;
}

void CampaignsJson(const StatusReport& r, nlohmann::json& doc) {
  doc["campaigns"] = nlohmann::json::array();
  for (const auto& c : r.campaigns) {
    doc["campaigns"].push_back({{"file", c.file},
                                {"id", OptionalText(c.campaign_id)},
                                {"status", CampaignStatusName(c.status)},
                                {"error", OptionalText(c.last_error)},
                                {"updated_at", FormatDisplayTime(c.updated_at)}});
  }
  doc["signature_holds"] = nlohmann::json::array();
  for (const auto& h : r.signature_holds) {
    doc["signature_holds"].push_back({{"campaign", h.campaign_id},
                                      {"file", OptionalText(h.file)},
                                      {"queued", h.queued},
                                      {"signers", OptionalText(h.signers)},
                                      {"problems", OptionalText(h.problems)},
                                      {"reason", h.reason},
                                      {"since", FormatDisplayTime(h.since)}});
  }
  doc["campaign_problems"] = nlohmann::json::array();
  for (const auto& c : r.campaign_problems) {
    doc["campaign_problems"].push_back({{"file", c.file},
                                        {"status", CampaignStatusName(c.status)},
                                        {"error", OptionalText(c.last_error)}});
  }
}

nlohmann::json QueryJson(const StatusQuery& q) {
  nlohmann::json query = nlohmann::json::object();
  if (q.state) query["state"] = JobStateName(*q.state);
  if (q.campaign_id) query["campaign"] = *q.campaign_id;
  if (q.app) query["app"] = *q.app;
  if (q.target) query["target"] = TargetName(*q.target);
  if (q.after) query["after"] = EncodeCursor(*q.after);
  query["limit"] = q.limit;
  return query;
}

nlohmann::json JobJson(const StatusReport::JobLine& j) {
  const JobRow& row = j.row;
  nlohmann::json forecast = nullptr;
  if (j.forecast) {
    forecast = {{"kind", ForecastKindName(j.forecast->kind)},
                {"at", j.forecast->kind == Scheduler::ForecastEntry::kPaused ||
                               j.forecast->kind == Scheduler::ForecastEntry::kHeld
                           ? nlohmann::json(nullptr)
                           : nlohmann::json(FormatDisplayTime(j.forecast->at))}};
  }
  return {{"id", row.id},
          {"campaign", row.campaign_id},
          {"broadcast", row.broadcast},
          {"occurrence", row.occurrence},
          {"app", row.app},
          {"target", TargetName(row.target)},
          {"state", JobStateName(row.state)},
          {"priority", row.priority},
          {"due", FormatDisplayTime(row.due)},
          {"expires", OptionalTime(row.expires)},
          {"not_before", OptionalTime(row.not_before)},
          {"forecast", forecast},
          {"attempts", row.attempts},
          // A string: broadcast IDs exceed 2^53 and JSON readers that use doubles would
          // corrupt them.
          {"broadcast_id",
           row.broadcast_id ? nlohmann::json(*row.broadcast_id) : nlohmann::json(nullptr)},
          {"last_error", OptionalText(row.last_error)}};
}

}  // namespace

std::string RenderStatusText(const StatusReport& r) {
  std::ostringstream out;
  Header(out, r);
  QueueAndEndpoints(out, r);
  Campaigns(out, r);
  SignatureHolds(out, r);
  Adopted(out, r);
  Jobs(out, r);
  if (!r.warnings.empty()) {
    out << "\nWARNINGS\n";
    for (const auto& w : r.warnings) out << "  " << OneLine(w, 200) << "\n";
  }
  return out.str();
}

nlohmann::json RenderStatusJson(const StatusReport& r) {
  nlohmann::json doc;
  doc["format"] = 2;
  doc["now"] = FormatDisplayTime(r.now.wall);
  doc["database"] = r.database;
  doc["daemon"] = {{"running", r.daemon_pid.has_value()},
                   {"pid", r.daemon_pid ? nlohmann::json(*r.daemon_pid) : nlohmann::json(nullptr)}};
  doc["sender_lease"] = r.lease ? LeaseJson(*r.lease) : nlohmann::json(nullptr);
  doc["forecast_horizon_seconds"] =
      std::chrono::duration_cast<std::chrono::seconds>(r.forecast_horizon).count();
  doc["endpoints"] = EndpointsJson(r);
  doc["jobs_by_state"] = r.jobs_by_state;
  doc["unknown_jobs"] = r.unknown_jobs;
  CampaignsJson(r, doc);
  doc["adopted"] = nlohmann::json::array();
  for (const auto& c : r.adopted) {
    doc["adopted"].push_back({{"id", c.campaign_id},
                              {"file", OptionalText(c.file)},
                              {"queued_jobs", c.queued_jobs},
                              {"since", FormatDisplayTime(c.since)},
                              {"reason", AdoptedReason(c.campaign_id)}});
  }
  doc["query"] = QueryJson(r.query);
  doc["next_cursor"] = r.next_cursor ? nlohmann::json(*r.next_cursor) : nlohmann::json(nullptr);
  doc["jobs"] = nlohmann::json::array();
  for (const auto& j : r.jobs) doc["jobs"].push_back(JobJson(j));
  doc["warnings"] = r.warnings;
  return doc;
}

}  // namespace broadcastd
