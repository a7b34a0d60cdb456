#include "cli/check_preview.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "cli/database_access.h"
#include "core/target.h"
#include "core/time_format.h"
#include "ingest/job_planner.h"
#include "rebuild/scheduler_state.h"
#include "status/status_report.h"
#include "store/configured_store.h"
#include "store/store.h"

namespace broadcastd {
namespace {

// As far ahead as the daemon creates repeat occurrences.
constexpr Duration kRepeatAhead = std::chrono::hours(48);
constexpr size_t kMaxPerBroadcast = 500;

std::string AppOf(const Campaign& campaign, const Config& config) {
  if (!campaign.app.empty() || config.apps.size() != 1) return campaign.app;
  return config.apps.begin()->first;
}

std::string Describe(const Scheduler::ForecastEntry& f) {
  switch (f.kind) {
    case Scheduler::ForecastEntry::kSend:
      return "send at " + FormatRfc3339(f.at);
    case Scheduler::ForecastEntry::kExpires:
      return "EXPIRES UNSENT at " + FormatRfc3339(f.at);
    case Scheduler::ForecastEntry::kBeyondHorizon:
      return "not within " + std::to_string(kForecastHorizon.count() / 86400000) + " days";
    case Scheduler::ForecastEntry::kPaused:
      return "waits: endpoint paused";
    case Scheduler::ForecastEntry::kHeld:
      return "waits: campaign held (adopted by a new queue)";
  }
  return "?";
}

}  // namespace

std::vector<std::string> LatenessWarnings(const Config& config, const Campaign& campaign,
                                          TimePoint now) {
  std::vector<std::string> lines;
  for (const Broadcast& b : campaign.broadcasts) {
    if (b.repeat || !b.send_at) continue;
    const std::optional<TimePoint> deadline = OnceDeadline(b, *b.send_at, config.max_delay);
    if (!deadline || *deadline > now) continue;
    std::string why;
    if (b.expires_at && *deadline == *b.expires_at) {
      why = "expires_at " + FormatRfc3339(*b.expires_at) + " has passed";
    } else {
      const std::optional<Duration> limit = b.max_delay ? b.max_delay->limit : config.max_delay;
      why = "send_at " + FormatRfc3339(*b.send_at) + " is more than max_delay " +
            FormatMaxDelay(limit) + " ago";
    }
    lines.push_back(b.name + ": would expire at once: " + why);
  }
  return lines;
}

Result<std::vector<PreviewLine>> PreviewCampaign(const Config& config, const Campaign& campaign,
                                                 [[maybe_unused]] const std::string& file,
                                                 Scheduler scheduler,
                                                 const std::vector<JobRow>& queued,
                                                 const Instant& now) {
  const std::string app = AppOf(campaign, config);
  auto plan = PlanJobs(campaign, app, now.wall, config.max_delay, now.wall, {},
                       now.wall + kRepeatAhead, kMaxPerBroadcast);
  if (!plan) return std::unexpected(plan.error());

  // The campaign's jobs never attempted are what this version replaces, whatever
  // file carries the campaign now (identity is the campaign id); the others
  // (retried ones) stay, and the new version does not add them again.
  std::set<std::pair<std::string, std::string>> kept;
  int64_t next_id = 1;
  for (const JobRow& row : queued) {
    next_id = std::max(next_id, row.id + 1);
    if (row.campaign_id != campaign.id) continue;
    if (row.attempts == 0) {
      scheduler.Remove(row.id);
    } else {
      kept.emplace(row.broadcast, row.occurrence);
    }
  }

  std::vector<std::pair<int64_t, PreviewLine>> added;
  for (const Store::JobSpec& spec : plan->jobs) {
    if (kept.contains({spec.broadcast, spec.occurrence})) continue;
    QueuedJob job;
    job.id = next_id++;  // after every queued job: the last tie-breaker
    job.endpoint = EndpointKey{spec.app, spec.target};
    job.priority = spec.priority;
    job.due = spec.due;
    job.expires = spec.expires;
    scheduler.Upsert(job);
    added.emplace_back(job.id, PreviewLine{spec.broadcast, spec.occurrence, job.endpoint, {}});
  }
  const auto forecast = scheduler.Forecast(now, kForecastHorizon);
  std::vector<PreviewLine> lines;
  for (auto& [id, line] : added) {
    auto it = forecast.find(id);
    if (it == forecast.end()) continue;
    line.forecast = it->second;
    lines.push_back(std::move(line));
  }
  return lines;
}

std::string CheckPreviewText(const Config& config, const Campaign& campaign,
                             const std::filesystem::path& path, const Instant& now,
                             const std::string& boot_id) {
  std::ostringstream out;
  std::vector<JobRow> queued;
  std::optional<Scheduler> scheduler;
  std::string against;
  if (Status access = CheckDatabaseAccess(config.database, DatabaseUse::kRead); !access) {
    against = access.error().Is(ErrorKind::kNotFound)
                  ? "an empty queue (no database at " + config.database.string() + " yet)"
                  : "an empty queue (" + access.error().message + ")";
  } else if (auto store = OpenConfiguredStore(config, Store::Mode::kReadOnly); !store) {
    against = "an empty queue (" + store.error().message + ")";
  } else if (auto state = LoadSchedulerState(config, *store, now, boot_id); !state) {
    against = "an empty queue (" + state.error().message + ")";
  } else if (auto rows = store->QueuedJobs(); !rows) {
    against = "an empty queue (" + rows.error().message + ")";
  } else {
    queued = std::move(*rows);
    scheduler.emplace(std::move(*state));
    against = "the queue in " + config.database.string() + " (" + std::to_string(queued.size()) +
              " queued)";
  }
  if (!scheduler) {
    scheduler.emplace(LimiterOptionsFor(config));
    for (const auto& [name, app] : config.apps) {
      for (BroadcastTarget target : kAllTargets) {
        scheduler->Configure(EndpointKey{name, target}, config.LimitsFor(name, target));
      }
    }
  }

  auto lines = PreviewCampaign(config, campaign, path.filename().string(), std::move(*scheduler),
                               queued, now);
  if (!lines) return "  preview: " + lines.error().message + "\n";
  out << "  if dropped in now, against " << against << ":\n";
  int expiring = 0;
  for (const PreviewLine& l : *lines) {
    out << "    " << l.broadcast << " " << l.occurrence << " " << l.endpoint.app << "/"
        << TargetName(l.endpoint.target) << ": " << Describe(l.forecast) << "\n";
    if (l.forecast.kind == Scheduler::ForecastEntry::kExpires) ++expiring;
  }
  if (lines->empty()) out << "    no job in the next 48 hours\n";
  if (expiring > 0) {
    out << "warning: " << path.string() << ": " << expiring << " of " << lines->size()
        << " jobs would expire unsent\n";
  }
  for (const std::string& late : LatenessWarnings(config, campaign, now.wall)) {
    out << "warning: " << path.string() << ": " << late << "\n";
  }
  return out.str();
}

}  // namespace broadcastd
