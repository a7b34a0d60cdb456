#pragma once
// The persistent queue and audit: one SQLite file (WAL, synchronous=FULL).
// It stores and answers; it knows nothing of HTTP, YAML or scheduling policy.
//
// Every write is one BEGIN IMMEDIATE transaction: all of it lands, or none of it.
// Nothing throws out of a Store: failures come back as Error values whose message names
// the database path and the operation. A Store is one connection: use it from one thread
// at a time. Several processes may open the same file (the daemon read-write; --status
// and operator commands alongside it).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/outcome.h"
#include "core/target.h"
#include "store/job_state.h"
#include "store/rows.h"

namespace SQLite {
class Database;
}

namespace broadcastd {

class Store {
 public:
  enum class Mode { kReadWrite, kReadOnly };

  // kReadWrite creates the file and its folder if missing and migrates it to the current
  // schema. kReadOnly never writes (it works while a daemon holds the database and writes
  // to it) and fails clearly if the file does not exist or is not at the current schema.
  // Either mode refuses a database whose schema is newer than this code.
  static Result<Store> Open(const std::filesystem::path& path, Mode mode);

  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  ~Store();

  const std::filesystem::path& path() const { return path_; }
  Mode mode() const { return mode_; }
  // PRAGMA user_version.
  Result<int> SchemaVersion();

  // ---------------------------------------------------------------- ingestion
  struct JobSpec {
    std::string broadcast;
    std::string occurrence;  // "once" or the occurrence's RFC 3339 UTC time
    std::string app;
    BroadcastTarget target = BroadcastTarget::kUsers;
    int64_t priority = 0;
    std::string body;
    TimePoint due;
    std::optional<TimePoint> expires;
  };
  struct CampaignFile {
    std::string file;  // name inside campaigns_dir
    std::string campaign_id;
    std::string content_hash;
    std::string app;
    int64_t priority = 0;
  };
  enum class ApplyEffect { kUnchanged, kCreated, kUpdated };

  // A new or changed file. kUnchanged, touching nothing, when the file's row has this
  // content_hash and status ok (the caller folds into the hash whatever else must count
  // as a change). Otherwise, in one transaction: the campaign row becomes status ok with
  // these fields, and for its jobs, matched on (broadcast, occurrence):
  //  - a spec matching a job never attempted (attempts == 0) that is scheduled or ready,
  //    or that was cancelled only because an earlier version of the file dropped it or
  //    the file went away, updates it (body, due, expires, priority, app, target) and
  //    puts it in scheduled or ready by due vs now;
  //  - a spec matching any other job (attempted, finished, cancelled by an operator)
  //    changes nothing;
  //  - a new spec inserts a job, scheduled, or ready if due <= now;
  //  - a never-attempted scheduled/ready job without a spec becomes cancelled when its
  //    occurrence is "once" or a time >= covered_from (older timed occurrences lie
  //    outside the range the specs were generated for, and stay).
  // kCreated when the file had no row or was removed; kUpdated otherwise.
  // Fails, changing nothing, when another file that is not removed uses campaign_id
  // (the message names that file) or when two specs share (broadcast, occurrence).
  Result<ApplyEffect> ApplyCampaign(const CampaignFile& file, const std::vector<JobSpec>& jobs,
                                    TimePoint covered_from, TimePoint now);

  // Inserts the specs whose (broadcast, occurrence) the file has no job for yet (the
  // repeat horizon moving forward); never updates or cancels. Returns how many were
  // inserted. Fails if the file has no row with status ok.
  Result<int> AddMissingJobs(const std::string& file, const std::vector<JobSpec>& jobs,
                             TimePoint now);

  // An invalid file: status rejected with `error` and `content_hash`; its earlier jobs
  // are kept as they are. Returns false, changing nothing, when the row already says
  // rejected with this hash and error (an unchanged bad file is logged once).
  Result<bool> RejectCampaign(const std::string& file, const std::string& content_hash,
                              const std::string& error, TimePoint now);

  // The file is gone: its never-attempted scheduled/ready jobs become cancelled and its
  // status removed. Returns the number of jobs cancelled (0 for an unknown file).
  Result<int> RemoveCampaign(const std::string& file, TimePoint now);

  // Every campaign row, by file name.
  Result<std::vector<CampaignRow>> Campaigns();

  // The earliest due of a never-attempted, scheduled or ready, timed occurrence of
  // (file, broadcast), if there is one.
  Result<std::optional<TimePoint>> EarliestPending(const std::string& file,
                                                   const std::string& broadcast);

  // ---------------------------------------------------------------- queue
  // scheduled -> ready where due <= now. Returns how many moved.
  Result<int> PromoteDue(TimePoint now);

  // scheduled and ready jobs, in insertion order (what the scheduler works from).
  Result<std::vector<JobRow>> QueuedJobs();

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
  // attempt row (started_at = now), committed durably before returning. Returns the
  // attempt id. Fails, changing nothing, when the job is not queued (an operator may have
  // cancelled it meanwhile) or its (app, target) is paused: the caller must then not send.
  Result<int64_t> ClaimForSending(int64_t job_id, TimePoint now);

  struct AttemptOutcome {
    OutcomeClass outcome = OutcomeClass::kUnknown;
    std::optional<int> http_status;
    std::string vendor_error, error_description, broadcast_id, response_body, detail;
    std::optional<TimePoint> retry_not_before;
    std::optional<Duration> retry_after;  // the server's Retry-After, kept for the replay
  };
  // One transaction: the attempt row is completed (ended_at = now; the response body
  // kept to its first kMaxResponseBody bytes) and the job, which must be sending with
  // this attempt open, moves by outcome: kSent -> sent with broadcast_id; kRetry and
  // kNextDay -> ready with not_before = retry_not_before; kPermanent and kUnopened ->
  // failed; kUnknown -> unknown. kUnopened also pauses the job's (app, target).
  // last_error is set from the answer (cleared when sent).
  Status RecordOutcome(int64_t job_id, int64_t attempt_id, const AttemptOutcome& outcome,
                       TimePoint now);

  // At start-up, before anything is claimed: every job still sending becomes unknown,
  // its open attempt gets outcome unknown and the detail "daemon stopped while the
  // request was in flight" (ended_at stays empty: nobody saw it end). Returns the job ids.
  Result<std::vector<int64_t>> RecoverInFlight(TimePoint now);

  // scheduled/ready -> expired; fails for a job in any other state.
  Status ExpireJob(int64_t job_id, TimePoint now);

  // Attempts started at or after `since`, in start order (the limiter rebuilds its
  // windows and daily budgets from them).
  Result<std::vector<AttemptRow>> AttemptsSince(TimePoint since);
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
  // When the last request that sent ended.
  Result<std::optional<TimePoint>> LastSent();

  // PRAGMA data_version: changes whenever another connection commits, so the daemon
  // notices operator actions with one cheap query.
  Result<int64_t> DataVersion();

 private:
  Store(std::filesystem::path path, Mode mode, std::unique_ptr<SQLite::Database> db);

  // Runs `body` (returning Result<T>) and turns any exception into an Error naming the
  // database and `operation`.
  template <class F>
  auto Read(std::string_view operation, F&& body) -> decltype(body());
  // The same inside BEGIN IMMEDIATE: commits when `body` succeeds, rolls back otherwise.
  template <class F>
  auto Write(std::string_view operation, F&& body) -> decltype(body());

  std::filesystem::path path_;
  Mode mode_ = Mode::kReadWrite;
  std::unique_ptr<SQLite::Database> db_;
};

std::string_view ApplyEffectName(Store::ApplyEffect effect);  // "unchanged" | "created" | "updated"

}  // namespace broadcastd
