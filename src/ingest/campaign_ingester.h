#pragma once
// Turns the campaign files in campaigns_dir into jobs in the store.
//
// One file is one campaign, identified by its `id` (not by the file's name): a
// file renamed, or a campaign moved to another file, keeps its jobs. A new or
// changed file becomes jobs in one transaction; an unchanged file changes
// nothing; a changed file updates only jobs no attempt may have reached; a
// removed file cancels those; an invalid file is recorded as rejected with its
// errors and its earlier jobs are kept until it is fixed or removed. Two files
// with one id: the one that held it keeps it, the other is rejected. A bad file
// never stops the others.

#include <filesystem>
#include <map>
#include <optional>
#include <set>
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
  int moved = 0;     // campaigns that moved to another file (a rename)
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
    bool recheck = false;  // rejected for an id another file holds: look again next scan
  };
  struct FileContent {
    std::filesystem::path path;
    std::string name;  // inside campaigns_dir
    std::string bytes;
  };
  enum class Step { kDone, kWaiting };

  // Every file read in this scan, in two rounds (see IngestFile). `present` names every
  // file in the folder, read or not: a campaign held by a file not in it moves.
  Status IngestFiles(const std::vector<FileContent>& contents, const std::set<std::string>& present,
                     bool force, TimePoint now, ScanReport& report);
  // kWaiting, touching nothing, when the campaign's id is held by another present file
  // and this is not the last round; in the last round such a file is rejected.
  Result<Step> IngestFile(const FileContent& content, const std::set<std::string>& present,
                          bool force, bool last_round, TimePoint now, ScanReport& report);
  // A file in the folder that is not read (unreadable, untrusted, not a regular file):
  // recorded as refused, logged once per change, its campaign's jobs kept as they are.
  // The caller keeps `name` in `present`, so that it is not taken for removed.
  Status Refuse(const std::string& name, const std::string& reason, TimePoint now,
                ScanReport& report);
  Status Reject(const std::string& name, const std::string& hash,
                const std::vector<std::string>& errors, bool recheck, TimePoint now,
                ScanReport& report);
  // The file other than `name` that holds `campaign_id`, if any.
  Result<std::optional<std::string>> HolderOf(const std::string& campaign_id,
                                              const std::string& name);
  // Files with a row that are no longer in `present` are removed.
  Status RemoveGone(const std::set<std::string>& present, TimePoint now, ScanReport& report);
  Result<int> ExtendRepeats(const std::string& name, const Campaign& campaign, TimePoint now);

  Config config_;
  Store& store_;
  RepeatHorizon horizon_;
  bool config_changed_ = true;
  std::map<std::string, Known> known_;  // by file name, valid campaigns cached for the horizon
  CampaignFolder folder_;
};

}  // namespace broadcastd
