#include "daemon/engine.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "core/time_format.h"
#include "queue/scheduler_state.h"

namespace broadcastd {

Result<std::unique_ptr<Engine>> Engine::Create(const Config& config,
                                               std::filesystem::path credentials_dir,
                                               HttpTransport& transport, const Clock& clock) {
  auto store = Store::Open(config.database, Store::Mode::kReadWrite);
  if (!store) return std::unexpected(store.error());
  store->set_boot_id(clock.BootId());
  return std::unique_ptr<Engine>(new Engine(config, std::move(credentials_dir), transport, clock,
                                            std::make_unique<Store>(std::move(*store))));
}

Engine::Engine(const Config& config, std::filesystem::path credentials_dir,
               HttpTransport& transport, const Clock& clock, std::unique_ptr<Store> store)
    : config_(config),
      credentials_dir_(std::move(credentials_dir)),
      transport_(transport),
      clock_(clock),
      store_(std::move(store)),
      ingester_(std::make_unique<CampaignIngester>(config_, *store_)) {
  BuildClients();
}

void Engine::BuildClients() {
  clients_.clear();
  for (const auto& [name, app] : config_.apps) {
    clients_[name] = std::make_unique<BroadcastClient>(app, credentials_dir_, transport_, clock_);
  }
}

Status Engine::Start() {
  const TimePoint now = clock_.Now();
  auto recovered = store_->RecoverInFlight(now);
  if (!recovered) return std::unexpected(recovered.error());
  for (int64_t id : *recovered) {
    spdlog::warn(
        "job.unknown job={} reason=\"the daemon stopped while its request was in flight; it is "
        "not resent: resolve it with --resolve-sent or --resolve-not-sent\"",
        id);
  }
  // The first rescan also builds the scheduler from the store.
  auto report = Rescan();
  if (!report) return std::unexpected(report.error());
  return {};
}

Result<ScanReport> Engine::Rescan() {
  auto report = ingester_->Scan(clock_.Now());
  if (!report) return report;
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

Status Engine::ReloadQueue() {
  auto scheduler = LoadSchedulerState(config_, *store_, clock_.Read(), clock_.BootId());
  if (!scheduler) return std::unexpected(scheduler.error());
  scheduler_ = std::make_unique<Scheduler>(std::move(*scheduler));
  return {};
}

Status Engine::Reconfigure(const Config& config) {
  if (config.database != config_.database) {
    return Fail("database: changing it (" + config_.database.string() + " -> " +
                config.database.string() + ") needs a restart; the old config stays in force");
  }
  config_ = config;
  ingester_->SetConfig(config_);
  BuildClients();
  auto report = ingester_->Scan(clock_.Now());
  if (!report) return std::unexpected(report.error());
  return ReloadQueue();
}

Result<std::optional<PendingSend>> Engine::Next() {
  const Instant now = clock_.Read();
  // Should the database fail, look again in a second rather than at once.
  next_wake_ = now.wall + std::chrono::seconds(1);
  if (Status st = NoteClockStep(now); !st) return std::unexpected(st.error());
  if (auto promoted = store_->PromoteDue(now.wall); !promoted) {
    return std::unexpected(promoted.error());
  }
  while (true) {
    Decision decision = scheduler_->Decide(now);
    next_wake_ = decision.next;
    bool stale = false;
    for (int64_t id : decision.expire) {
      if (Status st = store_->ExpireJob(id, now.wall); !st) {
        // Most likely an operator got there first; the store has the truth.
        if (Status explained = RefusalExplained(id, st.error()); !explained)
          return std::unexpected(explained.error());
        stale = true;
        break;
      }
      scheduler_->Remove(id);
      spdlog::warn("job.expired job={} at={}", id, FormatRfc3339(now.wall));
    }
    if (stale) continue;
    if (decision.send.empty()) return std::nullopt;

    const int64_t id = decision.send.front();
    auto row = store_->Job(id);
    if (!row) return std::unexpected(row.error());
    auto claim = *row ? store_->ClaimForSending(id, now)
                      : Result<int64_t>(std::unexpected(Error{"job no longer exists"}));
    if (!claim) {
      // Cancelled, or its endpoint paused, by an operator since the queue was read:
      // not ours to send.
      if (Status explained = RefusalExplained(id, claim.error()); !explained)
        return std::unexpected(explained.error());
      continue;
    }
    auto client = clients_.find((*row)->app);
    if (client == clients_.end()) {
      BroadcastAnswer answer;
      answer.outcome = OutcomeClass::kPermanent;
      answer.detail = "app \"" + (*row)->app + "\" is not in the config any more";
      PendingSend orphan{ToQueuedJob(**row), *claim, (*row)->body, nullptr};
      scheduler_->Begin(id, now);
      if (Status st = Complete(orphan, answer); !st) return std::unexpected(st.error());
      continue;
    }
    scheduler_->Begin(id, now);
    spdlog::info("broadcast.start job={} attempt={} app={} target={}", id, *claim, (*row)->app,
                 TargetName((*row)->target));
    return PendingSend{ToQueuedJob(**row), *claim, (*row)->body, client->second.get()};
  }
}

Status Engine::RefusalExplained(int64_t id, const Error& refusal) {
  spdlog::info("job.skipped job={} reason=\"{}\"", id, refusal.message);
  if (Status st = ReloadQueue(); !st) return st;
  const QueuedJob* job = scheduler_->Find(id);
  if (job == nullptr || scheduler_->IsPaused(job->endpoint)) return {};
  // The store still has it queued on an active endpoint: a real failure, which
  // the loop retries a second later rather than at once.
  return std::unexpected(refusal);
}

std::optional<TimePoint> Engine::NextWake() const { return next_wake_; }

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
  return ReloadQueue();
}

BroadcastAnswer Engine::Perform(const PendingSend& send) {
  return send.client->Send(send.job.endpoint.target, send.body);
}

Status Engine::Complete(const PendingSend& send, const BroadcastAnswer& answer) {
  const Instant now = clock_.Read();
  AttemptResult result{answer.outcome, answer.http_status, answer.retry_after};
  std::optional<TimePoint> not_before = scheduler_->Finish(send.job, now, result);

  Store::AttemptOutcome outcome;
  outcome.outcome = answer.outcome;
  outcome.http_status = answer.http_status;
  outcome.vendor_error = answer.vendor_error;
  outcome.error_description = answer.error_description;
  outcome.broadcast_id = answer.broadcast_id;
  outcome.response_body = answer.response_body;
  outcome.detail = answer.detail;
  outcome.retry_not_before = not_before;
  outcome.retry_after = answer.retry_after;
  if (Status st = store_->RecordOutcome(send.job.id, send.attempt_id, outcome, now); !st) {
    return st;
  }

  const auto& key = send.job.endpoint;
  const std::string status = answer.http_status ? std::to_string(*answer.http_status) : "none";
  switch (answer.outcome) {
    case OutcomeClass::kSent:
      spdlog::info("broadcast.sent job={} app={} target={} broadcast_id={}", send.job.id, key.app,
                   TargetName(key.target), answer.broadcast_id);
      break;
    case OutcomeClass::kRetry:
    case OutcomeClass::kNextDay:
      spdlog::warn(
          "broadcast.retry job={} app={} target={} status={} class={} not_before={} "
          "reason=\"{}\"",
          send.job.id, key.app, TargetName(key.target), status, OutcomeName(answer.outcome),
          not_before ? FormatRfc3339(*not_before) : "-",
          answer.error_description.empty() ? answer.detail : answer.error_description);
      break;
    case OutcomeClass::kPermanent:
      spdlog::error("broadcast.failed job={} app={} target={} status={} reason=\"{}\"", send.job.id,
                    key.app, TargetName(key.target), status,
                    answer.error_description.empty() ? answer.detail : answer.error_description);
      break;
    case OutcomeClass::kUnopened:
      spdlog::error(
          "broadcast.failed job={} app={} target={} status={} reason=\"{}\" "
          "endpoint paused",
          send.job.id, key.app, TargetName(key.target), status, answer.error_description);
      break;
    case OutcomeClass::kUnknown:
      spdlog::error(
          "broadcast.unknown job={} app={} target={} status={} reason=\"{}\" "
          "action=\"not resent; resolve with --resolve-sent or --resolve-not-sent\"",
          send.job.id, key.app, TargetName(key.target), status,
          answer.detail.empty() ? answer.error_description : answer.detail);
      break;
  }
  return {};
}

Status Engine::Abandon(const PendingSend& send) {
  Store::AttemptOutcome outcome;
  outcome.outcome = OutcomeClass::kUnknown;
  outcome.detail = "daemon stopped while the request was in flight";
  spdlog::error("broadcast.unknown job={} reason=\"{}\"", send.job.id, outcome.detail);
  return store_->RecordOutcome(send.job.id, send.attempt_id, outcome, clock_.Read());
}

}  // namespace broadcastd
