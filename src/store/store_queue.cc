// Store: the queue (promotion, claims, outcomes, recovery) and the attempt audit.

#include <algorithm>
#include <utility>

#include "store/sql_access.h"

namespace broadcastd {

namespace {

// The first `limit` bytes of `text`, cut back to a UTF-8 character boundary so the stored
// text stays valid UTF-8 when the server's was.
std::string Truncate(const std::string& text, std::size_t limit) {
  if (text.size() <= limit) return text;
  std::size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

// One line for jobs.last_error from an answer that did not send.
std::optional<std::string> BootIdOrNull(const std::string& boot_id) {
  if (boot_id.empty()) return std::nullopt;
  return boot_id;
}

std::string ErrorLine(const Store::AttemptOutcome& o) {
  std::string line(OutcomeName(o.outcome));
  if (o.http_status) line += ": HTTP " + std::to_string(*o.http_status);
  if (!o.vendor_error.empty()) line += " " + o.vendor_error;
  if (!o.error_description.empty()) line += " (" + o.error_description + ")";
  if (!o.detail.empty()) line += "; " + o.detail;
  return line;
}

std::optional<std::string> BroadcastIdOf(const Store::AttemptOutcome& o) {
  if (o.broadcast_id.empty()) return std::nullopt;
  return o.broadcast_id;
}

JobState StateAfter(OutcomeClass outcome) {
  switch (outcome) {
    case OutcomeClass::kSent:
      return JobState::kSent;
    case OutcomeClass::kRetry:
    case OutcomeClass::kNextDay:
      return JobState::kReady;
    case OutcomeClass::kPermanent:
    case OutcomeClass::kUnopened:
      return JobState::kFailed;
    case OutcomeClass::kUnknown:
      return JobState::kUnknown;
  }
  return JobState::kUnknown;
}

// A claim's endpoint, as stored (the target's name).
struct ClaimEndpoint {
  std::string app;
  std::string target;
};

// Fencing, the sender lease's one check (PostgreSQL): kConflict unless `fence` names the
// lease's holder at its epoch and the lease has not expired by the database's clock. The
// lease's row stays locked (FOR SHARE) until the claim's transaction ends, so a take-over
// (TickSenderLease, FOR UPDATE) waits for a claim in progress and then finds its job
// `sending`.
Status CheckFence(sql::Connection& db, const std::optional<Store::Fence>& fence, int64_t job_id) {
  if (!fence) {
    return Fail(ErrorKind::kConflict,
                "job " + std::to_string(job_id) + ": this daemon does not hold the sender lease");
  }
  sql::Statement held(db,
                      "SELECT 1 FROM broadcastd_lease WHERE name = 'sender' AND holder = ? "
                      "AND epoch = ? AND expires_at > clock_timestamp() FOR SHARE");
  held.bind(1, fence->node);
  held.bind(2, fence->epoch);
  if (!held.executeStep()) {
    return Fail(ErrorKind::kConflict, "job " + std::to_string(job_id) + ": " + fence->node +
                                          " no longer holds the sender lease at epoch " +
                                          std::to_string(fence->epoch));
  }
  return {};
}

// The endpoint of job `job_id`; kNotFound for no such job, kConflict when it is not queued.
Result<ClaimEndpoint> QueuedEndpointOf(sql::Connection& db, int64_t job_id) {
  sql::Statement job(db, "SELECT state, app, target FROM jobs WHERE id = ?");
  job.bind(1, job_id);
  if (!job.executeStep()) {
    return Fail(ErrorKind::kNotFound, "job " + std::to_string(job_id) + " does not exist");
  }
  const JobState state = StateOf(job.getColumn(0));
  if (!IsQueued(state)) {
    return Fail(ErrorKind::kConflict, "job " + std::to_string(job_id) + " is " +
                                          std::string(JobStateName(state)) +
                                          ", not queued; it must not be sent");
  }
  return ClaimEndpoint{job.getColumn(1).getString(), job.getColumn(2).getString()};
}

// kConflict when the audit shows, at `now`, a window of the endpoint full or the budget
// day spent (Store::AuditCheck). A retry without an HTTP answer was never written (no
// socket, DNS, connection refused): it counts as the limiter counts it, not at all.
Status CheckAudit(sql::Connection& db, const Store::AuditCheck& check, int64_t job_id,
                  const ClaimEndpoint& endpoint, TimePoint now) {
  sql::Statement started(db,
                         "SELECT count(*) FROM attempts WHERE app = ? AND target = ? "
                         "AND started_at > ? AND NOT (outcome IS NOT NULL AND outcome = 'retry' "
                         "AND http_status IS NULL)");
  auto count_since = [&](int64_t after_ms) {
    started.reset();
    started.bind(1, endpoint.app);
    started.bind(2, endpoint.target);
    started.bind(3, after_ms);
    started.executeStep();
    return started.getColumn(0).getInt64();
  };
  const std::string job = "job " + std::to_string(job_id);
  const std::string where = endpoint.app + " " + endpoint.target;
  for (const RateWindow& w : check.limits.windows) {
    const int64_t n = count_since(ToMillis(now - w.length));
    if (n >= w.count) {
      return Fail(ErrorKind::kConflict,
                  job + ": the audit shows " + std::to_string(n) + " requests to " + where +
                      " in the last " + std::to_string(w.length.count()) +
                      " ms (the window allows " + std::to_string(w.count) + ")");
    }
  }
  if (check.limits.daily > 0) {
    const int64_t n = count_since(ToMillis(check.day_start) - 1);
    if (n >= check.limits.daily) {
      return Fail(ErrorKind::kConflict, job + ": the audit shows today's budget of " + where +
                                            " spent (" + std::to_string(n) + " requests)");
    }
  }
  return {};
}

// kConflict when the endpoint is paused.
Status CheckNotPaused(sql::Connection& db, int64_t job_id, const ClaimEndpoint& endpoint) {
  sql::Statement paused(db, "SELECT reason FROM pauses WHERE app = ? AND target = ?");
  paused.bind(1, endpoint.app);
  paused.bind(2, endpoint.target);
  if (paused.executeStep()) {
    return Fail(ErrorKind::kConflict, "job " + std::to_string(job_id) + ": " + endpoint.app + " " +
                                          endpoint.target + " is paused (" +
                                          paused.getColumn(0).getString() + ")");
  }
  return {};
}

// kConflict when the job's campaign waits for signatures (campaign_signatures.held); else
// the signers of its version, when signatures are on.
Result<std::optional<std::string>> SignersForClaim(sql::Connection& db, int64_t job_id) {
  sql::Statement q(db,
                   "SELECT s.held, s.signers FROM jobs j JOIN campaign_signatures s ON "
                   "s.campaign_ref = j.campaign_ref WHERE j.id = ?");
  q.bind(1, job_id);
  if (!q.executeStep()) return std::optional<std::string>();
  if (!q.getColumn(0).isNull()) {
    return Fail(ErrorKind::kConflict,
                "job " + std::to_string(job_id) + ": " + q.getColumn(0).getString());
  }
  return std::optional<std::string>(q.getColumn(1).getString());
}

// kNotFound unless `attempt_id` is an attempt of `job_id`; kConflict when it already has
// an outcome or the job is not sending.
Status CheckOpenAttempt(sql::Connection& db, int64_t job_id, int64_t attempt_id) {
  sql::Statement attempt(db, "SELECT job_id, outcome FROM attempts WHERE id = ?");
  attempt.bind(1, attempt_id);
  if (!attempt.executeStep() || attempt.getColumn(0).getInt64() != job_id) {
    return Fail(ErrorKind::kNotFound, "attempt " + std::to_string(attempt_id) +
                                          " is not an attempt of job " + std::to_string(job_id));
  }
  if (!attempt.getColumn(1).isNull()) {
    return Fail(ErrorKind::kConflict,
                "attempt " + std::to_string(attempt_id) + " already has an outcome");
  }
  std::optional<JobState> state = CurrentState(db, job_id);
  if (state != JobState::kSending) {
    return Fail(ErrorKind::kConflict, "job " + std::to_string(job_id) + " is " +
                                          std::string(state ? JobStateName(*state) : "missing") +
                                          ", not sending");
  }
  return {};
}

// The attempt row's end: the answer, and when it came (and when the request really left).
void CompleteAttempt(sql::Connection& db, int64_t attempt_id, const Store::AttemptOutcome& outcome,
                     const Instant& now) {
  sql::Statement complete(db,
                          "UPDATE attempts SET ended_at = ?, http_status = ?, outcome = ?, "
                          "vendor_error = ?, error_description = ?, broadcast_id = ?, "
                          "response_body = ?, detail = ?, retry_after_ms = ?, ended_mono = ? "
                          "WHERE id = ?");
  complete.bind(1, ToMillis(now.wall));
  if (outcome.http_status) {
    complete.bind(2, *outcome.http_status);
  } else {
    complete.bind(2);
  }
  complete.bind(3, std::string(OutcomeName(outcome.outcome)));
  complete.bind(4, outcome.vendor_error);
  complete.bind(5, outcome.error_description);
  BindOptional(complete, 6, BroadcastIdOf(outcome));
  complete.bind(7, Truncate(outcome.response_body, kMaxResponseBody));
  complete.bind(8, outcome.detail);
  if (outcome.retry_after) {
    complete.bind(9, static_cast<int64_t>(outcome.retry_after->count()));
  } else {
    complete.bind(9);
  }
  complete.bind(10, ToMillis(now.mono));
  complete.bind(11, attempt_id);
  complete.exec();
  if (outcome.started_at) {
    // The claim committed before the request left; the attempt began with the POST.
    sql::Statement started(db, "UPDATE attempts SET started_at = ?, started_mono = ? WHERE id = ?");
    started.bind(1, ToMillis(outcome.started_at->wall));
    started.bind(2, ToMillis(outcome.started_at->mono));
    started.bind(3, attempt_id);
    started.exec();
  }
}

// The job's state after the answer (Store::RecordOutcome).
void MoveJob(sql::Connection& db, int64_t job_id, const Store::AttemptOutcome& outcome,
             TimePoint now) {
  const bool sent = outcome.outcome == OutcomeClass::kSent;
  const bool waits =
      outcome.outcome == OutcomeClass::kRetry || outcome.outcome == OutcomeClass::kNextDay;
  sql::Statement move(db,
                      "UPDATE jobs SET state = ?, broadcast_id = COALESCE(?, broadcast_id), "
                      "not_before = ?, last_error = ?, updated_at = ? WHERE id = ?");
  move.bind(1, std::string(JobStateName(StateAfter(outcome.outcome))));
  BindOptional(move, 2, sent ? BroadcastIdOf(outcome) : std::nullopt);
  BindOptional(move, 3, waits ? outcome.retry_not_before : std::nullopt);
  BindOptional(move, 4, sent ? std::nullopt : std::optional<std::string>(ErrorLine(outcome)));
  move.bind(5, ToMillis(now));
  move.bind(6, job_id);
  move.exec();
}

std::vector<JobRow> QueryJobs(sql::Statement& q) {
  std::vector<JobRow> rows;
  while (q.executeStep()) rows.push_back(ReadJob(q));
  return rows;
}

std::vector<AttemptRow> QueryAttempts(sql::Statement& q) {
  std::vector<AttemptRow> rows;
  while (q.executeStep()) rows.push_back(ReadAttempt(q));
  return rows;
}

constexpr char kInFlightDetail[] = "daemon stopped while the request was in flight";

}  // namespace

Result<int> Store::PromoteDue(TimePoint now) {
  return Write("promote due jobs", [&]() -> Result<int> {
    sql::Statement q(*db_,
                     "UPDATE jobs SET state = 'ready', updated_at = ?1 "
                     "WHERE state = 'scheduled' AND due <= ?1");
    q.bind(1, ToMillis(now));
    return q.exec();
  });
}

Result<std::vector<JobRow>> Store::QueuedJobs() {
  return Read("list queued jobs", [&]() -> Result<std::vector<JobRow>> {
    sql::Statement q(*db_, std::string("SELECT ") + kJobColumns +
                               " FROM jobs j JOIN campaigns c ON c.id = j.campaign_ref "
                               "WHERE j.state IN ('scheduled', 'ready') ORDER BY j.id");
    return QueryJobs(q);
  });
}

namespace {

constexpr char kLeanColumns[] =
    "j.id, j.app, j.target, j.state, j.priority, j.due, j.expires, j.not_before";

// Rows of one page of the queue (ForEachQueuedJob): about 1 MB of a libpq result.
constexpr int64_t kQueuePage = 10'000;

// Reads kLeanColumns starting at column `first`.
QueuedJobRow ReadLean(sql::Statement& q, int first) {
  QueuedJobRow row;
  row.id = q.getColumn(first).getInt64();
  const sql::Column app = q.getColumn(first + 1);
  row.app = std::string_view(app.getText(), static_cast<size_t>(app.getBytes()));
  row.target = TargetOf(q.getColumn(first + 2));
  row.state = StateOf(q.getColumn(first + 3));
  row.priority = q.getColumn(first + 4).getInt64();
  row.due = Time(q.getColumn(first + 5));
  row.expires = OptionalTime(q.getColumn(first + 6));
  row.not_before = OptionalTime(q.getColumn(first + 7));
  return row;
}

}  // namespace

std::string Store::LeanQueueQuery() {
  // The WHERE matches jobs_queued's, which covers every column read; a page starts after
  // the id ?1 and holds at most ?2 rows.
  return std::string("SELECT ") + kLeanColumns +
         " FROM jobs j INDEXED BY jobs_queued "
         "WHERE j.state IN ('scheduled', 'ready') AND j.id > ?1 ORDER BY j.id LIMIT ?2";
}

Result<int64_t> Store::ForEachQueuedJob(const std::function<void(const QueuedJobRow&)>& each) {
  return Read("list queued jobs", [&]() -> Result<int64_t> {
    // In pages, in id order: libpq holds a statement's whole result in memory, so that a
    // million queued jobs never sit in one result (SQLite steps through the index either
    // way). Pages are separate reads; a job that changed between two of them is in the
    // job change log after the position the caller took before this read
    // (LoadSchedulerState), and is read again from there.
    sql::Statement q(*db_, LeanQueueQuery());
    int64_t n = 0;
    int64_t after = 0;
    for (bool full = true; full;) {
      q.reset();
      q.bind(1, after);
      q.bind(2, kQueuePage);
      int64_t rows = 0;
      while (q.executeStep()) {
        QueuedJobRow row = ReadLean(q, 0);
        after = row.id;
        each(row);
        ++rows;
      }
      n += rows;
      full = rows == kQueuePage;
    }
    return n;
  });
}

Result<int64_t> Store::LastJobChange() {
  return Read("read the job change log", [&]() -> Result<int64_t> {
    return db_->QueryInt64("SELECT COALESCE(max(seq), 0) FROM job_changes");
  });
}

Result<int64_t> Store::CountJobChangesSince(int64_t after) {
  return Read("read the job change log", [&]() -> Result<int64_t> {
    sql::Statement q(*db_, "SELECT count(*) FROM job_changes WHERE seq > ?");
    q.bind(1, after);
    q.executeStep();
    return q.getColumn(0).getInt64();
  });
}

Result<int64_t> Store::ForEachJobChangedSince(
    int64_t after, const std::function<void(int64_t id, const QueuedJobRow* row)>& changed) {
  return Read("read changed jobs", [&]() -> Result<int64_t> {
    sql::Statement q(*db_, std::string("SELECT c.job_id, c.seq, ") + kLeanColumns +
                               " FROM (SELECT job_id, max(seq) AS seq FROM job_changes "
                               "WHERE seq > ? GROUP BY job_id) c LEFT JOIN jobs j ON "
                               "j.id = c.job_id ORDER BY c.job_id");
    q.bind(1, after);
    int64_t last = after;
    while (q.executeStep()) {
      const int64_t id = q.getColumn(0).getInt64();
      last = std::max(last, q.getColumn(1).getInt64());
      if (q.getColumn(2).isNull()) {
        changed(id, nullptr);
        continue;
      }
      const QueuedJobRow row = ReadLean(q, 2);
      changed(id, IsQueued(row.state) ? &row : nullptr);
    }
    return last;
  });
}

Result<int> Store::PruneJobChanges(int64_t through, int limit) {
  return Write("prune the job change log", [&]() -> Result<int> {
    sql::Statement q(*db_,
                     "DELETE FROM job_changes WHERE seq IN (SELECT seq FROM job_changes "
                     "WHERE seq <= ? ORDER BY seq LIMIT ?)");
    q.bind(1, through);
    q.bind(2, limit);
    return q.exec();
  });
}

Result<int64_t> Store::LastAttemptId() {
  return Read("read the audit", [&]() -> Result<int64_t> {
    return db_->QueryInt64("SELECT COALESCE(max(id), 0) FROM attempts");
  });
}

Result<std::vector<JobRow>> Store::Jobs(const JobFilter& filter) {
  return Read("list jobs", [&]() -> Result<std::vector<JobRow>> {
    sql::Statement q(*db_, std::string("SELECT ") + kJobColumns +
                               " FROM jobs j JOIN campaigns c ON c.id = j.campaign_ref "
                               "WHERE (CAST(?1 AS TEXT) IS NULL OR j.state = ?1) AND "
                               "(CAST(?2 AS TEXT) IS NULL OR j.campaign_id = ?2) AND "
                               "(CAST(?3 AS TEXT) IS NULL OR c.file = ?3) ORDER BY j.id");
    if (filter.state) q.bind(1, std::string(JobStateName(*filter.state)));
    BindOptional(q, 2, filter.campaign_id);
    BindOptional(q, 3, filter.file);
    return QueryJobs(q);
  });
}

Result<std::optional<JobRow>> Store::Job(int64_t id) {
  return Read("read job " + std::to_string(id), [&]() -> Result<std::optional<JobRow>> {
    sql::Statement q(*db_, std::string("SELECT ") + kJobColumns +
                               " FROM jobs j JOIN campaigns c ON c.id = j.campaign_ref "
                               "WHERE j.id = ?");
    q.bind(1, id);
    if (!q.executeStep()) return std::optional<JobRow>();
    return std::optional<JobRow>(ReadJob(q));
  });
}

Result<int64_t> Store::ClaimForSending(int64_t job_id, const Instant& now) {
  return ClaimForSending(job_id, now, nullptr);
}

Result<int64_t> Store::ClaimForSending(int64_t job_id, const Instant& now,
                                       const AuditCheck* check) {
  return Write("claim job " + std::to_string(job_id), [&]() -> Result<int64_t> {
    sql::Connection& db = *db_;
    if (IsPostgres()) {
      if (Status held = CheckFence(db, fence_, job_id); !held) return std::unexpected(held.error());
    }
    auto job = QueuedEndpointOf(db, job_id);
    if (!job) return std::unexpected(job.error());
    if (check != nullptr && fence_) {
      if (Status st = CheckAudit(db, *check, job_id, *job, now.wall); !st) {
        return std::unexpected(st.error());
      }
    }
    if (Status st = CheckNotPaused(db, job_id, *job); !st) return std::unexpected(st.error());
    auto signers = SignersForClaim(db, job_id);
    if (!signers) return std::unexpected(signers.error());
    if (Status st = CheckNotAdopted(db, job_id); !st) return std::unexpected(st.error());
    sql::Statement update(db,
                          "UPDATE jobs SET state = 'sending', attempts = attempts + 1, "
                          "updated_at = ? WHERE id = ?");
    update.bind(1, ToMillis(now.wall));
    update.bind(2, job_id);
    update.exec();
    sql::Statement insert(db,
                          "INSERT INTO attempts (job_id, app, target, started_at, boot_id, "
                          "started_mono, signers) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id");
    insert.bind(1, job_id);
    insert.bind(2, job->app);
    insert.bind(3, job->target);
    insert.bind(4, ToMillis(now.wall));
    BindOptional(insert, 5, BootIdOrNull(boot_id_));
    insert.bind(6, ToMillis(now.mono));
    BindOptional(insert, 7, *signers);
    insert.executeStep();
    return insert.getColumn(0).getInt64();
  });
}

Result<bool> Store::SettleLostClaim(int64_t job_id, const Instant& claimed_at, const Instant& now) {
  auto attempt = Read("find the lost claim of job " + std::to_string(job_id),
                      [&]() -> Result<std::optional<int64_t>> {
                        sql::Statement q(*db_,
                                         "SELECT a.id FROM attempts a JOIN jobs j ON j.id = "
                                         "a.job_id WHERE a.job_id = ? AND a.started_at = ? AND "
                                         "a.started_mono = ? AND a.boot_id IS NOT DISTINCT FROM "
                                         "? AND a.outcome IS NULL AND j.state = 'sending'");
                        q.bind(1, job_id);
                        q.bind(2, ToMillis(claimed_at.wall));
                        q.bind(3, ToMillis(claimed_at.mono));
                        BindOptional(q, 4, BootIdOrNull(boot_id_));
                        if (!q.executeStep()) return std::optional<int64_t>();
                        return std::optional<int64_t>(q.getColumn(0).getInt64());
                      });
  if (!attempt) return std::unexpected(attempt.error());
  if (!*attempt) return false;
  AttemptOutcome outcome;
  outcome.outcome = OutcomeClass::kRetry;
  outcome.detail =
      "the reply to this claim's commit was lost with the connection to the database; no "
      "request was sent";
  outcome.retry_not_before = now.wall;
  if (Status st = RecordOutcome(job_id, **attempt, outcome, now); !st) {
    return std::unexpected(st.error());
  }
  return true;
}

Status Store::RecordOutcome(int64_t job_id, int64_t attempt_id, const AttemptOutcome& outcome,
                            const Instant& instant) {
  const TimePoint now = instant.wall;
  return Write("record outcome of job " + std::to_string(job_id), [&]() -> Status {
    sql::Connection& db = *db_;
    if (Status open = CheckOpenAttempt(db, job_id, attempt_id); !open) return open;
    CompleteAttempt(db, attempt_id, outcome, instant);
    MoveJob(db, job_id, outcome, now);
    if (outcome.outcome == OutcomeClass::kUnopened) {
      // The endpoint is not enabled for this app: every other job for it would fail the
      // same way, so hold them until an operator resumes it.
      sql::Statement pause(db,
                           "INSERT INTO pauses (app, target, reason, since) "
                           "SELECT app, target, ?, ? FROM jobs WHERE id = ? "
                           "ON CONFLICT (app, target) DO NOTHING");
      pause.bind(1, "endpoint not opened for this app: " + ErrorLine(outcome));
      pause.bind(2, ToMillis(now));
      pause.bind(3, job_id);
      pause.exec();
      RecordAction(db, now, "pause", job_id, "paused after an 'unopened' answer");
    }
    return {};
  });
}

Result<std::vector<int64_t>> Store::RecoverInFlight(TimePoint now) {
  return RecoverInFlight(now, {});
}

Result<std::vector<int64_t>> Store::RecoverInFlight(TimePoint now,
                                                    const std::set<int64_t>& still_ours) {
  return Write("recover in-flight jobs", [&]() -> Result<std::vector<int64_t>> {
    sql::Connection& db = *db_;
    std::vector<int64_t> ids;
    sql::Statement q(db, "SELECT id FROM jobs WHERE state = 'sending' ORDER BY id");
    while (q.executeStep()) {
      const int64_t id = q.getColumn(0).getInt64();
      if (!still_ours.contains(id)) ids.push_back(id);
    }
    for (int64_t id : ids) {
      sql::Statement attempt(db,
                             "UPDATE attempts SET outcome = 'unknown', detail = ? "
                             "WHERE job_id = ? AND outcome IS NULL");
      attempt.bind(1, kInFlightDetail);
      attempt.bind(2, id);
      attempt.exec();
      sql::Statement job(db,
                         "UPDATE jobs SET state = 'unknown', last_error = ?, updated_at = ? "
                         "WHERE id = ?");
      job.bind(1, std::string(kInFlightDetail) +
                      "; check whether the broadcast was applied, then resolve the job");
      job.bind(2, ToMillis(now));
      job.bind(3, id);
      job.exec();
    }
    return ids;
  });
}

Status Store::ExpireJob(int64_t job_id, TimePoint now) {
  return Write("expire job " + std::to_string(job_id), [&]() -> Status {
    sql::Statement q(*db_,
                     "UPDATE jobs SET state = 'expired', last_error = 'expired before it "
                     "could be sent', updated_at = ? WHERE id = ? AND "
                     "state IN ('scheduled', 'ready')");
    q.bind(1, ToMillis(now));
    q.bind(2, job_id);
    if (q.exec() == 1) return {};
    std::optional<JobState> state = CurrentState(*db_, job_id);
    if (!state) {
      return Fail(ErrorKind::kNotFound, "job " + std::to_string(job_id) + " does not exist");
    }
    return Fail(ErrorKind::kConflict, "job " + std::to_string(job_id) + " is " +
                                          std::string(JobStateName(*state)) +
                                          "; only scheduled or ready jobs expire");
  });
}

Result<std::vector<AttemptRow>> Store::AttemptsSince(TimePoint since) {
  return Read("list attempts", [&]() -> Result<std::vector<AttemptRow>> {
    sql::Statement q(*db_, std::string("SELECT ") + kAttemptColumns +
                               " FROM attempts WHERE started_at >= ? ORDER BY started_at, id");
    q.bind(1, ToMillis(since));
    return QueryAttempts(q);
  });
}

Result<std::vector<AttemptRow>> Store::RecentAttempts(TimePoint since, const std::string& boot_id,
                                                      MonoTime since_mono) {
  return Read("list recent attempts", [&]() -> Result<std::vector<AttemptRow>> {
    sql::Statement q(*db_, std::string("SELECT ") + kAttemptColumns +
                               " FROM attempts WHERE started_at >= ? OR (boot_id = ? AND "
                               "started_mono >= ?) ORDER BY id");
    q.bind(1, ToMillis(since));
    q.bind(2, boot_id);
    q.bind(3, ToMillis(since_mono));
    return QueryAttempts(q);
  });
}

Result<std::vector<AttemptRow>> Store::AttemptsOf(int64_t job_id) {
  return Read("list attempts of job " + std::to_string(job_id),
              [&]() -> Result<std::vector<AttemptRow>> {
                sql::Statement q(*db_, std::string("SELECT ") + kAttemptColumns +
                                           " FROM attempts WHERE job_id = ? ORDER BY id");
                q.bind(1, job_id);
                return QueryAttempts(q);
              });
}

}  // namespace broadcastd
