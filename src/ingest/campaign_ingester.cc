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

// The diagnostic of a file whose campaign id another present file holds, at its `id`.
std::string IdTaken(const std::string& name, const std::string& bytes,
                    const std::string& campaign_id, const std::string& holder) {
  const std::string what = "id \"" + campaign_id + "\" is already used by " + holder;
  // The bytes parsed a moment ago; should they not now, name the file without a position.
  auto doc = Document::Parse(bytes, name);
  if (!doc) return name + ": " + what + " [rule.id_unique]";
  return doc->At(nlohmann::json::json_pointer("/id"), "rule.id_unique", what).ToString();
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
  std::vector<FileContent> contents;
  for (ReadyFile& file : listing->ready) {
    present.insert(file.name);
    contents.push_back(
        FileContent{config_.campaigns_dir / file.name, file.name, std::move(file.bytes)});
  }
  for (const UnsettledFile& file : listing->unsettled) {
    present.insert(file.name);
    ++report.unsettled;
    spdlog::debug("campaign.unsettled file={} look_again={}", LogValue(file.name),
                  FormatRfc3339(file.look_again));
  }
  report.next_rescan = listing->NextLook();
  for (const RefusedFile& file : listing->refused) {
    present.insert(file.name);
    if (auto st = Refuse(file.name, file.reason, now, report); !st) {
      return std::unexpected(st.error());
    }
  }
  if (auto st = IngestFiles(contents, present, force, now, report); !st) {
    return std::unexpected(st.error());
  }
  if (auto st = RemoveGone(present, now, report); !st) return std::unexpected(st.error());
  config_changed_ = false;
  return report;
}

Status CampaignIngester::IngestFiles(const std::vector<FileContent>& contents,
                                     const std::set<std::string>& present, bool force,
                                     TimePoint now, ScanReport& report) {
  // A file whose id another present file holds waits for the second round: the holder
  // may give the id up in this scan (its new version carries another id).
  std::vector<const FileContent*> waiting;
  for (const FileContent& content : contents) {
    auto step = IngestFile(content, present, force, /*last_round=*/false, now, report);
    if (!step) return std::unexpected(step.error());
    if (*step == Step::kWaiting) waiting.push_back(&content);
  }
  for (const FileContent* content : waiting) {
    auto step = IngestFile(*content, present, force, /*last_round=*/true, now, report);
    if (!step) return std::unexpected(step.error());
  }
  return {};
}

Status CampaignIngester::RemoveGone(const std::set<std::string>& present, TimePoint now,
                                    ScanReport& report) {
  auto rows = store_.Campaigns();
  if (!rows) return std::unexpected(rows.error());
  for (const auto& row : *rows) {
    if (row.status == CampaignStatus::kRemoved || present.contains(row.file)) continue;
    auto cancelled = store_.RemoveCampaign(row.file, now);
    if (!cancelled) return std::unexpected(cancelled.error());
    ++report.removed;
    spdlog::info("campaign.removed file={} id={} cancelled_jobs={}", LogValue(row.file),
                 LogValue(row.campaign_id), *cancelled);
  }
  std::erase_if(known_, [&](const auto& entry) { return !present.contains(entry.first); });
  return {};
}

Result<std::optional<std::string>> CampaignIngester::HolderOf(const std::string& campaign_id,
                                                              const std::string& name) {
  auto rows = store_.Campaigns();
  if (!rows) return std::unexpected(rows.error());
  for (const auto& row : *rows) {
    if (row.file != name && row.status != CampaignStatus::kRemoved &&
        row.campaign_id == campaign_id) {
      return std::optional<std::string>(row.file);
    }
  }
  return std::optional<std::string>();
}

Status CampaignIngester::Refuse(const std::string& name, const std::string& reason, TimePoint now,
                                ScanReport& report) {
  // Read again from scratch once it is readable: the store's row says refused.
  known_.erase(name);
  report.refused.push_back(RefusedFile{name, reason});
  auto changed = store_.RefuseFile(name, reason, now);
  if (!changed) return std::unexpected(changed.error());
  if (*changed) {
    report.errors.push_back(name + ": " + reason);
    spdlog::warn("campaign.refused file={} reason={}", LogValue(name), LogValue(reason));
  }
  return {};
}

Status CampaignIngester::Reject(const std::string& name, const std::string& hash,
                                const std::vector<std::string>& errors, bool recheck, TimePoint now,
                                ScanReport& report) {
  auto changed = store_.RejectCampaign(name, hash, JoinLines(errors), now);
  if (!changed) return std::unexpected(changed.error());
  known_[name] = Known{hash, {}, false, recheck};
  if (*changed) {
    ++report.rejected;
    for (const auto& line : errors) {
      report.errors.push_back(line);
      spdlog::error("campaign.rejected file={} reason={}", LogValue(name), LogValue(line));
    }
  } else {
    ++report.unchanged;
  }
  return {};
}

Result<CampaignIngester::Step> CampaignIngester::IngestFile(const FileContent& content,
                                                            const std::set<std::string>& present,
                                                            bool force, bool last_round,
                                                            TimePoint now, ScanReport& report) {
  const std::string& name = content.name;
  const std::string hash = ContentHash(content.bytes);
  auto known = known_.find(name);
  if (!force && known != known_.end() && known->second.hash == hash && !known->second.recheck) {
    ++report.unchanged;
    if (!known->second.ok) return Step::kDone;
    auto added = ExtendRepeats(name, known->second.campaign, now);
    if (!added) return std::unexpected(added.error());
    report.occurrences_added += *added;
    return Step::kDone;
  }

  auto campaign = CheckBytes(content.bytes, name, config_);
  if (!campaign) {
    if (auto st = Reject(name, hash, campaign.error(), false, now, report); !st) {
      return std::unexpected(st.error());
    }
    return Step::kDone;
  }

  // A campaign id names one file at a time. Held by a file gone from the folder, the
  // campaign moves here; held by a present one, that file keeps it.
  auto holder = HolderOf(campaign->id, name);
  if (!holder) return std::unexpected(holder.error());
  std::string replaces;
  if (*holder && !present.contains(**holder)) {
    replaces = **holder;
  } else if (*holder) {
    if (!last_round) return Step::kWaiting;
    if (auto st = Reject(name, hash, {IdTaken(name, content.bytes, campaign->id, **holder)}, true,
                         now, report);
        !st) {
      return std::unexpected(st.error());
    }
    return Step::kDone;
  }

  std::map<std::string, TimePoint> from_by_broadcast;
  for (const Broadcast& b : campaign->broadcasts) {
    if (!b.repeat) continue;
    auto earliest = store_.EarliestPending(campaign->id, b.name);
    if (!earliest) return std::unexpected(earliest.error());
    if (*earliest) from_by_broadcast[b.name] = **earliest;
  }
  auto plan = PlanJobs(*campaign, campaign->app, ModificationTime(content.path, now), now,
                       from_by_broadcast, now + horizon_.ahead, horizon_.max_per_pass);
  if (!plan) return Fail(name + ": " + plan.error().message);

  Store::CampaignFile file{name, campaign->id, hash, campaign->app, campaign->priority, replaces};
  auto effect = store_.ApplyCampaign(file, plan->jobs, plan->covered_from, now);
  if (!effect && effect.error().Is(ErrorKind::kConflict)) {
    // Another process took the id between our look and the write.
    auto again = HolderOf(campaign->id, name);
    if (!again) return std::unexpected(again.error());
    std::string error = IdTaken(name, content.bytes, campaign->id, again->value_or("another file"));
    if (auto st = Reject(name, hash, {error}, true, now, report); !st) {
      return std::unexpected(st.error());
    }
    return Step::kDone;
  }
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
    case Store::ApplyEffect::kMoved:
      ++report.moved;
      known_.erase(replaces);
      spdlog::info("campaign.moved file={} from={} id={} jobs={}", LogValue(name),
                   LogValue(replaces), LogValue(campaign->id), plan->jobs.size());
      break;
  }
  known_[name] = Known{hash, std::move(*campaign), true, false};
  return Step::kDone;
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
