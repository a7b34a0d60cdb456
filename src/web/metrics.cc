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

void JobsAndCampaigns(MetricWriter& m, const StatusReport& report) {
  m.Family("broadcastd_jobs", "gauge", "Jobs in the queue and its history, by state.");
  for (const auto& [state, n] : report.jobs_by_state) {
    m.Sample("broadcastd_jobs", "state=\"" + state + "\"", n);
  }
  m.Family("broadcastd_unknown_jobs", "gauge",
           "Jobs whose request may have reached the server: an operator must resolve them.");
  m.Sample("broadcastd_unknown_jobs", "", report.unknown_jobs);

  std::map<std::string, int64_t> files;
  for (const auto& c : report.campaigns) ++files[std::string(CampaignStatusName(c.status))];
  m.Family("broadcastd_campaign_files", "gauge", "Campaign files known, by status.");
  for (const auto& [status, n] : files) {
    m.Sample("broadcastd_campaign_files", "status=\"" + LabelValue(status) + "\"", n);
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
  m.Family("broadcastd_endpoint_paused", "gauge", "1 while an operator holds the endpoint.");
  for (const auto& e : report.endpoints) {
    m.Sample("broadcastd_endpoint_paused", EndpointLabels(e.app, e.target), e.paused ? 1 : 0);
  }
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

  MetricWriter m;
  BuildInfo(m);
  Attempts(m, *attempts);
  JobsAndCampaigns(m, *report);
  Endpoints(m, *report);
  if (auto done = OldestReady(m, store, *report); !done) return std::unexpected(done.error());
  m.Family("broadcastd_last_successful_send_timestamp_seconds", "gauge",
           "When the last request that sent a broadcast ended, in Unix seconds (0: never).");
  m.Sample("broadcastd_last_successful_send_timestamp_seconds", "",
           *last_sent ? Seconds((*last_sent)->time_since_epoch()) : 0.0);
  return m.str();
}

}  // namespace broadcastd
