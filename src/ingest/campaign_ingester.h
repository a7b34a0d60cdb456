#pragma once
// Turns the campaign files in campaigns_dir into jobs in the store.
//
// One file is one campaign, identified by its `id` (not by the file's name): a
// file renamed, or a campaign moved to another file, keeps its jobs. A new or
// changed file becomes jobs in one transaction; an unchanged file changes
// nothing; a changed file updates only jobs no attempt may have reached; a
// removed file cancels those; an invalid file is recorded as rejected with its
// errors and its earlier jobs are kept until it is fixed or removed. A file that has
// not changed since it was read (its stamp, campaign_folder.h) is not read again, even
// after a restart, unless its campaign repeats. Two files
// with one id: the one that held it keeps it, the other is rejected. A bad file
// never stops the others.
//
// Signed campaigns (config.signatures): a file's detached signatures (campaign_folder.h) are
// read with it, checked by ssh-keygen on the checker threads (never the caller's), and
// judged against the signers its targets need (signature_rule.h); a campaign short of
// signers keeps its jobs held in the store (Store::SetCampaignSignatures), shown and logged
// (campaign.unsigned). The verdicts count as part of the file's version: a signature added,
// removed or changed is a change of the file.
//
// Threads: the store is used from the caller's thread only. When a slice has more than
// two files to check, their parsing, validation and hashing (pure work on bytes already
// read) runs on a few short-lived worker threads, a bounded batch ahead of the files
// being written; every file is still applied in name order on the caller's thread, so the
// store, the logs and the report are those of a check done file by file.

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "campaign/campaign.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/error.h"
#include "ingest/campaign_folder.h"
#include "ingest/job_planner.h"
#include "signature/signature_rule.h"
#include "signature/signature_verifier.h"
#include "store/store.h"

namespace broadcastd {

// How far ahead repeating broadcasts become jobs, and how many at most per
// broadcast in one pass: occurrences become jobs ahead of time, not all at once.
struct RepeatHorizon {
  Duration ahead{std::chrono::hours(48)};
  size_t max_per_pass = 500;
};

// How a scan is cut into slices, so that the loop sends between them.
struct ScanLimits {
  // Real time of work per slice (a steady clock, whatever the scan's `now` says).
  Duration slice{std::chrono::milliseconds(50)};
  // At most this many files opened per slice; 0: no limit but the time.
  size_t slice_files = 0;
  // At most this many files written per commit.
  size_t batch_files = 256;
  // Threads that read and check the files of a slice ahead of their writes (parse,
  // validation, hash); 0: one per core but the scanning thread's, 1 to 3, and none on a
  // single core.
  size_t check_threads = 0;
};

struct ScanReport {
  int created = 0;
  int updated = 0;
  int unchanged = 0;
  int rejected = 0;  // files newly recorded as rejected (an unchanged bad file is not counted)
  int removed = 0;   // files gone since the last scan
  int moved = 0;     // campaigns that moved to another file (a rename)
  int occurrences_added = 0;
  int unsettled = 0;  // files present but still being written: read at a later scan
  // campaigns_dir is unavailable (CampaignFolder::CheckAvailable): nothing was read or
  // cancelled; its files are shown refused, their jobs kept.
  std::optional<std::string> unavailable;
  std::vector<std::string> errors;  // one line per problem, "file:line:col: why [rule]"
  // Files present but never read (untrusted, not regular, a name that cannot be
  // shown), every scan, with the reason. Their earlier jobs are kept.
  std::vector<RefusedFile> refused;
  // When the earliest file not settled yet will have settled: scan again then. Set by
  // the last slice of a scan.
  std::optional<TimePoint> next_rescan;
  // The scan stopped at its time slice with files left: call again soon (the counts
  // above are this slice's).
  bool more = false;

  // Adds the counts and lists of `slice` (a later slice of the same scan).
  void Add(ScanReport slice);
};

// A campaign, or the full diagnostic lines of why a file does not hold one.
using CampaignCheck = std::expected<Campaign, std::vector<std::string>>;

// Validates one campaign file and checks it against the config (its app).
// Used by --check and by the ingester. Errors are full diagnostic lines.
CampaignCheck CheckCampaignFile(const std::filesystem::path& path, const Config& config);
// The same for a file already read (CampaignFolder); `display_name` names it in errors.
// Pure: safe to call from several threads at once.
CampaignCheck CheckCampaignBytes(const std::string& bytes, const std::string& display_name,
                                 const Config& config);

class CampaignIngester {
 public:
  // A campaign file's signature as read (signed campaigns).
  struct SignatureFileRead {
    std::string name;
    std::string bytes;
    std::string refusal;  // not read: why
  };

  // REQUIRES: `store` outlives the ingester.
  CampaignIngester(const Config& config, Store& store, RepeatHorizon horizon = {},
                   FolderOptions folder = {}, ScanLimits limits = {});

  // Reads every settled, trusted *.yaml / *.yml file directly in
  // config.campaigns_dir (campaign_folder.h) that changed since it was last read, and
  // brings the store in line with it. A file whose stamp (device, inode, size, mtime,
  // ctime) is the one recorded when it was read is unchanged: it is not opened, and
  // the store is not touched for it (a repeating campaign's horizon still moves). A
  // file refused or not settled yet keeps what the store has. Returns an error only
  // when the folder cannot be read (or is world-writable) or the database fails as a
  // whole; problems with single files, a failed write of one among them too, are in
  // the report.
  //
  // ScanSlice does one slice of a scan (ScanLimits) and says `more` when files are
  // left; the next call goes on from there. The folder is listed when a scan starts: a
  // file written meanwhile is read when its turn comes or at the next scan, never
  // half. Changed files are written in batches, one transaction each, every file all
  // or nothing. Files gone are removed after the last slice. Scan does a whole scan.
  Result<ScanReport> ScanSlice(TimePoint now);
  Result<ScanReport> Scan(TimePoint now);

  // inotify saw the writer of `name` finish (IN_CLOSE_WRITE, IN_MOVED_TO): the
  // next Scan reads it without waiting for it to settle.
  void MarkWritten(const std::string& name) {
    folder_.MarkWritten(name);
    if (scan_) scan_->marked.insert(name);  // kept past this scan, which may not list it
  }
  // inotify saw `name` written to (IN_MODIFY): it is not read before its writer closes
  // it. Returns true for the first write since its last close (a scan is worth it then,
  // to start the bound's timer; the other writes are not).
  bool MarkWriting(const std::string& name) {
    if (scan_) scan_->marked.insert(name);
    return folder_.MarkWriting(name);
  }
  // inotify saw `name` created (IN_CREATE): read at once when nobody writes it (a hard
  // link), else when its writer closes it.
  void MarkCreated(const std::string& name) {
    if (scan_) scan_->marked.insert(name);
    folder_.MarkCreated(name);
  }
  // inotify saw `name` leave the folder (IN_DELETE, IN_MOVED_FROM).
  void Forget(const std::string& name) { folder_.Forget(name); }

  // Replaces the config (after a reload). A file's verdict depends on the config only
  // through campaigns_dir and the names of the apps, and its jobs' deadlines through
  // max_delay: when any of them changed, the next scan reads and checks every file again
  // (a changed max_delay re-plans the jobs no attempt may have reached), else it is a
  // scan like any other. A scan under way starts over.
  void SetConfig(const Config& config);

  // Files opened to be read so far (a file known unchanged never is).
  uint64_t files_opened() const { return folder_.opened(); }
  // Files read and checked ahead of their turn so far, in batches given worker threads.
  uint64_t files_checked_ahead() const { return checked_ahead_; }
  // ssh-keygen runs so far (signed campaigns): a verdict kept is not worked out again.
  uint64_t signature_runs() const { return verifier_ ? verifier_->runs() : 0; }

 private:
  // What is known of a file with a row that is not removed.
  struct Known {
    CampaignStatus status = CampaignStatus::kOk;
    std::string campaign_id;  // the campaign it holds, for the log
    std::string hash;
    std::string last_error;  // refused: the reason
    Store::FileFacts facts;
    // Only for a campaign that repeats (its horizon moves every scan); read again
    // after a restart.
    std::shared_ptr<const Campaign> campaign;
    // What its signatures showed when it was read (SignatureStamp); not kept over a
    // restart: a file with signatures is read again once then (its verdicts are kept).
    std::string signature_stamp;
    // Until this enters the horizon, the campaign has no occurrence to add.
    std::optional<TimePoint> next_occurrence;
    bool horizon_known = false;  // next_occurrence was computed
  };
  // A file whose campaign id another listed file holds: checked again after the others.
  struct Waiting {
    std::string name;
    std::string bytes;
    std::string hash;
    Campaign campaign;  // what its bytes hold (checked already)
    Store::FileFacts facts;
    int64_t mtime_ns = 0;
    std::vector<FileSignature> signatures;
  };
  // A read file's content hash and verdict: worked out on a worker ahead of the file's
  // turn, or at its turn when `campaign` is empty.
  struct Checked {
    std::string hash;
    std::optional<CampaignCheck> campaign;
    // Signed campaigns: the file's signatures as read (on the scanning thread, ahead of
    // the checks), and their verdicts (on a checker thread).
    std::vector<SignatureFileRead> signature_files;
    std::optional<TimePoint> signatures_unsettled;  // one is still being written: look then
    std::optional<std::vector<FileSignature>> signatures;
  };
  // What Visit does with a listed file, decided from its listing and what is known of it
  // (nothing the visits of other files change).
  struct VisitPlan {
    enum class Kind { kRefuse, kUnchanged, kRead };
    Kind kind = Kind::kRead;
    bool settle = true;  // kRead: whether the settle time applies
    bool opens = false;  // the visit opens the file (a read, or a horizon after a restart)
  };
  struct Batch;  // files read and checked ahead of their turn (campaign_ingester.cc)
  struct ScanState {
    FolderSnapshot snapshot;
    size_t next = 0;                // the next file of snapshot.files
    std::set<std::string> present;  // listed, and not found gone since
    std::vector<Waiting> waiting;
    std::set<std::string> marked;  // MarkWritten while this scan runs
    bool force = false;            // check every file again (the config changed)
    std::optional<TimePoint> next_look;
    ScanReport total;
    int slices = 0;
    uint64_t opened_before = 0;
    std::chrono::steady_clock::time_point started;
  };

  Status Load();
  // Starts a scan; leaves none when the folder is unavailable (Hold).
  Status Begin(TimePoint now, ScanReport& report);
  // The folder is unavailable: every file the store has is shown refused with why, and
  // keeps its jobs.
  Status Hold(const FolderHold& hold, TimePoint now, ScanReport& report);
  VisitPlan PlanVisit(const ListedFile& file) const;
  // Reads the files of the scan from `from` on, up to a batch (and the slice's opens:
  // `opens_left`, 0 for no limit), and starts checking them on workers.
  std::unique_ptr<Batch> ReadAhead(size_t from, size_t opens_left, TimePoint now);
  // `ahead`: the file as read ahead (ReadAhead), or null to read it now.
  Status Visit(const ListedFile& file, FileRead* ahead, Checked* checked, TimePoint now,
               ScanReport& report);
  // ScanSlice's steps: the files of one slice visited, batch by batch (each read and
  // checked on workers while the one before it is written), until the slice's time or
  // opens are spent; then, once every file is visited, the scan ended and logged.
  Status VisitSlice(TimePoint now, ScanReport& report);
  Status EndScan(TimePoint now, ScanReport& report);
  Status Finish(TimePoint now, ScanReport& report);
  // A read file: unchanged content (its stamp recorded), or checked and applied.
  Status Ingest(const std::string& name, const FileRead& read, Checked checked, TimePoint now,
                ScanReport& report);
  // A checked file's campaign written to the store with its planned jobs (created,
  // updated, moved from a file gone from the folder, or unchanged), or the file
  // rejected; a file whose campaign id a listed file holds waits for the last round.
  Status WriteCampaign(const std::string& name, const std::string& bytes, const std::string& hash,
                       CampaignCheck campaign, Store::FileFacts facts, int64_t mtime_ns,
                       bool last_round, const std::vector<FileSignature>& signatures, TimePoint now,
                       ScanReport& report);
  // Signed campaigns: reads the signatures of a listed file into `checked` (its settle
  // time and trust rules as the file's).
  void ReadSignatures(const ListedFile& file, TimePoint now, Checked& checked);
  // The campaign's signatures judged and recorded with it (its jobs held or released).
  Status RecordSignatures(const std::string& name, const Campaign& campaign,
                          const std::vector<FileSignature>& signatures, TimePoint now);
  // Signed campaigns: whether the file waits for its signatures (one still being written,
  // or not checked yet): counted unsettled, looked at again then.
  bool SignaturesPending(Checked& check, const std::string& bytes, TimePoint now,
                         ScanReport& report);
  // (Re)made from config_.signatures; null when signatures are off.
  void MakeVerifier();
  // Once per config: signatures off, every hold is released; on, the verdicts the store kept
  // are taken.
  Status SyncSignatures();
  // Who holds a campaign id other than `name`: a file gone from the folder (the
  // campaign moves from it) or a listed file (it keeps the id). Empty: nobody.
  struct IdHolder {
    std::string replaces;
    std::string taken_by;
  };
  Result<IdHolder> HolderFor(const std::string& name, const std::string& id);
  // The campaign's jobs from now to the horizon; nothing (reported) when they cannot
  // be planned.
  Result<std::optional<JobPlan>> Plan(const std::string& name, const Campaign& campaign,
                                      int64_t mtime_ns, TimePoint now, ScanReport& report);
  // What the store did with a written campaign: remembered, counted and logged.
  Status Written(const std::string& name, const Campaign& campaign, const std::string& hash,
                 const Store::FileFacts& facts, const JobPlan& plan, Store::ApplyEffect effect,
                 const std::string& replaces, TimePoint now, ScanReport& report);
  // The file's entry, emptied and set to `status` (refused, rejected): what it knew of the
  // file's content is gone, a campaign it holds stays held.
  Known& ResetKnown(const std::string& name, CampaignStatus status);
  Status Refuse(const std::string& name, const std::string& reason, TimePoint now,
                ScanReport& report);
  Status Reject(const std::string& name, const std::string& hash,
                const std::vector<std::string>& errors, Store::FileFacts facts, TimePoint now,
                ScanReport& report);
  // Moves a repeating campaign's horizon; reads the file first when its campaign is not
  // in memory (after a restart).
  Status Extend(const std::string& name, Known& known, TimePoint now, ScanReport& report);
  // A store write for one file failed: reported for that file when the batch survived
  // it, else the scan fails.
  Status FileFailed(const std::string& name, const Error& error, ScanReport& report);
  Status OpenBatch();
  Status CommitBatch();
  void Abandon();

  Config config_;
  Store& store_;
  RepeatHorizon horizon_;
  ScanLimits limits_;
  bool config_changed_ = false;  // check every file again at the next scan
  std::string config_key_;       // campaigns_dir and the app names: what a verdict depends on
  bool loaded_ = false;
  std::map<std::string, Known> known_;  // by file name
  std::optional<ScanState> scan_;
  size_t batch_writes_ = 0;
  uint64_t checked_ahead_ = 0;
  CampaignFolder folder_;
  // Signed campaigns: the verifier, or why none could be made (every signature then fails
  // with it); both empty when signatures are off.
  std::shared_ptr<SignatureVerifier> verifier_;
  std::string verifier_error_;
  TimePoint scan_now_{};  // the `now` of the slice under way
  bool signatures_synced_ = false;
};

}  // namespace broadcastd
