#pragma once
// The daemon's decisions and their durable effects, without the event loop:
// joins the store (queue and audit), the scheduler (when) and the Easemob
// clients (how). Single-threaded: the loop calls it; only the HTTP request of a
// PendingSend runs elsewhere (Engine::Perform is safe to call from a worker
// thread while the loop waits).
//
// The at-most-once rule lives here: a job is claimed durably (state `sending`,
// committed) before its request starts, and its outcome and audit row are
// committed together after the answer. A job found `sending` at start-up
// becomes `unknown` and is never resent by itself.

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "config/config.h"
#include "core/clock.h"
#include "core/error.h"
#include "easemob/broadcast_client.h"
#include "easemob/transport.h"
#include "ingest/campaign_ingester.h"
#include "scheduler/scheduler.h"
#include "store/store.h"

namespace broadcastd {

struct PendingSend {
  QueuedJob job;
  int64_t attempt_id = 0;
  std::string body;
  BroadcastClient* client = nullptr;  // owned by the engine; lives until Complete
};

class Engine {
 public:
  // REQUIRES: the caller holds the DaemonLock of config.database; `transport` and
  // `clock` outlive the engine.
  static Result<std::unique_ptr<Engine>> Create(const Config& config,
                                                std::filesystem::path credentials_dir,
                                                HttpTransport& transport, const Clock& clock);

  // Start-up: jobs left `sending` become `unknown`, campaigns are scanned, the
  // scheduler is rebuilt from the store (windows and budgets from the audit).
  Status Start();
  // Rescans campaigns_dir; rebuilds the scheduler when anything changed, here or
  // by another process's commit (an operator action).
  Result<ScanReport> Rescan();
  // Re-reads the queue and pauses from the store (after an operator action).
  Status ReloadQueue();
  // Applies a new config (already validated). The database path cannot change.
  Status Reconfigure(const Config& config);

  // Due jobs become ready, expired ones expired; returns the next job to send now,
  // if any (claimed: state `sending`, committed), else nothing.
  Result<std::optional<PendingSend>> Next();
  // When the scheduler next needs a look, if nothing else happens: the decision
  // of the last Next() that found nothing to send (a second after a failed one).
  std::optional<TimePoint> NextWake() const;
  // Whether the database's files are still the ones opened (Store::VerifyFiles). The
  // loop asks before every claim; a failure means stop sending and exit.
  Status VerifyDatabase();

  // The HTTP request itself. Touches nothing but the client: callable from a
  // worker thread.
  static BroadcastAnswer Perform(const PendingSend& send);
  // Records the answer: audit row and job state in one transaction, limiter and
  // scheduler updated; after a 403 "unopened" the store and the scheduler pause
  // the endpoint.
  Status Complete(const PendingSend& send, const BroadcastAnswer& answer);
  // The daemon stops with the request still in flight: the job is `unknown`.
  Status Abandon(const PendingSend& send);

  const Config& config() const { return config_; }
  Store& store() { return *store_; }
  const Scheduler& scheduler() const { return *scheduler_; }

 private:
  Engine(const Config& config, std::filesystem::path credentials_dir, HttpTransport& transport,
         const Clock& clock, std::unique_ptr<Store> store);
  void BuildClients();
  // After the store refused to expire or claim job `id`: re-reads the queue.
  // Succeeds when the store's state explains the refusal (the job is no longer
  // queued, or its endpoint is paused); otherwise returns `refusal`.
  Status RefusalExplained(int64_t id, const Error& refusal);
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
  std::unique_ptr<CampaignIngester> ingester_;
  std::unique_ptr<Scheduler> scheduler_;
  std::map<std::string, std::unique_ptr<BroadcastClient>> clients_;  // by app name
  int64_t data_version_ = 0;
  std::optional<TimePoint> next_wake_;   // PRAGMA data_version at the last rescan
  std::optional<Instant> last_reading_;  // the clocks at the previous Next()
};

}  // namespace broadcastd
