#include "cli/status_report.h"

#include <algorithm>
#include <charconv>
#include <map>

#include "core/time_format.h"
#include "rebuild/scheduler_state.h"
#include "store/daemon_lock.h"

namespace broadcastd {
namespace {

constexpr JobState kAllJobStates[] = {JobState::kScheduled, JobState::kReady,    JobState::kSending,
                                      JobState::kSent,      JobState::kFailed,   JobState::kUnknown,
                                      JobState::kExpired,   JobState::kCancelled};

// Ends the store's read transaction however GatherStatus returns.
class SnapshotScope {
 public:
  explicit SnapshotScope(Store& store) : store_(store) {}
  ~SnapshotScope() { store_.EndSnapshot(); }
  SnapshotScope(const SnapshotScope&) = delete;
  SnapshotScope& operator=(const SnapshotScope&) = delete;

 private:
  Store& store_;
};

std::optional<int64_t> ParseInt(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Forecasts the listed queued jobs of one endpoint from the head of its queue.
Status ForecastEndpoint(const Scheduler& limits, Store& store, const EndpointKey& key,
                        const Instant& now, std::vector<StatusReport::JobLine*>& lines) {
  TimePoint through = TimePoint::min();
  for (const auto* line : lines) through = std::max(through, line->row.due);
  auto head = store.QueuedHead(key.app, key.target, through, kForecastHeadCap);
  if (!head) return std::unexpected(head.error());

  Scheduler sim = limits;
  for (const JobRow& row : head->jobs) sim.Upsert(ToQueuedJob(row));
  auto forecast = sim.Forecast(now, kForecastHorizon);
  for (auto* line : lines) {
    // A job left out of the head falls due at or after every job in it, so at equal
    // priority it waits behind them all: the head's forecast stands. (A job deeper in
    // the queue with a higher priority could still take a slot first.)
    if (auto it = forecast.find(line->row.id); it != forecast.end()) {
      line->forecast = it->second;
    } else {
      // Deeper than the simulated head: it cannot go before the first job left out.
      line->forecast = Scheduler::ForecastEntry{Scheduler::ForecastEntry::kBeyondHorizon,
                                                head->cut.value_or(now.wall + kForecastHorizon)};
    }
  }
  return {};
}

std::string Who(const JobRow& job) {
  return job.campaign_id + "/" + job.broadcast +
         (job.occurrence == "once" ? "" : "@" + job.occurrence);
}

}  // namespace

std::vector<JobState> ListedStates(const StatusQuery& query) {
  if (query.state) return {*query.state};
  return {JobState::kUnknown, JobState::kSending, JobState::kReady, JobState::kScheduled};
}

std::string EncodeCursor(const Store::ListingKey& key) {
  return std::string(JobStateName(key.state)) + "." + std::to_string(ToMillis(key.due)) + "." +
         std::to_string(key.id);
}

Result<Store::ListingKey> ParseCursor(std::string_view text) {
  auto bad = [&] {
    return Fail(ErrorKind::kInvalid,
                "not a cursor: '" + std::string(text) + "' (use next_cursor from --json)");
  };
  size_t first = text.find('.');
  size_t second = first == std::string_view::npos ? first : text.find('.', first + 1);
  if (second == std::string_view::npos) return bad();
  auto state = ParseJobState(text.substr(0, first));
  auto due = ParseInt(text.substr(first + 1, second - first - 1));
  auto id = ParseInt(text.substr(second + 1));
  if (!state || !due || !id) return bad();
  return Store::ListingKey{*state, FromMillis(*due), *id};
}

Result<StatusReport> GatherStatus(const Config& config, Store& store, const Instant& now,
                                  const StatusQuery& query, const std::string& boot_id) {
  StatusReport report;
  report.now = now.wall;
  report.database = store.path().string();  // a PostgreSQL URI without any password
  report.daemon_pid = LockHolderPid(config.database);
  report.forecast_horizon = kForecastHorizon;
  report.query = query;

  if (auto begun = store.BeginSnapshot(); !begun) return std::unexpected(begun.error());
  SnapshotScope snapshot(store);

  auto lease = store.SenderLeaseStatus();
  if (!lease) return std::unexpected(lease.error());
  report.lease = std::move(*lease);
  auto limits = LoadSchedulerLimits(config, store, now, boot_id);
  if (!limits) return std::unexpected(limits.error());
  auto pauses = store.Pauses();
  if (!pauses) return std::unexpected(pauses.error());
  auto counts = store.CountJobs();
  if (!counts) return std::unexpected(counts.error());
  auto campaigns = store.Campaigns();
  if (!campaigns) return std::unexpected(campaigns.error());

  for (JobState state : kAllJobStates) report.jobs_by_state[std::string(JobStateName(state))] = 0;
  std::map<EndpointKey, std::map<std::string, int64_t>> by_endpoint;
  for (const Store::JobCount& c : *counts) {
    const std::string state(JobStateName(c.state));
    report.jobs_by_state[state] += c.count;
    by_endpoint[EndpointKey{c.app, c.target}][state] += c.count;
  }
  report.unknown_jobs = report.jobs_by_state["unknown"];

  // Apps the daemon has no token for (it keeps a notice while that lasts).
  auto notices = store.AppNotices();
  if (!notices) return std::unexpected(notices.error());
  std::map<std::string, std::string> no_token;  // app -> why
  for (const Store::AppNotice& n : *notices) {
    if (n.kind != "token") continue;
    no_token[n.app] = n.message;
    report.warnings.push_back("app " + n.app + ": no token since " + FormatDisplayTime(n.since) +
                              ": " + n.message + "; its jobs wait and spend no budget");
  }

  for (const auto& [name, app] : config.apps) {
    for (BroadcastTarget target : kAllTargets) {
      StatusReport::Endpoint e;
      e.app = name;
      e.target = target;
      const EndpointKey key{name, target};
      auto view = limits->limiter().View(key, now);
      e.used_today = view.used_today;
      e.daily = view.daily;
      e.next_allowed = view.next_allowed;
      for (const PauseRow& p : *pauses) {
        if (p.app == name && p.target == target) {
          e.paused = true;
          e.pause_reason = p.reason;
        }
      }
      e.jobs_by_state = by_endpoint[key];
      e.queued = e.jobs_by_state["scheduled"] + e.jobs_by_state["ready"];
      std::erase_if(e.jobs_by_state, [](const auto& kv) { return kv.second == 0; });
      if (auto it = no_token.find(name); it != no_token.end()) e.no_token = it->second;
      report.endpoints.push_back(std::move(e));
    }
  }

  report.campaigns = std::move(*campaigns);
  for (const CampaignRow& c : report.campaigns) {
    // Any status but ok and removed is a problem: new statuses show up without a change here.
    if (c.status != CampaignStatus::kOk && c.status != CampaignStatus::kRemoved) {
      report.campaign_problems.push_back(c);
      report.warnings.push_back("campaign " + c.file + " is " +
                                std::string(CampaignStatusName(c.status)) + ": " + c.last_error);
    }
  }

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
  for (auto& [key, lines] : queued) {
    if (auto done = ForecastEndpoint(*limits, store, key, now, lines); !done) {
      return std::unexpected(done.error());
    }
  }

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
  return report;
}

Result<std::vector<EndpointForecast>> ForecastSends(const Config& config, Store& store,
                                                    const Instant& now, Duration horizon,
                                                    const std::string& boot_id) {
  if (auto begun = store.BeginSnapshot(); !begun) return std::unexpected(begun.error());
  SnapshotScope snapshot(store);
  auto limits = LoadSchedulerLimits(config, store, now, boot_id);
  if (!limits) return std::unexpected(limits.error());
  std::vector<EndpointForecast> result;
  for (const auto& [name, app] : config.apps) {
    for (BroadcastTarget target : kAllTargets) {
      EndpointForecast f{EndpointKey{name, target}, {}, std::nullopt};
      auto head = store.QueuedHead(name, target, now.wall + horizon, kForecastHeadCap);
      if (!head) return std::unexpected(head.error());
      Scheduler sim = *limits;
      for (const JobRow& row : head->jobs) sim.Upsert(ToQueuedJob(row));
      for (const auto& [id, entry] : sim.Forecast(now, horizon)) {
        if (entry.kind != Scheduler::ForecastEntry::kSend) continue;
        f.sends.push_back(entry.at);
      }
      std::sort(f.sends.begin(), f.sends.end());
      if (head->cut && head->jobs.size() >= kForecastHeadCap) f.exact_until = head->cut;
      result.push_back(std::move(f));
    }
  }
  return result;
}

}  // namespace broadcastd
