#include "ingest/campaign_ingester.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>
#include <system_error>

#include "campaign/loader.h"
#include "core/log_value.h"
#include "core/time_format.h"
#include "document/document.h"
#include "ingest/job_planner.h"
#include "store/content_hash.h"

namespace broadcastd {
namespace fs = std::filesystem;
namespace {

TimePoint ModificationTime(const fs::path& path, TimePoint fallback) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return fallback;
  return FromMillis(static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000);
}

std::string JoinLines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) {
    if (!out.empty()) out += '\n';
    out += l;
  }
  return out;
}

// Resolves the campaign's app against the config; the error names the file.
Result<std::string> ResolveApp(const Campaign& campaign, const Config& config,
                               const std::string& file) {
  if (campaign.app.empty()) {
    if (config.apps.size() == 1) return config.apps.begin()->first;
    return Fail(file + ": app: required, because the config defines " +
                std::to_string(config.apps.size()) + " apps [rule.app_required]");
  }
  if (!config.apps.contains(campaign.app)) {
    std::string known;
    for (const auto& [name, _] : config.apps) known += (known.empty() ? "" : ", ") + name;
    return Fail(file + ": app: \"" + campaign.app +
                "\" is not defined in the config (apps: " + known + ") [rule.app_unknown]");
  }
  return campaign.app;
}

std::expected<Campaign, std::vector<std::string>> CheckBytes(const std::string& bytes,
                                                             const std::string& display_name,
                                                             const Config& config) {
  auto campaign = ParseCampaign(bytes, display_name);
  if (!campaign) {
    std::vector<std::string> lines;
    for (const Diagnostic& d : campaign.error()) lines.push_back(d.ToString());
    return std::unexpected(std::move(lines));
  }
  if (auto app = ResolveApp(*campaign, config, display_name); !app) {
    return std::unexpected(std::vector<std::string>{app.error().message});
  } else {
    campaign->app = *app;
  }
  return std::move(*campaign);
}

}  // namespace

std::expected<Campaign, std::vector<std::string>> CheckCampaignFile(const fs::path& path,
                                                                    const Config& config) {
  auto bytes = ReadTrustedFile(path);
  if (!bytes) return std::unexpected(std::vector<std::string>{bytes.error().message});
  return CheckBytes(*bytes, path.string(), config);
}

std::expected<Campaign, std::vector<std::string>> CheckCampaignBytes(
    const std::string& bytes, const std::string& display_name, const Config& config) {
  return CheckBytes(bytes, display_name, config);
}

CampaignIngester::CampaignIngester(const Config& config, Store& store, RepeatHorizon horizon,
                                   FolderOptions folder)
    : config_(config), store_(store), horizon_(horizon), folder_(config.campaigns_dir, folder) {}

void CampaignIngester::SetConfig(const Config& config) {
  config_ = config;
  config_changed_ = true;
  folder_.SetDir(config.campaigns_dir);
}

Result<ScanReport> CampaignIngester::Scan(TimePoint now) {
  ScanReport report;
  auto listing = folder_.Scan(now);
  if (!listing) return std::unexpected(listing.error());

  const bool force = config_changed_;
  // Files refused or not settled yet are still there: their jobs are kept.
  std::set<std::string> present;
  for (const ReadyFile& file : listing->ready) {
    present.insert(file.name);
    if (auto st = IngestFile(config_.campaigns_dir / file.name, file.name, file.bytes, force, now,
                             report);
        !st)
      return std::unexpected(st.error());
  }
  for (const UnsettledFile& file : listing->unsettled) {
    present.insert(file.name);
    ++report.unsettled;
    spdlog::debug("campaign.unsettled file={} look_again={}", LogValue(file.name),
                  FormatRfc3339(file.look_again));
  }
  report.next_rescan = listing->NextLook();
  std::map<std::string, std::string> refusals;
  for (const RefusedFile& file : listing->refused) {
    present.insert(file.name);
    if (Status st = RecordRefusal(file, now, report); !st) return std::unexpected(st.error());
    refusals[file.name] = file.reason;
  }
  refusals_ = std::move(refusals);

  auto rows = store_.Campaigns();
  if (!rows) return std::unexpected(rows.error());
  for (const auto& row : *rows) {
    if (row.status == CampaignStatus::kRemoved || present.contains(row.file)) continue;
    auto cancelled = store_.RemoveCampaign(row.file, now);
    if (!cancelled) return std::unexpected(cancelled.error());
    known_.erase(row.file);
    ++report.removed;
    spdlog::info("campaign.removed file={} cancelled_jobs={}", LogValue(row.file), *cancelled);
  }
  config_changed_ = false;
  return report;
}

Status CampaignIngester::IngestFile(const fs::path& path, const std::string& name,
                                    const std::string& bytes, bool force, TimePoint now,
                                    ScanReport& report) {
  const std::string hash = ContentHash(bytes);
  auto known = known_.find(name);
  if (!force && known != known_.end() && known->second.hash == hash) {
    ++report.unchanged;
    if (!known->second.ok) return {};
    auto added = ExtendRepeats(name, known->second.campaign, now);
    if (!added) return std::unexpected(added.error());
    report.occurrences_added += *added;
    return {};
  }

  auto campaign = CheckBytes(bytes, name, config_);
  if (campaign) {
    // A campaign id names one file at a time.
    auto rows = store_.Campaigns();
    if (!rows) return std::unexpected(rows.error());
    for (const auto& row : *rows) {
      if (row.file != name && row.status != CampaignStatus::kRemoved &&
          row.campaign_id == campaign->id) {
        campaign = std::unexpected(std::vector<std::string>{name + ": id: \"" + campaign->id +
                                                            "\" is already used by " + row.file +
                                                            " [rule.id_unique]"});
        break;
      }
    }
  }
  if (!campaign) {
    const std::string error = JoinLines(campaign.error());
    auto changed = store_.RejectCampaign(name, hash, error, now);
    if (!changed) return std::unexpected(changed.error());
    known_[name] = Known{hash, {}, false};
    if (*changed) {
      ++report.rejected;
      for (const auto& line : campaign.error()) {
        report.errors.push_back(line);
        spdlog::error("campaign.rejected file={} reason={}", LogValue(name), LogValue(line));
      }
    } else {
      ++report.unchanged;
    }
    return {};
  }

  std::map<std::string, TimePoint> from_by_broadcast;
  for (const Broadcast& b : campaign->broadcasts) {
    if (!b.repeat) continue;
    auto earliest = store_.EarliestPending(name, b.name);
    if (!earliest) return std::unexpected(earliest.error());
    if (*earliest) from_by_broadcast[b.name] = **earliest;
  }
  auto plan = PlanJobs(*campaign, campaign->app, ModificationTime(path, now), now,
                       from_by_broadcast, now + horizon_.ahead, horizon_.max_per_pass);
  if (!plan) return Fail(name + ": " + plan.error().message);

  Store::CampaignFile file{name, campaign->id, hash, campaign->app, campaign->priority};
  auto effect = store_.ApplyCampaign(file, plan->jobs, plan->covered_from, now);
  if (!effect) return std::unexpected(effect.error());
  switch (*effect) {
    case Store::ApplyEffect::kUnchanged: {
      // Same content as the store already has (after a restart): only the
      // repeat horizon may need to move forward.
      ++report.unchanged;
      auto added = ExtendRepeats(name, *campaign, now);
      if (!added) return std::unexpected(added.error());
      report.occurrences_added += *added;
      break;
    }
    case Store::ApplyEffect::kCreated:
      ++report.created;
      spdlog::info("campaign.accepted file={} id={} jobs={}", LogValue(name),
                   LogValue(campaign->id), plan->jobs.size());
      break;
    case Store::ApplyEffect::kUpdated:
      ++report.updated;
      spdlog::info("campaign.updated file={} id={} jobs={}", LogValue(name), LogValue(campaign->id),
                   plan->jobs.size());
      break;
  }
  known_[name] = Known{hash, std::move(*campaign), true};
  return {};
}

Status CampaignIngester::RecordRefusal(const RefusedFile& refused, [[maybe_unused]] TimePoint now,
                                       ScanReport& report) {
  report.refused.push_back(refused);
  // STORE REFUSAL CALL POINT. With Store::RefuseFile(file, reason, now) -> Result<bool>
  // (true when the row changed), --status shows the file as `refused` with its reason:
  //   auto changed = store_.RefuseFile(refused.name, refused.reason, now);
  //   if (!changed) return std::unexpected(changed.error());
  // and the log line below is written when *changed (once per change, across restarts
  // too). Until then refusals_ remembers what was logged in this process.
  auto last = refusals_.find(refused.name);
  if (last != refusals_.end() && last->second == refused.reason) return {};
  spdlog::warn("campaign.refused file={} reason={}", LogValue(refused.name),
               LogValue(refused.reason));
  return {};
}

Result<int> CampaignIngester::ExtendRepeats(const std::string& name, const Campaign& campaign,
                                            TimePoint now) {
  bool repeats = std::any_of(campaign.broadcasts.begin(), campaign.broadcasts.end(),
                             [](const Broadcast& b) { return b.repeat.has_value(); });
  if (!repeats) return 0;
  auto plan =
      PlanJobs(campaign, campaign.app, now, now, {}, now + horizon_.ahead, horizon_.max_per_pass);
  if (!plan) return Fail(name + ": " + plan.error().message);
  std::erase_if(plan->jobs,
                [](const Store::JobSpec& j) { return j.occurrence == kOnceOccurrence; });
  if (plan->jobs.empty()) return 0;
  return store_.AddMissingJobs(name, plan->jobs, now);
}

}  // namespace broadcastd
