#pragma once
// The persistent queue and audit: one SQLite file (WAL, synchronous=FULL), or a
// PostgreSQL database shared by several daemons (config `database:` a libpq URI).
// It stores and answers; it knows nothing of HTTP, YAML or scheduling policy. Both
// backends run the same SQL and keep the same promises; what differs is said where it does.
//
// Every write is one transaction that no other writer of the database runs alongside
// (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock all writers take): all of it
// lands, or none of it.
// Nothing throws out of a Store: failures come back as Error values whose message names
// the database path and the operation. A Store is one connection: use it from one thread
// at a time. Several processes may open the same file (the daemon read-write; --status
// and operator commands alongside it).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/limits.h"
#include "core/outcome.h"
#include "core/target.h"
#include "store/audit_entry.h"
#include "store/job_state.h"
#include "store/rows.h"

namespace broadcastd {

namespace sql {
class Connection;
}

class Store {
 public:
  enum class Mode { kReadWrite, kReadOnly, kReadWriteExisting };

  // kReadWrite creates the file and its folder if missing and migrates it to the current
  // schema. kReadWriteExisting (operator commands) is kReadWrite that never creates
  // anything: a missing file is an error. kReadOnly never writes (it works while a daemon
  // holds the database and writes to it) and fails clearly if the file does not exist or is
  // not at the current schema. Every mode refuses a database whose schema is newer than this
  // code. `vfs` names a registered SQLite VFS (tests inject faults through one); empty: the
  // default.
  static Result<Store> Open(const std::filesystem::path& path, Mode mode,
                            const std::string& vfs = {});

  // A PostgreSQL database named by a libpq URI (`password`, when given, from the
  // credential file; it never appears in a message). kReadWrite creates the tables when
  // missing (several daemons may race to; one does it); the other modes need them.
  // kUnavailable when the server cannot be reached.
  static Result<Store> OpenPostgres(const std::string& uri, Mode mode,
                                    const std::optional<std::string>& password = {});
  // OpenPostgres when `database` is a PostgreSQL URI (IsPostgresUri), else Open.
  static Result<Store> OpenDatabase(const std::filesystem::path& database, Mode mode,
                                    const std::optional<std::string>& password = {});
  bool IsPostgres() const;

  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  ~Store();

  // The SQLite file, or the PostgreSQL URI without its password.
  const std::filesystem::path& path() const { return path_; }
  Mode mode() const { return mode_; }
  // PRAGMA user_version (PostgreSQL: broadcastd_schema.version).
  Result<int> SchemaVersion();

  // The boot (Clock::BootId) that the monotonic readings passed to ClaimForSending and
  // RecordOutcome belong to; stored with each attempt. Empty (the default): none.
  void set_boot_id(std::string boot_id) { boot_id_ = std::move(boot_id); }

  // Whether the files this connection writes are still the database's: fails (kIo)
  // when the database file was moved, replaced or deleted (SQLITE_FCNTL_HAS_MOVED), or
  // its "-wal" file is gone or is another file than the one seen at open. A commit
  // would then land in a file that nobody opens again, and vanish with this process:
  // the daemon checks before every claim and stops instead. PostgreSQL: always fine.
  Status VerifyFiles();

  // PostgreSQL only: every claim (ClaimForSending) first checks, in its own transaction,
  // that daemon `node` holds the sender lease at `epoch` and that it has not expired by
  // the database's clock (TickSenderLease), and is refused (kConflict) otherwise: a
  // daemon paused past its lease claims nothing once another took over. The check locks
  // the lease's row (FOR SHARE) until the claim commits, so a take-over waits for a claim
  // in progress and then finds its job `sending`. Unset: claims are refused (kConflict)
  // on PostgreSQL until a fence is set.
  struct Fence {
    std::string node;
    int64_t epoch = 0;
  };
  void set_fence(std::optional<Fence> fence) { fence_ = std::move(fence); }

  // ---------------------------------------------------------------- ingestion
  // A job is (campaign id, broadcast name, occurrence), whatever file carries it. A
  // campaign id is held by at most one file at a time (its status ok, rejected or
  // refused); every file the folder showed has a row (Campaigns()).
  //
  // A job "no attempt may have reached" is one whose every attempt was answered in a way
  // that proves it was not applied (outcome retry or next_day); a job never attempted
  // is one. Only such jobs ever follow a file: any other job is never updated,
  // cancelled or brought back by a change of files.
  struct JobSpec {
    std::string broadcast;
    std::string occurrence;  // "once" or the occurrence's RFC 3339 UTC time
    std::string app;
    BroadcastTarget target = BroadcastTarget::kUsers;
    int64_t priority = 0;
    std::string body;
    TimePoint due;
    std::optional<TimePoint> expires;
    // No send_at: `due` is the file's modification time ("as soon as allowed"). An
    // existing job keeps its due when it is earlier, so a newer copy of the file (a
    // move, an edit) does not push it back.
    bool due_is_default = false;
    // The lateness guard (max_delay) in `expires`, when it applies: an existing job that
    // keeps an earlier due keeps its deadline too (expires at most that due + this).
    std::optional<Duration> max_delay = std::nullopt;
  };
  // What fstat says of a campaign file: while it shows the same, the file has not
  // changed and is not read again (a write moves ctime, a rename-over changes the inode).
  struct FileStamp {
    uint64_t device = 0;
    uint64_t inode = 0;
    int64_t size = 0;
    int64_t mtime_ns = 0;  // since the Unix epoch
    int64_t ctime_ns = 0;
    friend bool operator==(const FileStamp&, const FileStamp&) = default;
  };
  // Kept with a file's row (schema 7), for the next scan and the next start.
  struct FileFacts {
    // The file when its content was read; none when it must be read again.
    std::optional<FileStamp> stamp = {};
    bool repeats = false;  // its campaign has repeating broadcasts (status ok)
    bool recheck = false;  // rejected only because another file holds its id
  };
  struct CampaignFile {
    std::string file;  // name inside campaigns_dir
    std::string campaign_id;
    std::string content_hash;
    std::string app;
    int64_t priority = 0;
    // A file the caller saw gone from the folder that may hold campaign_id: the
    // campaign moves from it to `file` (a rename or a move seen in one scan). Empty: none.
    std::string replaces = {};
    FileFacts facts = {};
  };
  enum class ApplyEffect { kUnchanged, kCreated, kUpdated, kMoved };

  // A new or changed file carrying a valid campaign. kUnchanged, touching nothing but the
  // row's facts, when the file's row has this content_hash and status ok (the caller folds
  // into the hash whatever else must count as a change). Otherwise, in one transaction: the file's
  // row becomes status ok and holds the campaign `campaign_id` (created if new); a
  // campaign the file held before under another id loses its file and its pending jobs
  // no attempt may have reached are cancelled. Then, for the campaign's jobs, matched on
  // (broadcast, occurrence):
  //  - a spec matching a job no attempt may have reached that is scheduled or ready, or
  //    was cancelled only because a file dropped it or went away, updates it (body, due,
  //    expires, priority, app, target) and puts it in scheduled or ready by due vs now;
  //  - a spec matching any other job (attempted and maybe applied, finished, cancelled
  //    by an operator) changes nothing;
  //  - a new spec inserts a job, scheduled, or ready if due <= now;
  //  - a scheduled/ready job no attempt may have reached and without a spec is
  //    cancelled when its occurrence is "once" or a time >= covered_from (older timed
  //    occurrences lie outside the range the specs were generated for, and stay).
  // kMoved when the campaign came from `replaces` (that file's row becomes removed and
  // no job is cancelled); kCreated when no file held the campaign; kUpdated otherwise.
  // Fails, changing nothing: kConflict when another file holds campaign_id (the message
  // names it); kInvalid when two specs share (broadcast, occurrence).
  Result<ApplyEffect> ApplyCampaign(const CampaignFile& file, const std::vector<JobSpec>& jobs,
                                    TimePoint covered_from, TimePoint now);

  // Inserts the specs whose (broadcast, occurrence) the file's campaign has no job for
  // yet (the repeat horizon moving forward); never updates or cancels. Returns how many
  // were inserted. Fails if the file has no row with status ok.
  Result<int> AddMissingJobs(const std::string& file, const std::vector<JobSpec>& jobs,
                             TimePoint now);

  // An invalid file: status rejected with `error` and `content_hash`; a campaign it holds
  // stays held and its jobs are kept as they are. Returns false, changing nothing, when
  // the row already says rejected with this hash and error (an unchanged bad file is
  // logged once).
  // `facts` are recorded either way.
  Result<bool> RejectCampaign(const std::string& file, const std::string& content_hash,
                              const std::string& error, TimePoint now, const FileFacts& facts);
  Result<bool> RejectCampaign(const std::string& file, const std::string& content_hash,
                              const std::string& error, TimePoint now) {
    return RejectCampaign(file, content_hash, error, now, FileFacts{});
  }

  // Records a file's facts (a new stamp for the same content: a touch, a copy over it
  // with the same bytes), changing nothing else. Fails (kNotFound) for a file without a
  // row, or (kConflict) a removed or refused one.
  Status SetFileFacts(const std::string& file, const FileFacts& facts);

  // A file the folder reader refused to read (untrusted, not a regular file, …): status
  // refused with `reason`; like a rejected file, a campaign it holds stays held and its
  // jobs are kept as they are. Returns true when something changed (the caller logs
  // once per change), false when the row already says refused for this reason.
  Result<bool> RefuseFile(const std::string& file, const std::string& reason, TimePoint now);

  // The file is gone: status removed; the campaign it held loses its file and that
  // campaign's scheduled/ready jobs no attempt may have reached become cancelled (a
  // later file with the same id brings them back). Returns the number of jobs cancelled
  // (0 for an unknown or already removed file).
  Result<int> RemoveCampaign(const std::string& file, TimePoint now);

  // Every file row, by file name.
  Result<std::vector<CampaignRow>> Campaigns();

  // What the ingestion keeps of a file row that is not removed (one query for all).
  struct IngestedFile {
    std::string file;
    CampaignStatus status = CampaignStatus::kOk;
    std::string campaign_id;  // the campaign it holds; empty when none
    std::string content_hash;
    std::string last_error;
    FileFacts facts;
  };
  // Every file row whose status is not removed, by file name.
  Result<std::vector<IngestedFile>> IngestedFiles();

  // The file that holds `campaign_id` (status ok, rejected or refused), if any: one
  // indexed lookup.
  Result<std::optional<std::string>> HolderOf(const std::string& campaign_id);

  // What of the config the stored verdicts were made under (an opaque text of the
  // ingestion's); none before the first scan.
  Result<std::optional<std::string>> CheckedUnder();
  Status SetCheckedUnder(const std::string& key);

  // ---------------------------------------------------------------- signed campaigns
  // What the signatures of a campaign's current version say (src/signature/), written by
  // the ingestion with the version itself (in its batch).
  struct CampaignSignatures {
    std::string signers;   // "alice@example.com, bob@example.com"; empty: none valid
    std::string problems;  // signatures that did not count, one a line
    // Why its jobs wait; none: they may be sent.
    std::optional<std::string> held = std::nullopt;
  };
  // Sets the campaign's row. A change of `held` logs its queued jobs in the job change log,
  // so that a scheduler reading it leaves them out, or takes them back. Fails (kNotFound)
  // for a campaign id the store does not have.
  Status SetCampaignSignatures(const std::string& campaign_id, const CampaignSignatures& s,
                               TimePoint now);
  // Signatures are off: every campaign's row goes (the held ones' queued jobs logged as
  // above). Returns how many campaigns were held.
  Result<int> ClearCampaignSignatures();
  struct SignatureHold {
    std::string campaign_id;
    std::string file;  // the file that holds it; empty when none
    std::string reason;
    std::string signers;
    std::string problems;
    TimePoint since;
    int64_t queued = 0;  // its scheduled and ready jobs
  };
  // The held campaigns, by campaign id.
  Result<std::vector<SignatureHold>> SignatureHolds();
  // The signatures row of one campaign, if it has one.
  Result<std::optional<CampaignSignatures>> SignaturesOf(const std::string& campaign_id);
  // The scheduled and ready jobs of held campaigns: never sent (the claim refuses them).
  Result<std::set<int64_t>> SignatureHeldJobs();
  // The signers each attempt of a job carried (attempt id -> signers), for those that
  // recorded some.
  Result<std::map<int64_t, std::string>> AttemptSigners(int64_t job_id);
  // ssh-keygen's verdicts kept (key -> verdict, signature_verifier.h's encoding).
  Result<std::map<std::string, std::string>> SignatureChecks();
  Status AddSignatureChecks(const std::vector<std::pair<std::string, std::string>>& checks,
                            TimePoint now);

  // ---------------------------------------------------------------- batches
  // Many ingestion writes in one transaction: one commit (one fsync) for all of them.
  // While a batch is open every write method runs in its own SAVEPOINT inside it, all
  // or nothing as ever: one that fails rolls back only itself and returns its error, the
  // others stay. Nothing is durable, nor seen by another connection, before CommitBatch.
  // A failure that SQLite answers by rolling the whole transaction back (a full disk, an
  // I/O error) closes the batch: InBatch() turns false and every write made in it is
  // lost. REQUIRES for BeginBatch: no batch or snapshot open.
  Status BeginBatch();
  // Commits the batch; on failure it is rolled back whole. No-op without a batch.
  Status CommitBatch();
  // Rolls the whole batch back. No-op without a batch.
  void RollbackBatch();
  bool InBatch() const { return batch_open_; }

  // The earliest due of a scheduled or ready timed occurrence of (campaign id,
  // broadcast) that no attempt may have reached, if there is one.
  Result<std::optional<TimePoint>> EarliestPending(const std::string& campaign_id,
                                                   const std::string& broadcast);

  // ---------------------------------------------------------------- queue
  // scheduled -> ready where due <= now. Returns how many moved.
  Result<int> PromoteDue(TimePoint now);

  // scheduled and ready jobs, in insertion order (what the scheduler works from).
  Result<std::vector<JobRow>> QueuedJobs();

  // Calls `each` for every scheduled and ready job in id order, without body or names
  // (QueuedJobRow), from the covering index jobs_queued (the table and its bodies are not
  // touched), in pages of 10,000 rows. Returns how many. What the daemon's scheduler
  // loads from.
  Result<int64_t> ForEachQueuedJob(const std::function<void(const QueuedJobRow&)>& each);
  // The statement ForEachQueuedJob runs (the tests check its plan).
  static std::string LeanQueueQuery();

  // The job change log: every insert, delete and change of a job's scheduling columns,
  // by any connection, appends the job's id (see the schema, version 7).
  // The last change logged; 0 when none.
  Result<int64_t> LastJobChange();
  // How many changes were logged after change `after`.
  Result<int64_t> CountJobChangesSince(int64_t after);
  // Calls `changed` once per job changed after change `after` (one read, one snapshot):
  // with its lean row when it is scheduled or ready, with nullptr when it is in any other
  // state or gone. Returns the last change read (`after` when there was none).
  Result<int64_t> ForEachJobChangedSince(
      int64_t after, const std::function<void(int64_t id, const QueuedJobRow* row)>& changed);
  // Deletes the oldest changes up to change `through`, at most `limit` of them (a bounded
  // write); returns how many.
  Result<int> PruneJobChanges(int64_t through, int limit);
  // The newest attempt's id, 0 when none: the audit grew when it changes.
  Result<int64_t> LastAttemptId();

  struct JobFilter {
    // Default initializers let callers write Jobs({.state = JobState::kReady}) under
    // -Wextra without naming every field.
    std::optional<JobState> state = {};
    std::optional<std::string> campaign_id = {};
    std::optional<std::string> file = {};
  };
  // Jobs matching every field set in `filter`, in insertion order.
  Result<std::vector<JobRow>> Jobs(const JobFilter& filter);
  Result<std::vector<JobRow>> Jobs() { return Jobs(JobFilter{}); }
  Result<std::optional<JobRow>> Job(int64_t id);

  // Moves a scheduled/ready job to sending, adds one to its attempts and inserts its
  // attempt row (started_at = now.wall, started_mono = now.mono with the boot id),
  // committed durably before returning. Returns the
  // attempt id. Fails, changing nothing, when the job is not queued (an operator may have
  // cancelled it meanwhile) or its (app, target) is paused: the caller must then not send.
  // Those refusals are ErrorKind::kConflict (kNotFound for a job that does not exist);
  // a database failure is kIo.
  Result<int64_t> ClaimForSending(int64_t job_id, const Instant& now);

  // PostgreSQL, a second line of defence should two senders ever overlap: the claim is
  // also refused (kConflict) when the shared audit shows, at now.wall, a window of
  // `limits` full (every attempt started counts, whoever made it) or the budget day
  // starting at `day_start` spent. The daemon's limiter keeps a margin on top of these
  // windows, so the check never refuses what the limiter allowed from the same audit.
  struct AuditCheck {
    EndpointLimits limits;
    TimePoint day_start;
  };
  Result<int64_t> ClaimForSending(int64_t job_id, const Instant& now, const AuditCheck* check);

  struct AttemptOutcome {
    OutcomeClass outcome = OutcomeClass::kUnknown;
    std::optional<int> http_status;
    std::string vendor_error, error_description, broadcast_id, response_body, detail;
    std::optional<TimePoint> retry_not_before;
    std::optional<Duration> retry_after;  // the server's Retry-After, kept for the replay
    // When the request really started (right before the POST, after the claim committed):
    // replaces the attempt's started_at, which the claim set to its own time.
    std::optional<Instant> started_at;
  };
  // One transaction: the attempt row is completed (ended_at = now.wall, ended_mono =
  // now.mono; the response body
  // kept to its first kMaxResponseBody bytes) and the job, which must be sending with
  // this attempt open, moves by outcome: kSent -> sent with broadcast_id; kRetry and
  // kNextDay -> ready with not_before = retry_not_before; kPermanent and kUnopened ->
  // failed; kUnknown -> unknown. kUnopened also pauses the job's (app, target).
  // last_error is set from the answer (cleared when sent). Refusals (the attempt already
  // has an outcome, the job is not sending) are kConflict; database failures kIo.
  Status RecordOutcome(int64_t job_id, int64_t attempt_id, const AttemptOutcome& outcome,
                       const Instant& now);

  // A claim whose COMMIT reached the database but whose reply did not (PostgreSQL: the
  // connection died in between) may have committed; its request was never sent. Finds
  // the attempt such a claim of `job_id` at `claimed_at` made in this process (its
  // started_at, started_mono and boot id), still open, and ends it kRetry with the
  // detail that no request was sent: the job is queued again, and the attempt stays in
  // the audit (it counts in the windows, as every claimed attempt does). Returns false
  // when there is none (the claim did not commit, or the job moved on since).
  Result<bool> SettleLostClaim(int64_t job_id, const Instant& claimed_at, const Instant& now);

  // At start-up, before anything is claimed: every job still sending becomes unknown,
  // its open attempt gets outcome unknown and the detail "daemon stopped while the
  // request was in flight" (ended_at stays empty: nobody saw it end). Returns the job ids.
  Result<std::vector<int64_t>> RecoverInFlight(TimePoint now);
  // The same for every job sending but those in `still_ours` (requests of this process
  // still in flight, or answered and not written yet: a daemon that takes the sender
  // lease back after losing it for a moment keeps them).
  Result<std::vector<int64_t>> RecoverInFlight(TimePoint now, const std::set<int64_t>& still_ours);

  // scheduled/ready -> expired; fails for a job in any other state (kConflict; kNotFound
  // for no such job).
  Status ExpireJob(int64_t job_id, TimePoint now);

  // Attempts started at or after `since`, in start order (the limiter rebuilds its
  // windows and daily budgets from them).
  Result<std::vector<AttemptRow>> AttemptsSince(TimePoint since);
  // The attempts that can still weigh on a window or a budget day, in the order they
  // were claimed (which is the order they started, whatever the wall clock said):
  // started at or after `since` on the wall clock, or on boot `boot_id` at or after
  // `since_mono` on the monotonic clock (a forward step of the wall clock must not
  // hide a recent attempt).
  Result<std::vector<AttemptRow>> RecentAttempts(TimePoint since, const std::string& boot_id,
                                                 MonoTime since_mono);
  // A job's attempts, oldest first.
  Result<std::vector<AttemptRow>> AttemptsOf(int64_t job_id);

  // ---------------------------------------------------------------- operator actions
  // Each is one transaction, works while the daemon runs, and leaves a row in the
  // operator audit (OperatorActions).

  // Cancels the scheduled, ready and unknown jobs of the campaign with this id. Returns
  // how many. Fails when no campaign or job carries the id.
  Result<int> CancelCampaign(const std::string& campaign_id, TimePoint now);
  // scheduled/ready/unknown -> cancelled. Refuses a sending job (its request may be in
  // flight) and a finished one, naming the state.
  Status CancelJob(int64_t job_id, TimePoint now);
  // Holds every job of (app, target) until Resume. Pausing a paused endpoint updates
  // the reason and keeps `since`.
  Status Pause(const std::string& app, BroadcastTarget target, const std::string& reason,
               TimePoint now);
  // Fails when (app, target) is not paused. `now` is for the audit.
  Status Resume(const std::string& app, BroadcastTarget target, TimePoint now);
  Result<std::vector<PauseRow>> Pauses();
  // unknown -> sent (with the broadcast ID if the operator knows it).
  Status ResolveSent(int64_t job_id, std::optional<std::string> broadcast_id, TimePoint now);
  // unknown -> ready: the operator checked that it was not applied. not_before = now.
  Status ResolveNotSent(int64_t job_id, TimePoint now);
  // Oldest first; only those about `job_id` when given.
  Result<std::vector<OperatorActionRow>> OperatorActions(std::optional<int64_t> job_id = {});

  // ---------------------------------------------------------------- audit export
  // Calls `each` for every attempt and operator action that `filter` selects, in time
  // order (attempts by start; at the same millisecond attempts first, then by id), until
  // it returns false. Reads through one cursor per table in one snapshot (its own unless
  // one is open: BeginSnapshot), in constant memory however large the audit. Returns how
  // many entries were handed over.
  Result<int64_t> ForEachAuditEntry(const AuditFilter& filter,
                                    const std::function<bool(const AuditEntry&)>& each);

  // ---------------------------------------------------------------- adoption (schema 10)
  // A queue created at this start (the SQLite file, or the PostgreSQL schema, made by
  // this open) cannot tell whether the campaigns already in the folder went out from a
  // queue that was lost (a purge, a deleted database): it adopts them. Until the first
  // scan is over (EndAdoption) every campaign ApplyCampaign creates is adopted, in the
  // same transaction (when set_adopt_new_campaigns); an adopted campaign's queued jobs are held
  // (never claimed: a claim is refused, kConflict) until an operator confirms it. Held jobs still
  // expire. The hold is the campaign's: a job the file adds later is held too.

  // Whether this queue's first scan is still adopting (stored: it lasts across restarts
  // until EndAdoption).
  Result<bool> Adopting();
  // Whether ApplyCampaign adopts while Adopting(): the daemon's choice (config
  // on_new_queue). Off by default: a store that only records (a --check preview, a test)
  // holds nothing.
  void set_adopt_new_campaigns(bool adopt) { adopt_ = adopt; }
  struct AdoptedCampaign {
    std::string campaign_id;
    std::string file;  // the file that holds it now; empty when none
    TimePoint since;
    int64_t queued_jobs = 0;  // scheduled or ready
  };
  // Ends the first scan's adoption; returns the campaigns it adopted that are still held
  // when this call ended it, none when it had already ended (so each is logged once).
  Result<std::vector<AdoptedCampaign>> EndAdoption();
  // The held campaigns, by campaign id.
  Result<std::vector<AdoptedCampaign>> AdoptedCampaigns();
  // The ids of the scheduled and ready jobs of held campaigns, ascending.
  Result<std::vector<int64_t>> HeldJobIds();
  // Releases an adopted campaign (an operator action, "confirm", in the audit with its
  // campaign's scope); its jobs may go out from now on. Returns how many are queued.
  // kNotFound when no campaign of this id is held.
  Result<int64_t> ConfirmAdopted(const std::string& campaign_id, TimePoint now);
  // Every held campaign (one "confirm" action each). Returns their ids.
  Result<std::vector<std::string>> ConfirmAllAdopted(TimePoint now);

  // ---------------------------------------------------------------- app notices
  // What keeps an app from sending apart from its jobs' states (kind "token": no app
  // token), written by the daemon for --status. Set replaces the message of (app, kind)
  // and keeps `since` when the row exists.
  struct AppNotice {
    std::string app;
    std::string kind;
    std::string message;
    TimePoint since;
  };
  Status SetAppNotice(const AppNotice& notice);
  // Removes (app, kind); an empty app removes every notice of that kind.
  Status ClearAppNotice(const std::string& app, const std::string& kind);
  Result<std::vector<AppNotice>> AppNotices();

  // ---------------------------------------------------------------- status (lean reads)
  // For --status, --history and the metrics listener: none of these selects a message
  // body (JobRow::body comes back empty), and each is bounded by an index.

  // One read transaction around several reads, so they see one snapshot even while the
  // daemon commits. REQUIRES: no transaction open on this Store; every BeginSnapshot that
  // succeeded is followed by EndSnapshot (also after a failed read).
  Status BeginSnapshot();
  void EndSnapshot();

  struct JobCount {
    std::string app;
    BroadcastTarget target = BroadcastTarget::kUsers;
    JobState state = JobState::kScheduled;
    int64_t count = 0;
  };
  // Job counts by endpoint and state (kept by triggers: no scan of the jobs).
  Result<std::vector<JobCount>> CountJobs();

  // Where a listing stopped: the last job shown. Listings are ordered by the position of
  // the job's state in `states`, then due, then id, so a page starts after its cursor
  // whatever was inserted meanwhile.
  struct ListingKey {
    JobState state = JobState::kScheduled;
    TimePoint due;
    int64_t id = 0;
  };
  struct JobListing {
    std::vector<JobState> states;  // in listing order; each at most once
    std::optional<std::string> campaign_id = {};
    std::optional<std::string> app = {};
    std::optional<BroadcastTarget> target = {};
    std::optional<ListingKey> after = {};
    size_t limit = 20;
  };
  // At most `limit` jobs (without bodies) after `after`, in listing order.
  Result<std::vector<JobRow>> ListJobs(const JobListing& listing);

  // The head of one endpoint's queue (scheduled and ready jobs, by due then id, without
  // bodies): every job due at or before `through`, at most `cap` of them. `cut`, when
  // set, is the due of the first queued job left out: no job left out can go out before
  // it.
  struct QueueHead {
    std::vector<JobRow> jobs;
    std::optional<TimePoint> cut;
  };
  Result<QueueHead> QueuedHead(const std::string& app, BroadcastTarget target, TimePoint through,
                               size_t cap);

  // The earliest due of the endpoint's ready jobs (how long the oldest has waited).
  Result<std::optional<TimePoint>> OldestReady(const std::string& app, BroadcastTarget target);

  struct AttemptCount {
    std::string app;
    BroadcastTarget target = BroadcastTarget::kUsers;
    std::string outcome;  // an OutcomeName, or "in_flight" while it has none
    int64_t count = 0;
  };
  Result<std::vector<AttemptCount>> CountAttempts();
  // Attempts answered 429 (Too Many Requests), by endpoint (outcome "429"): the daemon's
  // windows should prevent every one.
  Result<std::vector<AttemptCount>> CountRateLimited();
  // The endpoint's scheduled and ready jobs due before `end` (an index range).
  Result<int64_t> CountQueuedDueBefore(const std::string& app, BroadcastTarget target,
                                       TimePoint end);
  // When the last request that sent ended.
  Result<std::optional<TimePoint>> LastSent();

  // PostgreSQL: the sender lease (below) and every daemon it has seen, by the database's
  // clock; none on SQLite.
  struct LeaseStatus {
    std::string holder;  // empty: never held
    int64_t epoch = 0;
    TimePoint since;
    TimePoint expires;
    TimePoint db_now;
    struct Node {
      std::string node;
      TimePoint last_seen;
    };
    std::vector<Node> nodes;  // by name
  };
  Result<std::optional<LeaseStatus>> SenderLeaseStatus();

  // ---------------------------------------------------------------- sender lease
  // PostgreSQL: one sender at a time among the daemons sharing the database (DESIGN.md,
  // "More than one host"). The lease is one row, made with the schema: holder, epoch,
  // since, expiry, all on the database's clock, so the hosts' clocks never have to agree.
  //   every renewal period: auto tick = store.TickSenderLease(node, ttl, clock.Monotonic());
  //     tick->leading: set_fence({node, tick->lease.epoch}) and claim until
  //       tick->valid_until (the local monotonic clock); tick->acquired: this tick took
  //       the lease (a take-over when previous_holder is set);
  //     otherwise: claim nothing; tick->lease says who holds it.
  //   clean stop: ReleaseSenderLease(node, epoch) lets a standby take over at its next tick.
  struct LeaseTick {
    bool leading = false;         // `node` holds the lease after this tick
    bool acquired = false;        // leading, and this tick took it (not a renewal)
    std::string previous_holder;  // when acquired: whom from (empty: never held)
    LeaseStatus lease;            // the row after the tick (no nodes)
    // Leading: claim nothing after this on the local monotonic clock (`started` plus the
    // TTL: the database's expiry, set later, is never earlier).
    MonoTime valid_until{};
  };
  // Renews the lease when `node` holds it and it has not expired; takes it when it has
  // expired (whoever held it: the epoch moves on); else records `node` as a standby.
  // `started`: the caller's monotonic clock before the call. Runs outside the writers'
  // lock and notifies nobody. kUnavailable when the database cannot be reached (the next
  // call connects again): the caller must then claim nothing past the last valid_until.
  // REQUIRES: PostgreSQL; no transaction open on this Store.
  Result<LeaseTick> TickSenderLease(const std::string& node, Duration ttl, MonoTime started);
  // Gives the lease up at once when `node` holds it at `epoch` (a clean stop); changes
  // nothing otherwise. No-op on SQLite.
  Status ReleaseSenderLease(const std::string& node, int64_t epoch);

  // PRAGMA data_version: changes whenever another connection commits, so the daemon
  // notices operator actions with one cheap query. PostgreSQL: every write transaction
  // sends NOTIFY broadcastd; this counts those of other connections received so far
  // (LISTEN, read without waiting; a reconnect counts as a change).
  Result<int64_t> DataVersion();
  // PostgreSQL: the socket on which those notifications arrive (for the daemon's poll);
  // -1 for SQLite.
  int NotifySocket() const;

 private:
  Store(std::filesystem::path path, Mode mode, std::unique_ptr<sql::Connection> db);

  // Runs `body` (returning Result<T>) and turns any exception into an Error naming the
  // database and `operation`.
  template <class F>
  auto Read(std::string_view operation, F&& body) -> decltype(body());
  // The same inside BEGIN IMMEDIATE: commits when `body` succeeds, rolls back otherwise.
  template <class F>
  auto Write(std::string_view operation, F&& body) -> decltype(body());

  std::filesystem::path path_;
  Mode mode_ = Mode::kReadWrite;
  std::unique_ptr<sql::Connection> db_;  // keeps its prepared statements (sql_access.h)
  std::optional<Fence> fence_;
  int64_t notifications_ = 0;  // PostgreSQL: DataVersion
  std::string boot_id_;
  bool batch_open_ = false;  // BeginBatch: writes are savepoints in one transaction
  bool adopt_ = false;       // set_adopt_new_campaigns
  // The "-wal" file (device, inode) seen at open; nullopt until one is seen.
  std::optional<std::pair<uint64_t, uint64_t>> wal_file_;
};

// "unchanged" | "created" | "updated" | "moved"
std::string_view ApplyEffectName(Store::ApplyEffect effect);

// How many times a Store of this process failed in the database since the process started
// (an engine or connection failure, a row that does not decode: every Error a Store builds
// from a caught failure; not a refusal such as a job no longer queued). For /metrics.
int64_t StoreFailureCount();

}  // namespace broadcastd
