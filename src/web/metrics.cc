#include "web/metrics.h"

#include <fmt/format.h>

#include <chrono>
#include <map>
#include <sstream>

#include "core/log_value.h"
#include "status/gather_status.h"

namespace broadcastd {
namespace {

// A label value: backslash, double quote and newline escaped as the format requires.
std::string LabelValue(std::string_view raw) {
  const std::string text = EscapeControl(raw);  // stored text need not be UTF-8
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EndpointLabels(const std::string& app, BroadcastTarget target) {
  return "app=\"" + LabelValue(app) + "\",target=\"" + std::string(TargetName(target)) + "\"";
}

double Seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

class MetricWriter {
 public:
  void Family(const char* name, const char* type, const char* help) {
    out_ << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
  }
  template <class V>
  void Sample(const char* name, const std::string& labels, V value) {
    out_ << name;
    if (!labels.empty()) out_ << "{" << labels << "}";
    // fmt writes the shortest text that reads back exactly, never 1.8e+09 for a timestamp.
    out_ << " " << fmt::format("{}", value) << "\n";
  }
  std::string str() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

void BuildInfo(MetricWriter& m) {
  m.Family("broadcastd_build_info", "gauge", "The running broadcastd's version; always 1.");
  m.Sample("broadcastd_build_info", "version=\"" + LabelValue(BROADCASTD_VERSION) + "\"", 1);
}

void Attempts(MetricWriter& m, const std::vector<Store::AttemptCount>& attempts) {
  m.Family("broadcastd_attempts_total", "counter",
           "Requests to the broadcast API, by app, target and outcome class.");
  for (const auto& a : attempts) {
    m.Sample("broadcastd_attempts_total",
             EndpointLabels(a.app, a.target) + ",class=\"" + LabelValue(a.outcome) + "\"", a.count);
  }
}

// Every endpoint of the report at 0 unless the store counted it, so that a rule on the
// counter has a series before the first 429.
void RateLimited(MetricWriter& m, const StatusReport& report,
                 const std::vector<Store::AttemptCount>& answers) {
  std::map<std::pair<std::string, BroadcastTarget>, int64_t> counts;
  for (const auto& e : report.endpoints) counts[{e.app, e.target}] = 0;
  for (const auto& a : answers) counts[{a.app, a.target}] += a.count;
  m.Family("broadcastd_rate_limited_total", "counter",
           "Requests answered 429 (Too Many Requests): the rate windows should prevent every one.");
  for (const auto& [key, n] : counts) {
    m.Sample("broadcastd_rate_limited_total", EndpointLabels(key.first, key.second), n);
  }
}

void JobsAndCampaigns(MetricWriter& m, const StatusReport& report) {
  m.Family("broadcastd_jobs", "gauge", "Jobs in the queue and its history, by state.");
  for (const auto& [state, n] : report.jobs_by_state) {
    m.Sample("broadcastd_jobs", "state=\"" + state + "\"", n);
  }
  m.Family("broadcastd_unknown_jobs", "gauge",
           "Jobs whose request may have reached the server: an operator must resolve them.");
  m.Sample("broadcastd_unknown_jobs", "", report.unknown_jobs);

  std::map<std::string, int64_t> files;
  for (CampaignStatus status : {CampaignStatus::kOk, CampaignStatus::kRejected,
                                CampaignStatus::kRemoved, CampaignStatus::kRefused}) {
    files[std::string(CampaignStatusName(status))] = 0;
  }
  for (const auto& c : report.campaigns) ++files[std::string(CampaignStatusName(c.status))];
  m.Family("broadcastd_campaign_files", "gauge", "Campaign files known, by status.");
  for (const auto& [status, n] : files) {
    m.Sample("broadcastd_campaign_files", "status=\"" + LabelValue(status) + "\"", n);
  }
  m.Family("broadcastd_campaign_file_problems", "gauge",
           "Campaign files whose status is neither ok nor removed (rejected, refused).");
  m.Sample("broadcastd_campaign_file_problems", "", report.campaign_problems.size());
}

// Each endpoint's jobs by state, every state (zeros included) for every endpoint.
void EndpointJobs(MetricWriter& m, const StatusReport& report) {
  m.Family("broadcastd_endpoint_jobs", "gauge", "Jobs of each app endpoint, by state.");
  for (const auto& e : report.endpoints) {
    for (const auto& [state, all] : report.jobs_by_state) {
      auto it = e.jobs_by_state.find(state);
      m.Sample("broadcastd_endpoint_jobs",
               EndpointLabels(e.app, e.target) + ",state=\"" + state + "\"",
               it == e.jobs_by_state.end() ? int64_t{0} : it->second);
    }
  }
}

// The figures of each endpoint, all at the report's reading of the clocks.
void Endpoints(MetricWriter& m, const StatusReport& report) {
  m.Family("broadcastd_endpoint_queued_jobs", "gauge",
           "Scheduled and ready jobs of each app endpoint.");
  for (const auto& e : report.endpoints) {
    m.Sample("broadcastd_endpoint_queued_jobs", EndpointLabels(e.app, e.target), e.queued);
  }
  m.Family("broadcastd_daily_budget_used", "gauge", "Requests counted against today's budget.");
  for (const auto& e : report.endpoints) {
    m.Sample("broadcastd_daily_budget_used", EndpointLabels(e.app, e.target), e.used_today);
  }
  m.Family("broadcastd_daily_budget_remaining", "gauge", "Requests left in today's budget.");
  for (const auto& e : report.endpoints) {
    m.Sample("broadcastd_daily_budget_remaining", EndpointLabels(e.app, e.target),
             std::max(0, e.daily - e.used_today));
  }
  m.Family("broadcastd_next_send_allowed_seconds", "gauge",
           "Seconds until the rate windows and budget allow the next request (0: now).");
  for (const auto& e : report.endpoints) {
    m.Sample("broadcastd_next_send_allowed_seconds", EndpointLabels(e.app, e.target),
             Seconds(std::max(Duration{0}, e.next_allowed - report.now.wall)));
  }
  m.Family("broadcastd_daily_budget_exhausted", "gauge",
           "1 when no request may start again this budget day (count reached, or the server "
           "said the day is spent).");
  for (const auto& e : report.endpoints) {
    m.Sample("broadcastd_daily_budget_exhausted", EndpointLabels(e.app, e.target),
             e.day_exhausted ? 1 : 0);
  }
}

void Pauses(MetricWriter& m, const StatusReport& report) {
  m.Family("broadcastd_endpoint_paused", "gauge", "1 while an operator holds the endpoint.");
  for (const auto& e : report.endpoints) {
    m.Sample("broadcastd_endpoint_paused", EndpointLabels(e.app, e.target), e.paused ? 1 : 0);
  }
  m.Family("broadcastd_endpoint_paused_since_timestamp_seconds", "gauge",
           "When the endpoint was paused, in Unix seconds (0: not paused).");
  for (const auto& e : report.endpoints) {
    m.Sample("broadcastd_endpoint_paused_since_timestamp_seconds", EndpointLabels(e.app, e.target),
             e.paused ? Seconds(e.paused_since.time_since_epoch()) : 0.0);
  }
}

// 1 for each configured app the daemon has no token for.
void Tokens(MetricWriter& m, const StatusReport& report) {
  std::map<std::string, bool> missing;
  for (const auto& e : report.endpoints) missing[e.app] = missing[e.app] || !e.no_token.empty();
  m.Family("broadcastd_app_token_missing", "gauge",
           "1 while the daemon cannot get a token for the app: its jobs wait.");
  for (const auto& [app, none] : missing) {
    m.Sample("broadcastd_app_token_missing", "app=\"" + LabelValue(app) + "\"", none ? 1 : 0);
  }
}

// PostgreSQL: the lease's holder and epoch. SQLite has no lease (the daemon holding the
// database's lock file sends): one series with an empty holder and epoch 0, so the
// dashboard and the rules read the same names on both.
void Lease(MetricWriter& m, const StatusReport& report) {
  const std::string holder = report.lease ? report.lease->holder : std::string();
  m.Family("broadcastd_sender_lease_holder", "gauge",
           "The daemon holding the sender lease (PostgreSQL; empty: none or SQLite); always 1.");
  m.Sample("broadcastd_sender_lease_holder", "holder=\"" + LabelValue(holder) + "\"", 1);
  m.Family("broadcastd_sender_lease_epoch", "gauge",
           "The sender lease's epoch: it moves on each time a daemon takes the lease (0: SQLite).");
  m.Sample("broadcastd_sender_lease_epoch", "", report.lease ? report.lease->epoch : int64_t{0});
}

Status OldestReady(MetricWriter& m, Store& store, const StatusReport& report) {
  m.Family("broadcastd_oldest_ready_job_age_seconds", "gauge",
           "Seconds since the oldest ready job of the endpoint fell due (0: none waiting).");
  for (const auto& e : report.endpoints) {
    auto oldest = store.OldestReady(e.app, e.target);
    if (!oldest) return std::unexpected(oldest.error());
    m.Sample("broadcastd_oldest_ready_job_age_seconds", EndpointLabels(e.app, e.target),
             *oldest ? Seconds(std::max(Duration{0}, report.now.wall - **oldest)) : 0.0);
  }
  return {};
}

// The endpoint's jobs that fall due before its budget day ends and are still queued: with
// the day's budget spent, they wait for the next day.
Status DueToday(MetricWriter& m, Store& store, const StatusReport& report) {
  m.Family("broadcastd_endpoint_jobs_due_today", "gauge",
           "Scheduled and ready jobs of the endpoint due before its budget day ends.");
  for (const auto& e : report.endpoints) {
    auto n = store.CountQueuedDueBefore(e.app, e.target, e.day_ends);
    if (!n) return std::unexpected(n.error());
    m.Sample("broadcastd_endpoint_jobs_due_today", EndpointLabels(e.app, e.target), *n);
  }
  return {};
}

}  // namespace

Result<std::string> RenderMetrics(const Config& config, Store& store, const Instant& now,
                                  const std::string& boot_id) {
  // The summary of --status without any job listed: one snapshot, no bodies, no scans.
  auto report = GatherStatus(config, store, now, StatusQuery{.limit = 0}, boot_id);
  if (!report) return std::unexpected(report.error());
  auto attempts = store.CountAttempts();
  if (!attempts) return std::unexpected(attempts.error());
  auto last_sent = store.LastSent();
  if (!last_sent) return std::unexpected(last_sent.error());
  auto rate_limited = store.CountRateLimited();
  if (!rate_limited) return std::unexpected(rate_limited.error());

  MetricWriter m;
  BuildInfo(m);
  Attempts(m, *attempts);
  RateLimited(m, *report, *rate_limited);
  JobsAndCampaigns(m, *report);
  EndpointJobs(m, *report);
  Endpoints(m, *report);
  Pauses(m, *report);
  Tokens(m, *report);
  Lease(m, *report);
  if (auto done = OldestReady(m, store, *report); !done) return std::unexpected(done.error());
  if (auto done = DueToday(m, store, *report); !done) return std::unexpected(done.error());
  m.Family("broadcastd_store_errors_total", "counter",
           "Database failures this process met since it started (logged as store.error).");
  m.Sample("broadcastd_store_errors_total", "", StoreFailureCount());
  m.Family("broadcastd_last_successful_send_timestamp_seconds", "gauge",
           "When the last request that sent a broadcast ended, in Unix seconds (0: never).");
  m.Sample("broadcastd_last_successful_send_timestamp_seconds", "",
           *last_sent ? Seconds((*last_sent)->time_since_epoch()) : 0.0);
  return m.str();
}

}  // namespace broadcastd
