// Engine: the answer to a request, from the moment it arrives to its commit.

#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/log_value.h"
#include "core/time_format.h"
#include "daemon/engine.h"
#include "rebuild/scheduler_state.h"

namespace broadcastd {
namespace {

constexpr Duration kCommitBackoffFirst = std::chrono::seconds(1);
constexpr Duration kCommitBackoffCap = std::chrono::minutes(1);

std::string StatusText(const BroadcastAnswer& answer) {
  return answer.http_status ? std::to_string(*answer.http_status) : "none";
}

std::string Reason(const BroadcastAnswer& answer) {
  return answer.error_description.empty() ? answer.detail : answer.error_description;
}

bool WaitsForRetry(OutcomeClass outcome) {
  return outcome == OutcomeClass::kRetry || outcome == OutcomeClass::kNextDay;
}

}  // namespace

BroadcastAnswer Engine::Perform(const PendingSend& send) {
  return send.client->Send(send.job.endpoint.target, send.body, send.token);
}

Status Engine::Complete(const PendingSend& send, const BroadcastAnswer& answer) {
  const Instant now = clock_.Read();
  const auto& key = send.job.endpoint;
  // The endpoint is free of its request; should the write fail, the answer held in
  // uncommitted_ keeps it from claiming anything until it commits.
  if (auto busy = sending_.find(key); busy != sending_.end() && busy->second == send.job.id) {
    sending_.erase(busy);
  }
  // The whole answer goes to the log before anything is written: should every write
  // fail, the broadcast ID is still on record.
  spdlog::info(
      "broadcast.answer job={} attempt={} app={} target={} status={} class={} broadcast_id={} "
      "reason={}",
      send.job.id, send.attempt_id, LogValue(key.app), TargetName(key.target), StatusText(answer),
      OutcomeName(answer.outcome),
      answer.broadcast_id.empty() ? "-" : LogValue(answer.broadcast_id), LogValue(Reason(answer)));

  Uncommitted pending{send, answer, now, std::nullopt, 0, now.wall};
  if (WaitsForRetry(answer.outcome)) {
    // What the scheduler will decide once the answer is committed, worked out on a
    // copy of the limiter (a few endpoints' windows): the store keeps the time.
    Limiter preview = scheduler_->limiter();
    preview.RecordOutcome(
        key, now, {answer.outcome, answer.http_status, answer.retry_after, send.started_at});
    pending.not_before = preview.NextAllowed(key, now);
  }
  return Commit(std::move(pending), now.wall);
}

Status Engine::Commit(Uncommitted pending, TimePoint now) {
  const PendingSend& send = pending.send;
  const BroadcastAnswer& answer = pending.answer;
  Store::AttemptOutcome outcome;
  outcome.outcome = answer.outcome;
  outcome.http_status = answer.http_status;
  outcome.vendor_error = answer.vendor_error;
  outcome.error_description = answer.error_description;
  outcome.broadcast_id = answer.broadcast_id;
  outcome.response_body = answer.response_body;
  outcome.detail = answer.detail;
  outcome.retry_not_before = pending.not_before;
  outcome.retry_after = answer.retry_after;
  outcome.started_at = send.started_at;
  Status st = store_->RecordOutcome(send.job.id, send.attempt_id, outcome, pending.answered_at);
  if (!st && st.error().Is(ErrorKind::kConflict)) {
    // The store holds an outcome for this attempt already (an earlier write that
    // reported failure had committed) or the job left `sending`: the store has the
    // truth, and writing again would not change it.
    spdlog::error("broadcast.answer_refused job={} attempt={} reason={}", send.job.id,
                  send.attempt_id, LogValue(st.error().message));
    uncommitted_.erase(send.job.id);
    // Re-read that one job: should it be queued again, the scheduler must know.
    auto row = store_->Job(send.job.id);
    if (!row) return std::unexpected(row.error());
    if (*row && IsQueued((*row)->state)) scheduler_->Upsert(ToQueuedJob(**row));
    return {};
  }
  if (!st) {
    ++pending.failures;
    const Duration wait =
        std::min(kCommitBackoffCap, kCommitBackoffFirst * (1 << std::min(pending.failures - 1, 6)));
    pending.retry_at = now + wait;
    pending.send.client.reset();  // not needed to write it again
    Wake(pending.retry_at);
    spdlog::critical(
        "broadcast.answer_unsaved job={} attempt={} status={} class={} broadcast_id={} "
        "failures={} retry_in_ms={} reason={} action=\"kept in memory and written again; "
        "nothing new is claimed on {}/{} until it is\"",
        send.job.id, send.attempt_id, StatusText(answer), OutcomeName(answer.outcome),
        answer.broadcast_id.empty() ? "-" : LogValue(answer.broadcast_id), pending.failures,
        wait.count(), LogValue(st.error().message), LogValue(send.job.endpoint.app),
        TargetName(send.job.endpoint.target));
    uncommitted_.insert_or_assign(send.job.id, std::move(pending));
    return st;
  }
  // Committed: now the limiter and the scheduler may learn it.
  if (pending.failures > 0) {
    spdlog::warn("broadcast.answer_saved job={} attempt={} after_failures={}", send.job.id,
                 send.attempt_id, pending.failures);
  }
  const std::optional<TimePoint> not_before = pending.not_before;
  AttemptResult result{answer.outcome, answer.http_status, answer.retry_after, send.started_at};
  scheduler_->Finish(send.job, pending.answered_at, result);
  LogOutcome(send, answer, not_before);
  uncommitted_.erase(send.job.id);
  return {};
}

void Engine::RetryUncommitted(TimePoint now) {
  std::vector<int64_t> due;
  for (const auto& [job_id, pending] : uncommitted_) {
    if (pending.retry_at <= now) due.push_back(job_id);
  }
  for (int64_t job_id : due) {
    auto it = uncommitted_.find(job_id);
    if (it == uncommitted_.end()) continue;
    Uncommitted pending = it->second;
    // A failure is logged and rescheduled inside; the other endpoints go on.
    (void)Commit(std::move(pending), now);
  }
}

Status Engine::FlushUncommitted() {
  std::vector<int64_t> ids = UncommittedJobs();
  const TimePoint now = clock_.Now();
  for (int64_t job_id : ids) {
    auto it = uncommitted_.find(job_id);
    if (it != uncommitted_.end()) (void)Commit(it->second, now);
  }
  if (uncommitted_.empty()) return {};
  return Fail(ErrorKind::kIo, std::to_string(uncommitted_.size()) +
                                  " answer(s) could not be written; their jobs stay `sending` and "
                                  "become unknown at the next start; the answers are in the log");
}

std::vector<int64_t> Engine::UncommittedJobs() const {
  std::vector<int64_t> ids;
  for (const auto& [job_id, pending] : uncommitted_) ids.push_back(job_id);
  return ids;
}

void Engine::LogOutcome(const PendingSend& send, const BroadcastAnswer& answer,
                        std::optional<TimePoint> not_before) const {
  const auto& key = send.job.endpoint;
  const std::string app = LogValue(key.app);
  const std::string status = StatusText(answer);
  switch (answer.outcome) {
    case OutcomeClass::kSent:
      spdlog::info("broadcast.sent job={} app={} target={} broadcast_id={}", send.job.id, app,
                   TargetName(key.target), LogValue(answer.broadcast_id));
      break;
    case OutcomeClass::kRetry:
    case OutcomeClass::kNextDay:
      spdlog::warn(
          "broadcast.retry job={} app={} target={} status={} class={} not_before={} reason={}",
          send.job.id, app, TargetName(key.target), status, OutcomeName(answer.outcome),
          not_before ? FormatRfc3339(*not_before) : "-", LogValue(Reason(answer)));
      break;
    case OutcomeClass::kPermanent:
      spdlog::error("broadcast.failed job={} app={} target={} status={} reason={}", send.job.id,
                    app, TargetName(key.target), status, LogValue(Reason(answer)));
      break;
    case OutcomeClass::kUnopened:
      spdlog::error(
          "broadcast.failed job={} app={} target={} status={} reason={} action=\"endpoint "
          "paused\"",
          send.job.id, app, TargetName(key.target), status, LogValue(answer.error_description));
      break;
    case OutcomeClass::kUnknown:
      spdlog::error(
          "broadcast.unknown job={} app={} target={} status={} reason={} "
          "action=\"not resent; resolve with --resolve-sent or --resolve-not-sent\"",
          send.job.id, app, TargetName(key.target), status,
          LogValue(answer.detail.empty() ? answer.error_description : answer.detail));
      break;
  }
}

Status Engine::Abandon(const PendingSend& send) {
  if (auto busy = sending_.find(send.job.endpoint);
      busy != sending_.end() && busy->second == send.job.id) {
    sending_.erase(busy);
  }
  Store::AttemptOutcome outcome;
  outcome.outcome = OutcomeClass::kUnknown;
  outcome.detail = "daemon stopped while the request was in flight";
  outcome.started_at = send.started_at;
  spdlog::error("broadcast.unknown job={} reason={}", send.job.id, LogValue(outcome.detail));
  return store_->RecordOutcome(send.job.id, send.attempt_id, outcome, clock_.Read());
}

}  // namespace broadcastd
