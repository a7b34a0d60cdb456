// --history JOB: what happened to one job, from the audit the store keeps: every request
// (attempt) with its answer, and every operator action on the job, on its campaign
// (cancel_campaign) and on its endpoint (pause, resume) since the job was created.

#include <charconv>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/database_access.h"
#include "cli/text_table.h"
#include "config/config_loader.h"
#include "core/time_format.h"
#include "store/configured_store.h"
#include "store/store.h"

namespace broadcastd {
namespace {

nlohmann::json JsonTime(std::optional<TimePoint> t) {
  return t ? nlohmann::json(FormatDisplayTime(*t)) : nlohmann::json(nullptr);
}

nlohmann::json JsonText(const std::string& s) {
  return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
}

// One line: the vendor's error, its description and the daemon's detail.
std::string AttemptError(const AttemptRow& a) {
  std::string text = a.vendor_error;
  if (!a.error_description.empty()) text += (text.empty() ? "" : ": ") + a.error_description;
  if (!a.detail.empty()) text += (text.empty() ? "" : "; ") + a.detail;
  return text;
}

// Where an operator action applied, as the store records it (OperatorActionRow::scope):
// the job itself, its whole campaign, or its endpoint (since the job was created).
std::optional<std::string> ScopeOf(const OperatorActionRow& o, const JobRow& job) {
  if (o.job_id) return o.job_id == job.id ? std::optional<std::string>("job") : std::nullopt;
  if (o.at < job.created_at) return std::nullopt;
  if (o.scope == CampaignScope(job.campaign_id)) return "campaign";
  if (o.scope == EndpointScope(job.app, job.target)) return "endpoint";
  return std::nullopt;
}

struct ActionLine {
  OperatorActionRow row;
  std::string scope;
};

std::string OutcomeText(const AttemptRow& a) {
  return a.outcome ? std::string(OutcomeName(*a.outcome)) : "in_flight";
}

// Signed campaigns: the signers each attempt carried (the audit), and what the signatures
// of the campaign's current version say.
struct HistorySigners {
  std::map<int64_t, std::string> by_attempt;
  std::optional<Store::CampaignSignatures> campaign;
};

nlohmann::json HistoryJson(const JobRow& job, const std::vector<AttemptRow>& attempts,
                           const std::vector<ActionLine>& actions, const HistorySigners& signers) {
  nlohmann::json doc;
  doc["format"] = 1;
  doc["job"] = {{"id", job.id},
                {"file", job.file},
                {"campaign", job.campaign_id},
                {"broadcast", job.broadcast},
                {"occurrence", job.occurrence},
                {"app", job.app},
                {"target", TargetName(job.target)},
                {"state", JobStateName(job.state)},
                {"due", FormatDisplayTime(job.due)},
                {"expires", JsonTime(job.expires)},
                {"attempts", job.attempts},
                {"broadcast_id",
                 job.broadcast_id ? nlohmann::json(*job.broadcast_id) : nlohmann::json(nullptr)},
                {"last_error", JsonText(job.last_error)},
                {"created_at", FormatDisplayTime(job.created_at)},
                {"updated_at", FormatDisplayTime(job.updated_at)}};
  doc["attempts"] = nlohmann::json::array();
  for (const AttemptRow& a : attempts) {
    doc["attempts"].push_back(
        {{"id", a.id},
         {"started_at", FormatDisplayTime(a.started_at)},
         {"ended_at", JsonTime(a.ended_at)},
         {"http_status", a.http_status ? nlohmann::json(*a.http_status) : nlohmann::json(nullptr)},
         {"class", a.outcome ? nlohmann::json(OutcomeName(*a.outcome)) : nlohmann::json(nullptr)},
         {"broadcast_id",
          a.broadcast_id ? nlohmann::json(*a.broadcast_id) : nlohmann::json(nullptr)},
         {"vendor_error", JsonText(a.vendor_error)},
         {"error_description", JsonText(a.error_description)},
         {"detail", JsonText(a.detail)},
         {"retry_after_seconds",
          a.retry_after ? nlohmann::json(std::chrono::duration<double>(*a.retry_after).count())
                        : nlohmann::json(nullptr)}});
    if (auto it = signers.by_attempt.find(a.id); it != signers.by_attempt.end()) {
      doc["attempts"].back()["signers"] = it->second;
    }
  }
  if (signers.campaign) {
    doc["signatures"] = {{"signers", JsonText(signers.campaign->signers)},
                         {"problems", JsonText(signers.campaign->problems)},
                         {"held", signers.campaign->held ? nlohmann::json(*signers.campaign->held)
                                                         : nlohmann::json(nullptr)}};
  }
  doc["operator_actions"] = nlohmann::json::array();
  for (const auto& [o, scope] : actions) {
    doc["operator_actions"].push_back({{"id", o.id},
                                       {"at", FormatDisplayTime(o.at)},
                                       {"action", o.action},
                                       {"scope", scope},
                                       {"detail", JsonText(o.detail)}});
  }
  return doc;
}

std::string HistoryText(const JobRow& job, const std::vector<AttemptRow>& attempts,
                        const std::vector<ActionLine>& actions, const HistorySigners& signers) {
  std::ostringstream out;
  out << "job " << job.id << "  " << job.campaign_id << "/" << job.broadcast
      << (job.occurrence == "once" ? "" : "@" + job.occurrence) << "  " << job.app << "/"
      << TargetName(job.target) << "  " << JobStateName(job.state) << "\n";
  out << "  file " << job.file << ", due " << FormatDisplayTime(job.due);
  if (job.expires) out << ", expires " << FormatDisplayTime(*job.expires);
  if (job.broadcast_id) out << ", broadcast ID " << *job.broadcast_id;
  if (signers.campaign) {
    out << "\n  signed by "
        << (signers.campaign->signers.empty() ? "nobody" : signers.campaign->signers);
    if (signers.campaign->held) out << "; HELD " << *signers.campaign->held;
    if (!signers.campaign->problems.empty()) {
      out << "\n  not counted: " << signers.campaign->problems;
    }
  }
  out << "\n\nATTEMPTS\n";
  std::vector<TextRow> rows;
  for (const AttemptRow& a : attempts) {
    rows.push_back({std::to_string(a.id), FormatDisplayTime(a.started_at),
                    a.ended_at ? FormatDisplayTime(*a.ended_at) : "-",
                    a.http_status ? std::to_string(*a.http_status) : "-", OutcomeText(a),
                    a.broadcast_id.value_or("-"), AttemptError(a)});
  }
  if (rows.empty()) {
    out << "  none\n";
  } else {
    PrintTable(out, {"ID", "STARTED", "ENDED", "HTTP", "CLASS", "BROADCAST ID", "ERROR"}, rows);
  }
  for (const auto& [attempt, who] : signers.by_attempt) {
    out << "  attempt " << attempt << " carried the version signed by " << who << "\n";
  }
  out << "\nOPERATOR ACTIONS\n";
  rows.clear();
  for (const auto& [o, scope] : actions) {
    rows.push_back({FormatDisplayTime(o.at), o.action, scope, o.detail});
  }
  if (rows.empty()) {
    out << "  none\n";
  } else {
    PrintTable(out, {"AT", "ACTION", "ON", "DETAIL"}, rows);
  }
  return out.str();
}

}  // namespace

int RunHistory(const CommandContext& ctx, const std::string& job_text, bool json) {
  int64_t id = 0;
  auto [end, ec] = std::from_chars(job_text.data(), job_text.data() + job_text.size(), id);
  if (ec != std::errc() || end != job_text.data() + job_text.size()) {
    ctx.err << "--history: not a job id: '" << job_text << "' (--status lists them)\n";
    return 2;
  }
  auto config = ConfigForOperatorCommand(ctx.config_path, ctx.err);
  if (!config) {
    ctx.err << config.error().message << "\n";
    return 2;
  }
  auto store = OpenConfiguredStore(*config, Store::Mode::kReadOnly);
  if (!store) {
    ctx.err << store.error().message << "\n";
    return 2;
  }
  if (auto begun = store->BeginSnapshot(); !begun) {
    ctx.err << begun.error().message << "\n";
    return 2;
  }
  auto job = store->Job(id);
  auto attempts = store->AttemptsOf(id);
  auto actions = store->OperatorActions();
  HistorySigners signers;
  if (auto by_attempt = store->AttemptSigners(id); by_attempt) {
    signers.by_attempt = std::move(*by_attempt);
  }
  if (job && *job) {
    if (auto campaign = store->SignaturesOf((*job)->campaign_id); campaign) {
      signers.campaign = std::move(*campaign);
    }
  }
  store->EndSnapshot();
  for (const Error* e : {job ? nullptr : &job.error(), attempts ? nullptr : &attempts.error(),
                         actions ? nullptr : &actions.error()}) {
    if (e) {
      ctx.err << e->message << "\n";
      return 2;
    }
  }
  if (!*job) {
    ctx.err << "no job " << id << "\n";
    return 1;
  }
  std::vector<ActionLine> lines;
  for (const OperatorActionRow& o : *actions) {
    if (auto scope = ScopeOf(o, **job)) lines.push_back(ActionLine{o, *scope});
  }
  if (json) {
    ctx.out << HistoryJson(**job, *attempts, lines, signers)
                   .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
            << "\n";
  } else {
    ctx.out << HistoryText(**job, *attempts, lines, signers);
  }
  return 0;
}

}  // namespace broadcastd
