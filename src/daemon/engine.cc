#include "daemon/engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "core/log_value.h"
#include "core/time_format.h"
#include "limiter/daily_budget.h"
#include "rebuild/scheduler_state.h"
#include "store/configured_store.h"

namespace broadcastd {
namespace {

// After a failure, look again this soon: not at once (a spin), not at the next rescan.
constexpr Duration kLookAgain = std::chrono::seconds(1);
constexpr Duration kTokenBackoffFirst = std::chrono::seconds(1);
constexpr Duration kTokenBackoffCap = std::chrono::minutes(5);
constexpr const char* kTokenNotice = "token";
// The job change log is pruned this many rows at a time at most (one short write).
constexpr int kPruneBatch = 20000;
// A refresh naming more changed jobs than this (and than half the queue) rebuilds instead.
constexpr int64_t kRefreshLimit = 100000;

Duration Backoff(Duration first, Duration cap, int failures) {
  Duration d = first;
  for (int i = 1; i < failures && d < cap; ++i) d *= 2;
  return std::min(d, cap);
}

bool IsRefusal(const Error& error) {
  return error.Is(ErrorKind::kConflict) || error.Is(ErrorKind::kNotFound);
}

}  // namespace

Result<std::unique_ptr<Engine>> Engine::Create(const Config& config,
                                               std::filesystem::path credentials_dir,
                                               HttpTransport& transport, const Clock& clock) {
  auto store = OpenConfiguredStore(config, Store::Mode::kReadWrite, credentials_dir);
  if (!store) return std::unexpected(store.error());
  store->set_boot_id(clock.BootId());
  std::unique_ptr<LeaseState> lease;
  if (store->IsPostgres()) lease = std::make_unique<LeaseState>();
  auto engine = Create(config, std::move(credentials_dir), transport, clock,
                       std::make_unique<Store>(std::move(*store)));
  if (engine) (*engine)->lease_ = std::move(lease);
  return engine;
}

Result<std::unique_ptr<Engine>> Engine::Create(const Config& config,
                                               std::filesystem::path credentials_dir,
                                               HttpTransport& transport, const Clock& clock,
                                               std::unique_ptr<Store> store) {
  return std::unique_ptr<Engine>(
      new Engine(config, std::move(credentials_dir), transport, clock, std::move(store)));
}

Engine::Engine(const Config& config, std::filesystem::path credentials_dir,
               HttpTransport& transport, const Clock& clock, std::unique_ptr<Store> store)
    : config_(config),
      credentials_dir_(std::move(credentials_dir)),
      transport_(transport),
      clock_(clock),
      store_(std::move(store)),
      ingester_(std::make_unique<CampaignIngester>(config_, *store_)) {
  clients_ = BuildClients(config_);
}

std::map<std::string, std::shared_ptr<BroadcastClient>> Engine::BuildClients(const Config& config) {
  std::map<std::string, std::shared_ptr<BroadcastClient>> clients;
  for (const auto& [name, app] : config.apps) {
    clients[name] = std::make_shared<BroadcastClient>(app, credentials_dir_, transport_, clock_);
  }
  return clients;
}

Status Engine::Start() {
  const TimePoint now = clock_.Now();
  // Shared with other daemons (PostgreSQL): a job `sending` may be another daemon's
  // request in flight; it is recovered on taking the lease (TickLease), not here.
  if (!lease_) {
    auto recovered = store_->RecoverInFlight(now);
    if (!recovered) return std::unexpected(recovered.error());
    for (int64_t id : *recovered) {
      spdlog::warn(
          "job.unknown job={} reason=\"the daemon stopped while its request was in flight; it "
          "is not resent: resolve it with --resolve-sent or --resolve-not-sent\"",
          id);
    }
  }
  // A notice of an earlier run says nothing about this one's tokens. Shared: the notices
  // are the sender's (standbys fetch no token); it clears them when it takes the lease.
  if (!lease_) {
    if (Status st = store_->ClearAppNotice("", kTokenNotice); !st) return st;
  }
  // Shared: the lease first. A daemon that takes it rebuilds the queue from the shared
  // audit (TakeOver); taken after the start-up scan, that rebuild would hold a second
  // copy of the queue in memory next to the one the scan built. A failure is retried at
  // the next tick, as later on.
  if (lease_) {
    if (Status st = TickLease(clock_.Read()); !st) {
      spdlog::warn("store.error reason={}", LogValue(st.error().message));
    }
  }
  // A new queue that may send what it finds (on_new_queue: send) adopts nothing.
  const bool hold = config_.on_new_queue == Config::NewQueue::kHold;
  store_->set_adopt_new_campaigns(hold);
  auto adopting = store_->Adopting();
  if (!adopting) return std::unexpected(adopting.error());
  if (*adopting && !hold) {
    if (auto ended = store_->EndAdoption(); !ended) return std::unexpected(ended.error());
  }
  adoption_open_ = *adopting && hold;
  // The first rescan also builds the scheduler from the store. At start-up a scan reads
  // only files that changed while the daemon was stopped and repeating campaigns; it is
  // done whole before the daemon is ready.
  while (true) {
    auto report = Rescan();
    if (!report) return std::unexpected(report.error());
    if (!report->more) return {};
  }
}

Status Engine::FollowAdoption(const ScanReport& slice) {
  if (!adoption_open_) return {};
  adoption_unsettled_ += slice.unsettled;
  if (slice.more) return {};
  const bool settled = adoption_unsettled_ == 0 && !slice.unavailable;
  adoption_unsettled_ = 0;
  if (!settled) return {};  // a file found at the start is still being written
  // A scan read every file the folder held: the campaigns found are held (their jobs
  // are loaded held) until an operator confirms them; files dropped from now on are new.
  auto adopted = store_->EndAdoption();
  if (!adopted) return std::unexpected(adopted.error());
  adoption_open_ = false;
  for (const Store::AdoptedCampaign& c : *adopted) {
    spdlog::warn(
        "campaign.adopted campaign={} file={} jobs={} reason=\"a new queue found it in the "
        "folder and holds it: it may have gone out from a queue that was lost; confirm with "
        "broadcastd --confirm {}\"",
        LogValue(c.campaign_id), LogValue(c.file), c.queued_jobs, c.campaign_id);
  }
  return {};
}

Result<ScanReport> Engine::Rescan() {
  next_rescan_.reset();
  const TimePoint now = clock_.Now();
  auto report = ingester_->ScanSlice(now);
  if (!report) return report;
  if (Status st = FollowAdoption(*report); !st) return std::unexpected(st.error());
  // A scan with files left goes on at once, after the loop has dispatched.
  next_rescan_ = report->more ? std::optional<TimePoint>(now) : report->next_rescan;
  // Another process (an operator command) committed since we last looked: its
  // SIGUSR1 may have been lost, the data version is not.
  auto version = store_->DataVersion();
  if (!version) return std::unexpected(version.error());
  const bool others_wrote = *version != data_version_;
  data_version_ = *version;
  if (report->created + report->updated + report->removed + report->occurrences_added > 0 ||
      others_wrote || !scheduler_) {
    if (Status st = ReloadQueue(); !st) return std::unexpected(st.error());
  }
  return report;
}

Status Engine::RebuildQueue() {
  QueuePosition position;
  auto scheduler = LoadSchedulerState(config_, *store_, clock_.Read(), clock_.BootId(), &position);
  if (!scheduler) return std::unexpected(scheduler.error());
  // The old scheduler is dropped before the new one moves in (two of them, not three, at
  // the peak: the old stays usable until the load succeeded).
  scheduler_.reset();
  scheduler_ = std::make_unique<Scheduler>(std::move(*scheduler));
  queue_position_ = position;
  ++full_queue_loads_;
  // Answers not committed yet: their jobs are still `sending` in the store, hence not
  // loaded; nothing to undo.
  PruneJobChanges();
  return {};
}

void Engine::PruneJobChanges() {
  // Shared (PostgreSQL): the holder alone prunes, so that a standby never deletes changes
  // the sender has not read (a standby rebuilds everything when it takes over).
  if (lease_ && !lease_->leading) return;
  if (auto pruned = store_->PruneJobChanges(queue_position_.job_change, kPruneBatch); !pruned) {
    // The log only grows meanwhile; the next reload tries again.
    spdlog::warn("store.error reason={}", LogValue(pruned.error().message));
  }
}

Status Engine::ReloadQueue() {
  if (!scheduler_) return RebuildQueue();
  auto pending = store_->CountJobChangesSince(queue_position_.job_change);
  if (!pending) return std::unexpected(pending.error());
  if (*pending > std::max<int64_t>(kRefreshLimit, static_cast<int64_t>(scheduler_->size() / 2))) {
    return RebuildQueue();
  }
  auto refresh = RefreshSchedulerState(config_, *store_, *scheduler_, clock_.Read(),
                                       clock_.BootId(), queue_position_);
  if (!refresh) return std::unexpected(refresh.error());
  PruneJobChanges();
  return {};
}

Status Engine::Reconfigure(const Config& config) {
  if (config.database != config_.database) {
    return Fail(ErrorKind::kInvalid, "database: changing it (" + config_.database.string() +
                                         " -> " + config.database.string() +
                                         ") needs a restart; the old config stays in force");
  }
  // Build aside: nothing of the engine changes until every step has succeeded.
  auto clients = BuildClients(config);
  ingester_->SetConfig(config);
  next_rescan_.reset();
  // The first slice of the scan under the new config (the folder is listed in it): when
  // files are left, the loop goes on with them as with any scan.
  const TimePoint now = clock_.Now();
  auto report = ingester_->ScanSlice(now);
  if (report) {
    adoption_unsettled_ = 0;  // a new scan: the one interrupted counts for nothing
    if (Status st = FollowAdoption(*report); !st) report = std::unexpected(st.error());
  }
  QueuePosition position;
  Result<Scheduler> scheduler =
      report ? LoadSchedulerState(config, *store_, clock_.Read(), clock_.BootId(), &position)
             : Result<Scheduler>(std::unexpected(report.error()));
  if (!scheduler) {
    // The next scan re-checks every file under the config in force.
    ingester_->SetConfig(config_);
    return std::unexpected(scheduler.error());
  }
  // Swap. A request in flight holds its client (shared): the old one lives until
  // that request is done with, and its endpoint stays held until then. A token
  // fetch in flight completes into the old client; the new one fetches its own.
  config_ = config;
  clients_ = std::move(clients);
  scheduler_ = std::make_unique<Scheduler>(std::move(*scheduler));
  queue_position_ = position;
  ++full_queue_loads_;
  next_rescan_ = report->more ? std::optional<TimePoint>(now) : report->next_rescan;
  // New credentials may have come with the reload: every app tries its token again.
  token_holds_.clear();
  held_apps_logged_.clear();
  if (Status st = store_->ClearAppNotice("", kTokenNotice); !st) {
    spdlog::error("store.error reason={}", LogValue(st.error().message));
  }
  for (const auto& [job_id, pending] : uncommitted_) scheduler_->Remove(job_id);
  for (const auto& [endpoint, job_id] : sending_) scheduler_->Remove(job_id);
  return {};
}

void Engine::Wake(TimePoint at) {
  if (!next_wake_ || at < *next_wake_) next_wake_ = at;
}

std::optional<std::string> Engine::HeldBecause(const EndpointKey& endpoint, TimePoint now) {
  if (!clients_.contains(endpoint.app)) {
    // Renamed or removed by a reload: its jobs wait, unharmed, for the app to come back.
    if (held_apps_logged_.insert(endpoint.app).second) {
      spdlog::warn(
          "job.held app={} reason=\"the app is not in the config; its jobs are kept and sent "
          "if it comes back\"",
          LogValue(endpoint.app));
    }
    return "app not in the config";
  }
  if (auto busy = sending_.find(endpoint); busy != sending_.end()) {
    // Released by Complete or Abandon; the loop asks again then.
    return "a request is in flight (job " + std::to_string(busy->second) + ")";
  }
  if (fetching_.contains(endpoint.app)) return "its app's token is being fetched";
  if (auto hold = token_holds_.find(endpoint.app);
      hold != token_holds_.end() && now < hold->second.retry_at) {
    Wake(hold->second.retry_at);
    return "no token: " + hold->second.reason;
  }
  for (const auto& [job_id, pending] : uncommitted_) {
    if (pending.send.job.endpoint == endpoint) {
      Wake(pending.retry_at);
      return "the answer to job " + std::to_string(job_id) + " is not committed yet";
    }
  }
  return std::nullopt;
}

Result<bool> Engine::ExpireDue(const std::vector<int64_t>& ids, TimePoint now) {
  for (int64_t id : ids) {
    if (Status st = store_->ExpireJob(id, now); !st) {
      // Most likely an operator got there first; the store has the truth.
      if (!IsRefusal(st.error())) return std::unexpected(st.error());
      if (Status explained = Refused(id, st.error()); !explained) {
        return std::unexpected(explained.error());
      }
      return false;
    }
    scheduler_->Remove(id);
    spdlog::warn("job.expired job={} at={}", id, FormatRfc3339(now));
  }
  return true;
}

std::optional<QueuedJob> Engine::FirstSendable(const std::vector<int64_t>& ids, TimePoint now) {
  for (int64_t id : ids) {
    std::optional<QueuedJob> job = scheduler_->Find(id);
    if (job && !HeldBecause(job->endpoint, now)) return job;
  }
  return std::nullopt;
}

Result<std::optional<EngineStep>> Engine::StartSend(const QueuedJob& pick, const Instant& reading) {
  const int64_t id = pick.id;
  const EndpointKey endpoint = pick.endpoint;
  std::shared_ptr<BroadcastClient> client = clients_.at(endpoint.app);

  // The token first: fetching it is not an attempt, and its time is not the POST's.
  // One fetch per app at a time: its other endpoints wait for it (HeldBecause).
  std::optional<std::string> token = client->CachedToken();
  if (!token) {
    fetching_.insert(endpoint.app);
    return EngineStep{TokenRequest{endpoint.app, std::move(client)}};
  }

  auto row = store_->Job(id);
  if (!row) return std::unexpected(row.error());
  // Shared database: the claim also checks the shared audit's windows and budget.
  std::optional<Store::AuditCheck> check;
  if (lease_ && *row) {
    const DailyBudget day(config_.day_boundary);
    check = Store::AuditCheck{config_.LimitsFor((*row)->app, (*row)->target),
                              day.DayStart(day.DayOf(reading.wall))};
  }
  auto claim = *row
                   ? store_->ClaimForSending(id, reading, check ? &*check : nullptr)
                   : Result<int64_t>(std::unexpected(Error{
                         "job " + std::to_string(id) + " no longer exists", ErrorKind::kNotFound}));
  if (!claim) {
    // The connection died during the claim: if it was at the COMMIT, the claim may
    // have committed unseen. No request goes out for it; it is settled later.
    if (lease_ && claim.error().kind == ErrorKind::kUnavailable) lost_claims_[id] = reading;
    // Cancelled, or its endpoint paused, by an operator since the queue was read:
    // not ours to send. Anything else (disk full, read-only) is a real failure.
    if (!IsRefusal(claim.error())) return std::unexpected(claim.error());
    if (Status explained = Refused(id, claim.error()); !explained) {
      return std::unexpected(explained.error());
    }
    return std::nullopt;
  }
  // The attempt starts now, after the token and the claim's commit: this is the
  // time every window counts and the audit keeps.
  const Instant started = clock_.Read();
  scheduler_->Begin(id, started);
  sending_[endpoint] = id;
  spdlog::info("broadcast.start job={} attempt={} app={} target={}", id, *claim,
               LogValue((*row)->app), TargetName((*row)->target));
  return EngineStep{
      PendingSend{ToQueuedJob(**row), *claim, (*row)->body, std::move(*token), started, client}};
}

Result<EngineStep> Engine::Next() {
  const Instant reading = clock_.Read();
  const TimePoint now = reading.wall;
  // Should the database fail, look again in a second rather than at once. Every
  // error path below returns through `failed`, which re-arms that second.
  auto failed = [&](const Error& error) -> Result<EngineStep> {
    next_wake_ = now + kLookAgain;
    return std::unexpected(error);
  };
  if (Status st = NoteClockStep(reading); !st) return failed(st.error());
  RetryUncommitted(now);
  SettleLostClaims(reading);
  if (lease_) {
    if (Status st = TickLease(reading); !st) return failed(st.error());
    const Duration to_tick = std::chrono::duration_cast<Duration>(lease_->next_tick - reading.mono);
    if (!Leading(reading.mono)) {
      next_wake_ = now + std::max(to_tick, Duration(0));
      return EngineStep{};
    }
  }
  if (auto promoted = store_->PromoteDue(now); !promoted) return failed(promoted.error());
  while (true) {
    Decision decision = scheduler_->Decide(reading);
    next_wake_ = decision.next;
    Result<bool> expired = ExpireDue(decision.expire, now);
    if (!expired) return failed(expired.error());
    if (!*expired) continue;  // the store refused one: decide again

    std::optional<QueuedJob> pick = FirstSendable(decision.send, now);
    if (!pick) {
      for (const auto& [job_id, pending] : uncommitted_) Wake(pending.retry_at);
      return EngineStep{};
    }
    Result<std::optional<EngineStep>> step = StartSend(*pick, reading);
    if (!step) return failed(step.error());
    if (*step) return std::move(**step);
    // The store refused the claim and the scheduler is in line again: decide again.
  }
}

void Engine::SettleLostClaims(const Instant& now) {
  for (auto it = lost_claims_.begin(); it != lost_claims_.end();) {
    const int64_t id = it->first;
    auto settled = store_->SettleLostClaim(id, it->second, now);
    if (!settled) {
      // Still out of reach: tried again at the next step.
      spdlog::warn("store.error reason={}", LogValue(settled.error().message));
      return;
    }
    it = lost_claims_.erase(it);
    if (!*settled) continue;  // the claim had not committed: the job is as it was
    spdlog::warn(
        "claim.settled job={} reason=\"the reply to its claim's commit was lost with the "
        "connection to the database; no request was sent, and the job is queued again\"",
        id);
    if (Status st = ReloadQueue(); !st) {
      spdlog::warn("store.error reason={}", LogValue(st.error().message));
    }
  }
}

Status Engine::Refused(int64_t id, const Error& refusal) {
  spdlog::info("job.skipped job={} reason={}", id, LogValue(refusal.message));
  // The store changed under the scheduler (an operator was faster): catch up on every
  // change since the last look, this job's included (the change log names it), and the
  // pauses.
  if (Status st = ReloadQueue(); !st) {
    scheduler_->Remove(id);
    return st;
  }
  const std::optional<QueuedJob> job = scheduler_->Find(id);
  if (!job) return {};
  // Still queued: its endpoint must have been paused meanwhile.
  if (scheduler_->IsPaused(job->endpoint)) return {};
  // The store still has it queued on an active endpoint: a real failure, which
  // the loop retries a second later rather than at once.
  return std::unexpected(refusal);
}

std::optional<TimePoint> Engine::NextWake() const {
  if (!lease_) return next_wake_;
  // The lease is renewed on time whatever the queue needs.
  const Instant now = clock_.Read();
  const TimePoint tick =
      now.wall +
      std::max(Duration(0), std::chrono::duration_cast<Duration>(lease_->next_tick - now.mono));
  return next_wake_ ? std::min(*next_wake_, tick) : tick;
}

void Engine::ReleaseLease() {
  if (!lease_ || !lease_->leading) return;
  lease_->leading = false;
  store_->set_fence(std::nullopt);
  if (Status st = store_->ReleaseSenderLease(config_.node_name, lease_->epoch); !st) {
    spdlog::warn("lease.release_failed node={} reason={}", LogValue(config_.node_name),
                 LogValue(st.error().message));
    return;
  }
  spdlog::info("lease.released node={} epoch={}", LogValue(config_.node_name), lease_->epoch);
}

Status Engine::TickLease(const Instant& reading) {
  LeaseState& l = *lease_;
  if (reading.mono < l.next_tick) return {};
  l.next_tick = reading.mono + config_.sender_lease_ttl / 3;
  auto log_once = [&](const std::string& what, auto&& write) {
    if (l.seen != what) write();
    l.seen = what;
  };
  auto tick =
      store_->TickSenderLease(config_.node_name, config_.sender_lease_ttl, clock_.Monotonic());
  if (!tick) {
    // Claims stop when valid_until passes (Leading); the store connects again at the
    // next tick.
    log_once("unavailable", [&] {
      spdlog::warn("lease.unavailable node={} reason={}", LogValue(config_.node_name),
                   LogValue(tick.error().message));
    });
    return {};
  }
  if (!tick->leading) {
    if (l.leading) {
      spdlog::warn("lease.lost node={} holder={} epoch={}", LogValue(config_.node_name),
                   LogValue(tick->lease.holder), tick->lease.epoch);
    }
    l.leading = false;
    store_->set_fence(std::nullopt);
    log_once("standby " + tick->lease.holder, [&] {
      spdlog::info("lease.standby node={} holder={} epoch={}", LogValue(config_.node_name),
                   LogValue(tick->lease.holder), tick->lease.epoch);
    });
    return {};
  }
  if (l.leading && l.epoch == tick->lease.epoch) {  // a renewal
    l.valid_until = tick->valid_until;
    return {};
  }
  // This process holds it now (a take-over, its first tick, or back after losing it): it
  // claims only once the recovery and the rebuild below succeeded; until then the next
  // ticks try them again.
  if (Status st = TakeOver(*tick, reading); !st) return st;
  l.leading = true;
  l.epoch = tick->lease.epoch;
  l.valid_until = tick->valid_until;
  store_->set_fence(Store::Fence{config_.node_name, tick->lease.epoch});
  l.seen = "leader";
  return {};
}

Status Engine::TakeOver(const Store::LeaseTick& tick, const Instant& reading) {
  spdlog::info("lease.acquired node={} epoch={} previous={}", LogValue(config_.node_name),
               tick.lease.epoch, LogValue(tick.previous_holder));
  std::set<int64_t> ours;  // this process's requests: their answers will be written
  for (const auto& [endpoint, job] : sending_) ours.insert(job);
  for (const auto& [job, pending] : uncommitted_) ours.insert(job);
  // Claims of this process whose requests were never sent: settled, not unknown.
  for (const auto& [job, claimed_at] : lost_claims_) ours.insert(job);
  auto recovered = store_->RecoverInFlight(reading.wall, ours);
  if (!recovered) return std::unexpected(recovered.error());
  if (Status st = store_->ClearAppNotice("", kTokenNotice); !st) return st;
  for (int64_t id : *recovered) {
    spdlog::warn(
        "job.unknown job={} reason=\"it was sending when this daemon took the sender lease; "
        "its request may have reached the server and is not resent: resolve it with "
        "--resolve-sent or --resolve-not-sent\"",
        id);
  }
  // The windows and budgets of the shared audit, whoever sent.
  return RebuildQueue();
}

Status Engine::VerifyDatabase() { return store_->VerifyFiles(); }

Status Engine::NoteClockStep(const Instant& now) {
  const std::optional<Instant> last = std::exchange(last_reading_, now);
  if (!last) return {};
  // Between two readings both clocks advance alike, unless the wall clock stepped.
  const Duration delta = (now.wall - last->wall) - (now.mono - last->mono);
  if (std::chrono::abs(delta) < kClockStepThreshold) return {};
  spdlog::warn("clock.step delta_ms={}", delta.count());
  // The limiter's windows are monotonic and unaffected; the rebuild maps the audit
  // onto the new offset, clamping attempts now dated in the future, and lets jobs
  // that are ready stop waiting for a due the step put ahead.
  return RebuildQueue();
}

void Engine::MarkWritten(const std::string& file) { ingester_->MarkWritten(file); }
bool Engine::MarkWriting(const std::string& file) { return ingester_->MarkWriting(file); }
void Engine::MarkCreated(const std::string& file) { ingester_->MarkCreated(file); }
void Engine::Forget(const std::string& file) { ingester_->Forget(file); }

Result<std::string> Engine::FetchToken(const TokenRequest& request) {
  return request.client->Token();
}

void Engine::TokenFetched(const TokenRequest& request, const Result<std::string>& token) {
  fetching_.erase(request.app);
  const TimePoint now = clock_.Now();
  auto hold = token_holds_.find(request.app);
  if (token) {
    if (hold == token_holds_.end()) return;
    token_holds_.erase(hold);
    spdlog::info("token.available app={}", LogValue(request.app));
    if (Status st = store_->ClearAppNotice(request.app, kTokenNotice); !st) {
      spdlog::error("store.error reason={}", LogValue(st.error().message));
    }
    return;
  }
  if (hold == token_holds_.end()) hold = token_holds_.emplace(request.app, TokenHold{}).first;
  TokenHold& h = hold->second;
  ++h.failures;
  const Duration wait = Backoff(kTokenBackoffFirst, kTokenBackoffCap, h.failures);
  h.retry_at = now + wait;
  Wake(h.retry_at);
  if (h.reason == token.error().message) return;  // said already
  h.reason = token.error().message;
  spdlog::warn(
      "token.unavailable app={} reason={} retry_in_ms={} action=\"its jobs wait; no budget is "
      "spent\"",
      LogValue(request.app), LogValue(h.reason), wait.count());
  if (Status st = store_->SetAppNotice({request.app, kTokenNotice, h.reason, now}); !st) {
    spdlog::error("store.error reason={}", LogValue(st.error().message));
  }
}

}  // namespace broadcastd
