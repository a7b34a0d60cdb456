#pragma once
// Turns the campaign files in campaigns_dir into jobs in the store.
//
// One file is one campaign. A new or changed file becomes jobs in one
// transaction; an unchanged file changes nothing; a changed file updates only
// jobs never attempted; a removed file cancels its never-attempted jobs; an
// invalid file is recorded as rejected with its errors and its earlier jobs are
// kept until it is fixed or removed. A bad file never stops the others.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "campaign/campaign.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/error.h"
#include "ingest/campaign_folder.h"
#include "store/store.h"

namespace broadcastd {

// How far ahead repeating broadcasts become jobs, and how many at most per
// broadcast in one pass: occurrences become jobs ahead of time, not all at once.
struct RepeatHorizon {
  Duration ahead{std::chrono::hours(48)};
  size_t max_per_pass = 500;
};

struct ScanReport {
  int created = 0;
  int updated = 0;
  int unchanged = 0;
  int rejected = 0;  // files newly recorded as rejected (an unchanged bad file is not counted)
  int removed = 0;   // files gone since the last scan
  int occurrences_added = 0;
  int unsettled = 0;                // files present but still being written: read at a later scan
  std::vector<std::string> errors;  // one line per problem, "file:line:col: why [rule]"
  // Files present but never read (untrusted, not regular, a name that cannot be
  // shown), every scan, with the reason. Their earlier jobs are kept.
  std::vector<RefusedFile> refused;
  // When the earliest file not settled yet will have settled: scan again then.
  std::optional<TimePoint> next_rescan;
};

// Validates one campaign file and checks it against the config (its app).
// Used by --check and by the ingester. Errors are full diagnostic lines.
std::expected<Campaign, std::vector<std::string>> CheckCampaignFile(
    const std::filesystem::path& path, const Config& config);
// The same for a file already read (CampaignFolder); `display_name` names it in errors.
std::expected<Campaign, std::vector<std::string>> CheckCampaignBytes(
    const std::string& bytes, const std::string& display_name, const Config& config);

class CampaignIngester {
 public:
  // REQUIRES: `store` outlives the ingester.
  CampaignIngester(const Config& config, Store& store, RepeatHorizon horizon = {},
                   FolderOptions folder = {});

  // Reads every settled, trusted *.yaml / *.yml file directly in
  // config.campaigns_dir (campaign_folder.h) and brings the store in line with
  // it. A file refused or not settled yet keeps what the store has. Returns an
  // error only when the folder cannot be read (or is world-writable) or the
  // database fails; problems with single files are in the report.
  Result<ScanReport> Scan(TimePoint now);

  // inotify saw the writer of `name` finish (IN_CLOSE_WRITE, IN_MOVED_TO): the
  // next Scan reads it without waiting for it to settle.
  void MarkWritten(const std::string& name) { folder_.MarkWritten(name); }

  // Replaces the config (after a reload); the next Scan re-checks every file.
  void SetConfig(const Config& config);

 private:
  struct Known {
    std::string hash;
    Campaign campaign;  // valid only when ok
    bool ok = false;
  };
  Status IngestFile(const std::filesystem::path& path, const std::string& name,
                    const std::string& bytes, bool force, TimePoint now, ScanReport& report);
  Result<int> ExtendRepeats(const std::string& name, const Campaign& campaign, TimePoint now);
  // A file refused this scan: reported every scan, logged once per change.
  Status RecordRefusal(const RefusedFile& refused, TimePoint now, ScanReport& report);

  Config config_;
  Store& store_;
  RepeatHorizon horizon_;
  bool config_changed_ = true;
  std::map<std::string, Known> known_;  // by file name, valid campaigns cached for the horizon
  CampaignFolder folder_;
  std::map<std::string, std::string> refusals_;  // file -> reason last logged
};

}  // namespace broadcastd
