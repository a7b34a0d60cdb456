#include "ingest/campaign_ingester.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <system_error>

#include "campaign/loader.h"
#include "document/document.h"
#include "ingest/job_planner.h"
#include "store/content_hash.h"

namespace broadcastd {
namespace fs = std::filesystem;
namespace {

constexpr size_t kMaxCampaignBytes = DocumentLimits{}.max_bytes;

bool IsCampaignFileName(const fs::path& p) {
  const std::string name = p.filename().string();
  if (name.empty() || name.front() == '.') return false;
  const std::string ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml";
}

// Reads at most limit + 1 bytes: a larger file is rejected by the loader
// without ever being read whole.
Result<std::string> ReadBounded(const fs::path& path, size_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(path.string() + ": cannot open for reading");
  std::string bytes(limit + 1, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<size_t>(in.gcount()));
  if (in.bad()) return Fail(path.string() + ": read error");
  return bytes;
}

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
  auto bytes = ReadBounded(path, kMaxCampaignBytes);
  if (!bytes) return std::unexpected(std::vector<std::string>{bytes.error().message});
  return CheckBytes(*bytes, path.string(), config);
}

CampaignIngester::CampaignIngester(const Config& config, Store& store, RepeatHorizon horizon)
    : config_(config), store_(store), horizon_(horizon) {}

void CampaignIngester::SetConfig(const Config& config) {
  config_ = config;
  config_changed_ = true;
}

Result<ScanReport> CampaignIngester::Scan(TimePoint now) {
  ScanReport report;
  std::error_code ec;
  std::vector<fs::path> files;
  for (fs::directory_iterator it(config_.campaigns_dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::error_code type_ec;
    if (it->is_regular_file(type_ec) && IsCampaignFileName(it->path())) {
      files.push_back(it->path());
    }
  }
  if (ec) {
    return Fail("campaigns_dir " + config_.campaigns_dir.string() + ": " + ec.message());
  }
  std::sort(files.begin(), files.end());

  const bool force = config_changed_;
  std::set<std::string> present;
  for (const fs::path& path : files) {
    const std::string name = path.filename().string();
    present.insert(name);
    auto bytes = ReadBounded(path, kMaxCampaignBytes);
    if (!bytes) {
      // Unreadable now (permissions, a file being replaced): keep what we had.
      report.errors.push_back(bytes.error().message);
      spdlog::warn("campaign.unreadable file={} reason={}", name, bytes.error().message);
      continue;
    }
    if (auto st = IngestFile(path, name, *bytes, force, now, report); !st)
      return std::unexpected(st.error());
  }

  auto rows = store_.Campaigns();
  if (!rows) return std::unexpected(rows.error());
  for (const auto& row : *rows) {
    if (row.status == CampaignStatus::kRemoved || present.contains(row.file)) continue;
    auto cancelled = store_.RemoveCampaign(row.file, now);
    if (!cancelled) return std::unexpected(cancelled.error());
    known_.erase(row.file);
    ++report.removed;
    spdlog::info("campaign.removed file={} cancelled_jobs={}", row.file, *cancelled);
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
        spdlog::error("campaign.rejected file={} reason={}", name, line);
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
      spdlog::info("campaign.accepted file={} id={} jobs={}", name, campaign->id,
                   plan->jobs.size());
      break;
    case Store::ApplyEffect::kUpdated:
      ++report.updated;
      spdlog::info("campaign.updated file={} id={} jobs={}", name, campaign->id, plan->jobs.size());
      break;
  }
  known_[name] = Known{hash, std::move(*campaign), true};
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
