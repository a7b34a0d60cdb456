#include "cli/status_report.h"

#include <algorithm>
#include <map>

#include "core/time_format.h"
#include "queue/scheduler_state.h"
#include "store/daemon_lock.h"

namespace broadcastd {

Result<StatusReport> GatherStatus(const Config& config, Store& store, const Instant& now,
                                  const std::string& boot_id) {
  StatusReport report;
  report.now = now.wall;
  report.database = config.database.string();
  report.daemon_pid = LockHolderPid(config.database);
  report.forecast_horizon = kForecastHorizon;

  auto scheduler = LoadSchedulerState(config, store, now, boot_id);
  if (!scheduler) return std::unexpected(scheduler.error());
  auto forecast = scheduler->Forecast(now, kForecastHorizon);

  auto pauses = store.Pauses();
  if (!pauses) return std::unexpected(pauses.error());
  auto jobs = store.Jobs();
  if (!jobs) return std::unexpected(jobs.error());
  auto campaigns = store.Campaigns();
  if (!campaigns) return std::unexpected(campaigns.error());
  auto notices = store.AppNotices();
  if (!notices) return std::unexpected(notices.error());
  std::map<std::string, std::string> no_token;  // app -> why
  for (const Store::AppNotice& n : *notices) {
    if (n.kind != "token") continue;
    no_token[n.app] = n.message;
    report.warnings.push_back("app " + n.app + ": no token since " + FormatRfc3339(n.since) + ": " +
                              n.message +
                              "; its jobs wait and spend no budget (fix the credentials, then "
                              "reload)");
  }

  std::map<std::pair<std::string, BroadcastTarget>, size_t> queued_by_endpoint;
  for (const JobRow& job : *jobs) {
    if (job.state == JobState::kScheduled || job.state == JobState::kReady) {
      ++queued_by_endpoint[{job.app, job.target}];
    }
  }

  for (const auto& [name, app] : config.apps) {
    for (BroadcastTarget target : kAllTargets) {
      StatusReport::Endpoint e;
      e.app = name;
      e.target = target;
      auto view = scheduler->limiter().View(EndpointKey{name, target}, now);
      e.used_today = view.used_today;
      e.daily = view.daily;
      e.next_allowed = view.next_allowed;
      for (const PauseRow& p : *pauses) {
        if (p.app == name && p.target == target) {
          e.paused = true;
          e.pause_reason = p.reason;
        }
      }
      e.queued = queued_by_endpoint[{name, target}];
      if (auto it = no_token.find(name); it != no_token.end()) e.no_token = it->second;
      report.endpoints.push_back(std::move(e));
    }
  }

  // campaign row id -> index in report.campaigns: the file that holds the campaign, or
  // else the one that held it last.
  std::map<int64_t, size_t> campaign_index;
  for (const CampaignRow& row : *campaigns) {
    if (row.id != 0 &&
        (!campaign_index.contains(row.id) || row.status != CampaignStatus::kRemoved)) {
      campaign_index[row.id] = report.campaigns.size();
    }
    report.campaigns.push_back(StatusReport::CampaignLine{row, {}, std::nullopt, 0});
  }

  for (const JobRow& job : *jobs) {
    StatusReport::JobLine line{job, std::nullopt};
    const bool held = IsQueued(job.state) && !config.apps.contains(job.app);
    if (auto it = forecast.find(job.id); it != forecast.end() && !held) line.forecast = it->second;
    if (held) {
      report.warnings.push_back("job " + std::to_string(job.id) + " (" + job.campaign_id + "/" +
                                job.broadcast + ") is held: app " + job.app +
                                " is not in the config; it is sent if the app comes back");
    }
    auto ci = campaign_index.find(job.campaign_ref);
    StatusReport::CampaignLine* campaign =
        ci == campaign_index.end() ? nullptr : &report.campaigns[ci->second];
    if (campaign) ++campaign->jobs_by_state[std::string(JobStateName(job.state))];
    if (line.forecast) {
      const auto& f = *line.forecast;
      const std::string who = job.campaign_id + "/" + job.broadcast +
                              (job.occurrence == "once" ? "" : "@" + job.occurrence);
      if (f.kind == Scheduler::ForecastEntry::kSend && campaign) {
        campaign->last_forecast = std::max(campaign->last_forecast.value_or(f.at), f.at);
      } else if (f.kind == Scheduler::ForecastEntry::kExpires) {
        if (campaign) ++campaign->will_expire;
        report.warnings.push_back("job " + std::to_string(job.id) + " (" + who + ", " +
                                  std::string(TargetName(job.target)) + ") will expire unsent at " +
                                  FormatRfc3339(f.at) +
                                  ": the endpoint's windows and daily budget do not reach it");
      } else if (f.kind == Scheduler::ForecastEntry::kPaused) {
        report.warnings.push_back("job " + std::to_string(job.id) + " (" + who +
                                  ") waits: endpoint " + job.app + "/" +
                                  std::string(TargetName(job.target)) + " is paused");
      }
    }
    if (job.state == JobState::kUnknown) {
      report.warnings.push_back("job " + std::to_string(job.id) + " (" + job.campaign_id + "/" +
                                job.broadcast +
                                ") is unknown: the request may have reached the server; resolve "
                                "it with --resolve-sent or --resolve-not-sent");
    }
    report.jobs.push_back(std::move(line));
  }
  for (const auto& c : report.campaigns) {
    if (c.row.status == CampaignStatus::kRejected) {
      report.warnings.push_back("campaign " + c.row.file + " is rejected: " + c.row.last_error);
    } else if (c.row.status == CampaignStatus::kRefused) {
      report.warnings.push_back("campaign file " + c.row.file +
                                " is refused (not read): " + c.row.last_error);
    }
  }
  return report;
}

}  // namespace broadcastd
