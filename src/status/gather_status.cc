#include "status/gather_status.h"

#include <map>

#include "core/time_format.h"
#include "limiter/daily_budget.h"
#include "rebuild/scheduler_state.h"
#include "status/listener_notice.h"
#include "status/send_forecast.h"
#include "status/store_snapshot.h"
#include "store/daemon_lock.h"

namespace broadcastd {
namespace {

constexpr JobState kAllJobStates[] = {JobState::kScheduled, JobState::kReady,    JobState::kSending,
                                      JobState::kSent,      JobState::kFailed,   JobState::kUnknown,
                                      JobState::kExpired,   JobState::kCancelled};

using CountsByEndpoint = std::map<EndpointKey, std::map<std::string, int64_t>>;

std::string Who(const JobRow& job) {
  return job.campaign_id + "/" + job.broadcast +
         (job.occurrence == "once" ? "" : "@" + job.occurrence);
}

// The jobs counted by state, in all (every state, zeros included) and per endpoint.
Result<CountsByEndpoint> CountJobs(Store& store, StatusReport& report) {
  auto counts = store.CountJobs();
  if (!counts) return std::unexpected(counts.error());
  for (JobState state : kAllJobStates) report.jobs_by_state[std::string(JobStateName(state))] = 0;
  CountsByEndpoint by_endpoint;
  for (const Store::JobCount& c : *counts) {
    const std::string state(JobStateName(c.state));
    report.jobs_by_state[state] += c.count;
    by_endpoint[EndpointKey{c.app, c.target}][state] += c.count;
  }
  report.unknown_jobs = report.jobs_by_state["unknown"];
  return by_endpoint;
}

// Apps the daemon has no token for (it keeps a notice while that lasts): app -> why.
Result<std::map<std::string, std::string>> AppsWithoutToken(Store& store, StatusReport& report) {
  auto notices = store.AppNotices();
  if (!notices) return std::unexpected(notices.error());
  std::map<std::string, std::string> no_token;
  for (const Store::AppNotice& n : *notices) {
    if (n.kind != "token") continue;
    no_token[n.app] = n.message;
    report.warnings.push_back("app " + n.app + ": no token since " + FormatDisplayTime(n.since) +
                              ": " + n.message + "; its jobs wait and spend no budget");
  }
  return no_token;
}

StatusReport::Endpoint EndpointOf(const EndpointKey& key, const Scheduler& limits,
                                  const std::vector<PauseRow>& pauses, CountsByEndpoint& counts,
                                  const std::map<std::string, std::string>& no_token,
                                  const Instant& now) {
  StatusReport::Endpoint e;
  e.app = key.app;
  e.target = key.target;
  auto view = limits.limiter().View(key, now);
  e.used_today = view.used_today;
  e.daily = view.daily;
  e.next_allowed = view.next_allowed;
  e.day_exhausted = view.day_exhausted;
  const DailyBudget day(limits.limiter().options().day_boundary);
  e.day_ends = day.DayStart(day.DayOf(now.wall) + 1);
  for (const PauseRow& p : pauses) {
    if (p.app == key.app && p.target == key.target) {
      e.paused = true;
      e.pause_reason = p.reason;
      e.paused_since = p.since;
    }
  }
  e.jobs_by_state = counts[key];
  e.queued = e.jobs_by_state["scheduled"] + e.jobs_by_state["ready"];
  std::erase_if(e.jobs_by_state, [](const auto& kv) { return kv.second == 0; });
  if (auto it = no_token.find(key.app); it != no_token.end()) e.no_token = it->second;
  return e;
}

// Every campaign file; those whose status is neither ok nor removed are problems (new
// statuses show up without a change here).
void AddCampaigns(std::vector<CampaignRow> campaigns, StatusReport& report) {
  report.campaigns = std::move(campaigns);
  for (const CampaignRow& c : report.campaigns) {
    if (c.status != CampaignStatus::kOk && c.status != CampaignStatus::kRemoved) {
      report.campaign_problems.push_back(c);
      report.warnings.push_back("campaign " + c.file + " is " +
                                std::string(CampaignStatusName(c.status)) + ": " + c.last_error);
    }
  }
}

// The page of jobs the query asks for, each queued one with its forecast.
Status ListJobs(Store& store, const Scheduler& limits, const Instant& now, StatusReport& report) {
  const StatusQuery& query = report.query;
  Store::JobListing listing{.states = ListedStates(query),
                            .campaign_id = query.campaign_id,
                            .app = query.app,
                            .target = query.target,
                            .after = query.after,
                            .limit = query.limit};
  auto jobs = store.ListJobs(listing);
  if (!jobs) return std::unexpected(jobs.error());
  if (query.limit > 0 && jobs->size() == query.limit) {
    const JobRow& last = jobs->back();
    report.next_cursor = EncodeCursor(Store::ListingKey{last.state, last.due, last.id});
  }
  for (JobRow& row : *jobs) report.jobs.push_back(StatusReport::JobLine{std::move(row), {}});

  std::map<EndpointKey, std::vector<StatusReport::JobLine*>> queued;
  for (auto& line : report.jobs) {
    if (IsQueued(line.row.state)) {
      queued[EndpointKey{line.row.app, line.row.target}].push_back(&line);
    }
  }
  for (const auto& [key, lines] : queued) {
    if (auto done = ForecastListedJobs(limits, store, key, now, lines); !done) return done;
  }
  return {};
}

// Warnings about the listed jobs: held (their app left the config), to expire unsent,
// waiting on a pause; and about the unknown jobs.
void WarnAboutJobs(const Config& config, StatusReport& report) {
  for (auto& line : report.jobs) {
    const JobRow& job = line.row;
    if (IsQueued(job.state) && !config.apps.contains(job.app)) {
      // Its app left the config (a reload): the daemon holds it, unharmed, until the app
      // comes back; no forecast means anything.
      line.forecast.reset();
      report.warnings.push_back("job " + std::to_string(job.id) + " (" + Who(job) +
                                ") is held: app " + job.app +
                                " is not in the config; it is sent if the app comes back");
      continue;
    }
    if (line.forecast && line.forecast->kind == Scheduler::ForecastEntry::kExpires) {
      report.warnings.push_back("job " + std::to_string(job.id) + " (" + Who(job) + ", " +
                                std::string(TargetName(job.target)) + ") will expire unsent at " +
                                FormatDisplayTime(line.forecast->at) +
                                ": the endpoint's windows and daily budget do not reach it");
    } else if (line.forecast && line.forecast->kind == Scheduler::ForecastEntry::kPaused) {
      report.warnings.push_back("job " + std::to_string(job.id) + " (" + Who(job) +
                                ") waits: endpoint " + job.app + "/" +
                                std::string(TargetName(job.target)) + " is paused");
    }
  }
  if (report.unknown_jobs > 0) {
    report.warnings.push_back(
        std::to_string(report.unknown_jobs) +
        " job(s) are unknown: the request may have reached the server; check, then resolve "
        "each with --resolve-sent JOB or --resolve-not-sent JOB (list them with --state "
        "unknown)");
  }
}

// The summary: lease, counts, endpoints and campaigns. REQUIRES: a snapshot open.
Status GatherSummary(const Config& config, Store& store, const Scheduler& limits,
                     StatusReport& report) {
  auto lease = store.SenderLeaseStatus();
  if (!lease) return std::unexpected(lease.error());
  report.lease = std::move(*lease);
  auto pauses = store.Pauses();
  if (!pauses) return std::unexpected(pauses.error());
  auto by_endpoint = CountJobs(store, report);
  if (!by_endpoint) return std::unexpected(by_endpoint.error());
  auto campaigns = store.Campaigns();
  if (!campaigns) return std::unexpected(campaigns.error());
  auto no_token = AppsWithoutToken(store, report);
  if (!no_token) return std::unexpected(no_token.error());
  for (const auto& [name, app] : config.apps) {
    for (BroadcastTarget target : kAllTargets) {
      report.endpoints.push_back(EndpointOf(EndpointKey{name, target}, limits, *pauses,
                                            *by_endpoint, *no_token, report.now));
    }
  }
  AddCampaigns(std::move(*campaigns), report);
  auto holds = store.SignatureHolds();
  if (!holds) return std::unexpected(holds.error());
  report.signature_holds = std::move(*holds);
  for (const Store::SignatureHold& h : report.signature_holds) {
    report.warnings.push_back("campaign " + h.campaign_id + " (" + h.file + ") waits, " +
                              std::to_string(h.queued) + " job(s): " + h.reason);
  }
  auto adopted = store.AdoptedCampaigns();
  if (!adopted) return std::unexpected(adopted.error());
  report.adopted = std::move(*adopted);
  for (const Store::AdoptedCampaign& c : report.adopted) {
    report.warnings.push_back("campaign " + c.campaign_id + " (" + std::to_string(c.queued_jobs) +
                              " queued jobs) is held: " + AdoptedReason(c.campaign_id));
  }
  return {};
}

}  // namespace

Result<StatusReport> GatherStatus(const Config& config, Store& store, const Instant& now,
                                  const StatusQuery& query, const std::string& boot_id) {
  StatusReport report;
  report.now = now;
  report.database = store.path().string();  // a PostgreSQL URI without any password
  report.daemon_pid = LockHolderPid(config.database);
  report.forecast_horizon = kForecastHorizon;
  report.query = query;

  auto snapshot = StoreSnapshot::Begin(store);
  if (!snapshot) return std::unexpected(snapshot.error());
  auto limits = LoadSchedulerLimits(config, store, now, boot_id);
  if (!limits) return std::unexpected(limits.error());
  if (auto done = GatherSummary(config, store, *limits, report); !done) {
    return std::unexpected(done.error());
  }
  if (auto done = ListJobs(store, *limits, now, report); !done) {
    return std::unexpected(done.error());
  }
  WarnAboutJobs(config, report);
  // The notice is the running daemon's: one left by a daemon that died says nothing now.
  if (report.daemon_pid) {
    if (auto listener = ReadListenerNotice(config)) {
      report.warnings.push_back("http_listen " + config.http_listen.value_or("") + ": " +
                                *listener + "; the daemon sends meanwhile");
    }
  }
  return report;
}

}  // namespace broadcastd
