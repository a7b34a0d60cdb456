#pragma once
// The daemon's decisions and their durable effects, without the event loop:
// joins the store (queue and audit), the scheduler (when) and the Easemob
// clients (how). Single-threaded: the loop calls it; only the network step of
// a TokenRequest or a PendingSend runs elsewhere (Engine::FetchToken and
// Engine::Perform are safe to call from worker threads while the loop goes on).
//
// Several requests may be in flight at once, one per endpoint (app, target), plus
// one token fetch per app shared by all its endpoints: Next() may be called again
// before the earlier steps are finished, and never hands out a second step for an
// endpoint with a request in flight, nor a second token fetch for an app. Every
// claim and every Scheduler::Begin happen here, on the loop's thread, one after
// the other: the windows and budgets see each attempt before the next decision.
//
// The at-most-once rule lives here: a job is claimed durably (state `sending`,
// committed) before its request starts, and its outcome and audit row are
// committed together after the answer. A job found `sending` at start-up
// becomes `unknown` and is never resent by itself.
//
// The attempt is the POST: the app's token is obtained before the claim (a token
// failure claims nothing and spends no budget; the app waits with backoff), and
// the time counted for the attempt is taken after the claim committed, right
// before the request leaves. An answer is never lost: it is logged before any
// store write, and kept and written again until it commits; the scheduler and
// the limiter learn it only then.

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/error.h"
#include "easemob/broadcast_client.h"
#include "easemob/transport.h"
#include "ingest/campaign_ingester.h"
#include "rebuild/scheduler_state.h"
#include "scheduler/scheduler.h"
#include "store/store.h"

namespace broadcastd {

// An app's token must be fetched before its next job can be claimed.
// The client is shared: a reload may replace the engine's clients while the fetch
// is in flight, and this one lives until the request is done with.
struct TokenRequest {
  std::string app;
  std::shared_ptr<BroadcastClient> client;
};

struct PendingSend {
  QueuedJob job;
  int64_t attempt_id = 0;
  std::string body;
  std::string token;   // obtained before the claim
  Instant started_at;  // taken after the claim committed, right before the POST
  std::shared_ptr<BroadcastClient> client;  // kept alive across a reload
};

// What Engine::Next asks the loop to do: nothing now, fetch a token, or send.
using EngineStep = std::variant<std::monostate, TokenRequest, PendingSend>;

class Engine {
 public:
  // REQUIRES: the caller holds the DaemonLock of config.database; `transport` and
  // `clock` outlive the engine.
  static Result<std::unique_ptr<Engine>> Create(const Config& config,
                                                std::filesystem::path credentials_dir,
                                                HttpTransport& transport, const Clock& clock);
  // The same on a store the caller opened (tests open it on a fault-injecting VFS).
  static Result<std::unique_ptr<Engine>> Create(const Config& config,
                                                std::filesystem::path credentials_dir,
                                                HttpTransport& transport, const Clock& clock,
                                                std::unique_ptr<Store> store);

  // Start-up: jobs left `sending` become `unknown`, campaigns are scanned, the
  // scheduler is rebuilt from the store (windows and budgets from the audit). On a queue
  // created at this start (Store::Adopting), the campaigns the folder holds are adopted,
  // held until --confirm, each logged once (campaign.adopted), unless config
  // on_new_queue is send: those of the first scan, and of files it found still being
  // written (until a whole scan has read every file).
  Status Start();
  // One slice of a scan of campaigns_dir (about 50 ms of work; ScanReport::more when
  // files are left: call again soon, NextRescan() says now); rebuilds the scheduler
  // when the slice changed anything, or another process committed (an operator action).
  Result<ScanReport> Rescan();
  // inotify saw the writer of `file` in campaigns_dir finish (IN_CLOSE_WRITE,
  // IN_MOVED_TO): the next Rescan reads it at once, without a settle time.
  void MarkWritten(const std::string& file);
  // inotify saw `file` written to (IN_MODIFY; true for the first write since its
  // close: rescan), created (IN_CREATE) or leave (IN_DELETE, IN_MOVED_FROM): a file
  // written to is not read before its close (CampaignIngester).
  bool MarkWriting(const std::string& file);
  void MarkCreated(const std::string& file);
  void Forget(const std::string& file);
  // When a file that was still being written at the last scan will have
  // settled: rescan then, if nothing else triggers one before.
  std::optional<TimePoint> NextRescan() const { return next_rescan_; }
  // Brings the scheduler in line with the store (after an operator action, a scan that
  // changed jobs, or another process's commit): re-reads only the jobs the store's change
  // log names since the last look, the pauses, and the audit when it grew; then prunes
  // the consumed part of the log (a bounded delete). Rebuilds everything instead when the
  // log names more jobs than a rebuild would read, or when no scheduler exists yet.
  Status ReloadQueue();
  // How often the scheduler was rebuilt from the whole queue (start-up, clock steps,
  // reconfiguration, a large change), and where it stands in the job change log.
  int64_t full_queue_loads() const { return full_queue_loads_; }
  const QueuePosition& queue_position() const { return queue_position_; }
  // Applies a new config (already validated), Kea's way: the clients, the scan
  // under the new config and the new scheduler are built aside and swapped in
  // only if all of them succeed; on failure the old config stays in force
  // entirely. The database path cannot change (kInvalid).
  Status Reconfigure(const Config& config);

  // Writes again the answers that did not commit (when their backoff is over);
  // due jobs become ready, expired ones expired. Then, for the best job that may
  // go now: its app's token when none is cached (a TokenRequest: the loop fetches
  // it and calls TokenFetched), else the job claimed (state `sending`,
  // committed) and ready to POST (a PendingSend). Jobs are held, never claimed,
  // while their app is not in the config, has no token (backoff) or a token fetch
  // in flight, or their endpoint has a request in flight (until Complete or
  // Abandon) or an answer that is not committed yet. The loop calls it again
  // until it returns nothing: each call hands out at most one step.
  // Every error leaves NextWake() a second ahead.
  Result<EngineStep> Next();
  // When the scheduler next needs a look, if nothing else happens: the decision
  // of the last Next() that found nothing to do, the end of a token backoff or
  // of an uncommitted answer's backoff, or a second after a failed Next().
  std::optional<TimePoint> NextWake() const;
  // Whether the database's files are still the ones opened (Store::VerifyFiles). The
  // loop asks before every claim; a failure means stop sending and exit.
  Status VerifyDatabase();

  // The token fetch itself: touches nothing but the client. Worker-thread safe.
  static Result<std::string> FetchToken(const TokenRequest& request);
  // What the fetch gave (the app may fetch again after this): on failure the app waits (1 s
  // doubling up to 5 min), the log says why once per change (`token.unavailable`), and the store
  // keeps a notice for --status; on success that clears.
  void TokenFetched(const TokenRequest& request, const Result<std::string>& token);

  // The HTTP request itself: one POST. Touches nothing but the client: callable
  // from a worker thread.
  static BroadcastAnswer Perform(const PendingSend& send);
  // Records the answer: it is logged in full first; then the audit row and the
  // job's state in one transaction; then the limiter and the scheduler. After a
  // 403 "unopened" the store and the scheduler pause the endpoint. When the write
  // fails the answer is kept and written again by Next() with backoff until it
  // commits (the error is returned, kind kept), and its endpoint claims nothing.
  Status Complete(const PendingSend& send, const BroadcastAnswer& answer);
  // The daemon stops with the request still in flight: the job is `unknown`. Its
  // endpoint is released whether or not the write succeeds.
  Status Abandon(const PendingSend& send);
  // One last try to write the answers that have not committed (at shutdown).
  // Fails when any is still not written; they are in the log.
  Status FlushUncommitted();
  // Jobs whose answer is known but not yet committed, for the loop's status line.
  std::vector<int64_t> UncommittedJobs() const;

  // The endpoints with a request in flight, and its job (for the status line).
  const std::map<EndpointKey, int64_t>& Sending() const { return sending_; }
  // Whether a token fetch for `app` is in flight.
  bool FetchingToken(const std::string& app) const { return fetching_.contains(app); }

  // PostgreSQL (several daemons share the database): whether this daemon holds the sender
  // lease now; only then does Next() claim. SQLite: always.
  bool Leading(MonoTime now) const {
    return !lease_ || (lease_->leading && now < lease_->valid_until);
  }
  bool HasLease() const { return lease_ != nullptr; }
  // A clean stop: gives the sender lease up (when held) so that a standby takes over at
  // its next renewal rather than after the TTL. REQUIRES: no request in flight.
  void ReleaseLease();

  const Config& config() const { return config_; }
  Store& store() { return *store_; }
  const Scheduler& scheduler() const { return *scheduler_; }

 private:
  // A new queue adopts what the folder holds until a whole scan has read every file of
  // it (a file still being written at the start is read later, and adopted then); then
  // ends the adoption and logs each campaign adopted (campaign.adopted).
  Status FollowAdoption(const ScanReport& slice);
  // The sender lease of a PostgreSQL database: one sender among the daemons sharing it.
  // It is renewed on the store's own connection (Store::TickSenderLease).
  struct LeaseState {
    bool leading = false;  // this process holds it (took it, or renewed it since)
    int64_t epoch = 0;
    MonoTime valid_until{};  // claim nothing after this (the last good tick + the TTL)
    MonoTime next_tick{};
    std::string seen;  // what was logged last (a change is logged once)
  };
  // Renews or takes the lease when a renewal period has passed since the last tick. On
  // becoming the holder (a take-over, or this process's first tick as holder): every job
  // still `sending` becomes `unknown` (the previous holder's requests may have reached
  // the server) and the scheduler, windows and budgets are rebuilt from the shared audit.
  Status TickLease(const Instant& reading);
  // What taking the lease does before the first claim (TickLease).
  Status TakeOver(const Store::LeaseTick& tick, const Instant& reading);
  // An answer that arrived and is not committed yet.
  struct Uncommitted {
    PendingSend send;
    BroadcastAnswer answer;
    Instant answered_at;
    std::optional<TimePoint> not_before;
    int failures = 0;
    TimePoint retry_at;
  };
  // An app whose token could not be obtained.
  struct TokenHold {
    std::string reason;
    int failures = 0;
    TimePoint retry_at;
  };

  Engine(const Config& config, std::filesystem::path credentials_dir, HttpTransport& transport,
         const Clock& clock, std::unique_ptr<Store> store);
  std::map<std::string, std::shared_ptr<BroadcastClient>> BuildClients(const Config& config);
  // Why nothing may be claimed on `endpoint` now, if anything; widens next_wake_ to
  // when that may change.
  std::optional<std::string> HeldBecause(const EndpointKey& endpoint, TimePoint now);
  void Wake(TimePoint at);
  // Next()'s steps. Expires the jobs past their deadline; false when the store
  // refused one (Refused brought the scheduler in line): decide again.
  Result<bool> ExpireDue(const std::vector<int64_t>& ids, TimePoint now);
  // The first of `ids` whose endpoint may claim now (HeldBecause).
  std::optional<QueuedJob> FirstSendable(const std::vector<int64_t>& ids, TimePoint now);
  // For the job picked: its app's TokenRequest when no token is cached, else the job
  // claimed and its PendingSend; nothing when the store refused the claim and the
  // scheduler was brought in line.
  Result<std::optional<EngineStep>> StartSend(const QueuedJob& pick, const Instant& reading);
  // After the store refused to expire or claim job `id` (kConflict, kNotFound): brings
  // the scheduler in line with the store (ReloadQueue: the change log names the job when
  // its row changed; the pauses are re-read). Returns `refusal` when the store still has
  // it queued on an active endpoint.
  Status Refused(int64_t id, const Error& refusal);
  // Writes one answer; on success updates the limiter and the scheduler and logs the
  // outcome; on failure keeps it in uncommitted_ with backoff.
  Status Commit(Uncommitted pending, TimePoint now);
  void RetryUncommitted(TimePoint now);
  // PostgreSQL: claims whose commit's reply was lost (kUnavailable) may have committed,
  // and their requests were never sent. Each is settled once the store answers again
  // (Store::SettleLostClaim): a committed one is queued again, not left `sending`.
  void SettleLostClaims(const Instant& now);
  void LogOutcome(const PendingSend& send, const BroadcastAnswer& answer,
                  std::optional<TimePoint> not_before) const;
  // Rebuilds the scheduler from the whole queue (lean rows), the pauses and the audit.
  Status RebuildQueue();
  // Deletes the consumed part of the job change log, a bounded number of rows at a time.
  void PruneJobChanges();
  // Compares the elapsed wall and monotonic time since the previous reading; on a step
  // of the wall clock, logs clock.step and rebuilds the scheduler from the store.
  Status NoteClockStep(const Instant& now);

  // Below this, a difference is the clock being slewed or the two readings not being
  // simultaneous, not a step.
  static constexpr Duration kClockStepThreshold{1000};

  Config config_;
  std::filesystem::path credentials_dir_;
  HttpTransport& transport_;
  const Clock& clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<LeaseState> lease_;  // PostgreSQL only
  std::unique_ptr<CampaignIngester> ingester_;
  std::unique_ptr<Scheduler> scheduler_;
  std::map<std::string, std::shared_ptr<BroadcastClient>> clients_;  // by app name
  std::map<std::string, TokenHold> token_holds_;                     // by app name
  std::map<int64_t, Uncommitted> uncommitted_;                       // by job id
  std::map<EndpointKey, int64_t> sending_;  // a request in flight: its job, by endpoint
  std::map<int64_t, Instant> lost_claims_;  // by job id: when the claim was made
  std::set<std::string> fetching_;          // apps with a token fetch in flight
  std::set<std::string> held_apps_logged_;  // apps not in the config, warned about once
  int64_t data_version_ = 0;                // PRAGMA data_version at the last rescan
  QueuePosition queue_position_;            // what the scheduler reflects of the store
  int64_t full_queue_loads_ = 0;
  bool adoption_open_ = false;  // FollowAdoption: a new queue's adoption goes on
  int adoption_unsettled_ = 0;  // files not settled in the slices of this scan so far
  std::optional<TimePoint> next_wake_;
  // From the last scan's report: when a file still being written will have settled.
  std::optional<TimePoint> next_rescan_;
  std::optional<Instant> last_reading_;  // the clocks at the previous Next()
};

}  // namespace broadcastd
