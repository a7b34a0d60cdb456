#include "store/sql_access.h"

#include <atomic>
#include <string>

namespace broadcastd {
namespace {

// Every failure is described once, by DescribeFailure, on its way to an Error.
std::atomic<int64_t> failures{0};

}  // namespace

int64_t StoreFailureCount() { return failures.load(std::memory_order_relaxed); }

std::string DescribeFailure(const std::filesystem::path& path, std::string_view operation,
                            std::string_view what) {
  failures.fetch_add(1, std::memory_order_relaxed);
  std::string message = "database ";
  message += path.string();
  message += ": ";
  message += operation;
  message += ": ";
  message += what;
  return message;
}

ErrorKind KindOf(const std::exception& e) {
  if (dynamic_cast<const CorruptRow*>(&e) != nullptr) return ErrorKind::kCorrupt;
  if (const auto* failure = dynamic_cast<const sql::Failure*>(&e)) return failure->kind();
  return ErrorKind::kIo;
}

CachedStatement::~CachedStatement() {
  try {
    statement_->reset();
    statement_->clearBindings();
  } catch (const std::exception&) {  // the next use resets it again
  }
}

bool UndoSavepoint(sql::Connection& db, const char* name) {
  if (!StillInTransaction(db)) return false;
  try {
    db.exec(std::string("ROLLBACK TO ") + name);
    db.exec(std::string("RELEASE ") + name);
  } catch (const std::exception&) {
    // Nothing more to undo here; whether the transaction survived is all that counts.
  }
  return StillInTransaction(db);
}

std::optional<int64_t> OptionalInt64(const sql::Column& column) {
  if (column.isNull()) return std::nullopt;
  return column.getInt64();
}

std::optional<TimePoint> OptionalTime(const sql::Column& column) {
  if (column.isNull()) return std::nullopt;
  return FromMillis(column.getInt64());
}

std::optional<std::string> OptionalText(const sql::Column& column) {
  if (column.isNull()) return std::nullopt;
  return column.getString();
}

std::string TextOrEmpty(const sql::Column& column) {
  if (column.isNull()) return {};
  return column.getString();
}

TimePoint Time(const sql::Column& column) { return FromMillis(column.getInt64()); }

JobState StateOf(const sql::Column& column) {
  std::string name = column.getString();
  std::optional<JobState> state = ParseJobState(name);
  if (!state) throw CorruptRow("unknown job state '" + name + "'");
  return *state;
}

BroadcastTarget TargetOf(const sql::Column& column) {
  std::string name = column.getString();
  std::optional<BroadcastTarget> target = ParseTarget(name);
  if (!target) throw CorruptRow("unknown target '" + name + "'");
  return *target;
}

void BindOptional(sql::Statement& statement, int index, const std::optional<TimePoint>& value) {
  if (value) {
    statement.bind(index, ToMillis(*value));
  } else {
    statement.bind(index);
  }
}

void BindOptional(sql::Statement& statement, int index, const std::optional<std::string>& value) {
  if (value) {
    statement.bind(index, *value);
  } else {
    statement.bind(index);
  }
}

const char* const kJobColumns =
    "j.id, j.campaign_ref, c.file, j.campaign_id, j.broadcast, j.occurrence, j.app, j.target, "
    "j.body, j.state, j.due, j.expires, j.priority, j.attempts, j.not_before, j.broadcast_id, "
    "j.last_error, j.created_at, j.updated_at";

JobRow ReadJob(sql::Statement& s) {
  JobRow row;
  row.id = s.getColumn(0).getInt64();
  row.campaign_ref = s.getColumn(1).getInt64();
  row.file = TextOrEmpty(s.getColumn(2));
  row.campaign_id = s.getColumn(3).getString();
  row.broadcast = s.getColumn(4).getString();
  row.occurrence = s.getColumn(5).getString();
  row.app = s.getColumn(6).getString();
  row.target = TargetOf(s.getColumn(7));
  row.body = s.getColumn(8).getString();
  row.state = StateOf(s.getColumn(9));
  row.due = Time(s.getColumn(10));
  row.expires = OptionalTime(s.getColumn(11));
  row.priority = s.getColumn(12).getInt64();
  row.attempts = s.getColumn(13).getInt();
  row.not_before = OptionalTime(s.getColumn(14));
  row.broadcast_id = OptionalText(s.getColumn(15));
  row.last_error = TextOrEmpty(s.getColumn(16));
  row.created_at = Time(s.getColumn(17));
  row.updated_at = Time(s.getColumn(18));
  return row;
}

const char* const kAttemptColumns =
    "id, job_id, app, target, started_at, ended_at, http_status, outcome, vendor_error, "
    "error_description, broadcast_id, response_body, detail, retry_after_ms, boot_id, "
    "started_mono, ended_mono";

AttemptRow ReadAttempt(sql::Statement& s) {
  AttemptRow row;
  row.id = s.getColumn(0).getInt64();
  row.job_id = s.getColumn(1).getInt64();
  row.app = s.getColumn(2).getString();
  row.target = TargetOf(s.getColumn(3));
  row.started_at = Time(s.getColumn(4));
  row.ended_at = OptionalTime(s.getColumn(5));
  if (!s.getColumn(6).isNull()) row.http_status = s.getColumn(6).getInt();
  if (!s.getColumn(7).isNull()) {
    std::string name = s.getColumn(7).getString();
    row.outcome = ParseOutcome(name);
    if (!row.outcome) throw CorruptRow("unknown outcome '" + name + "'");
  }
  row.vendor_error = s.getColumn(8).getString();
  row.error_description = s.getColumn(9).getString();
  row.broadcast_id = OptionalText(s.getColumn(10));
  row.response_body = s.getColumn(11).getString();
  row.detail = s.getColumn(12).getString();
  if (!s.getColumn(13).isNull()) row.retry_after = Duration(s.getColumn(13).getInt64());
  row.boot_id = OptionalText(s.getColumn(14));
  if (!s.getColumn(15).isNull()) row.started_mono = MonoFromMillis(s.getColumn(15).getInt64());
  if (!s.getColumn(16).isNull()) row.ended_mono = MonoFromMillis(s.getColumn(16).getInt64());
  return row;
}

std::optional<JobState> CurrentState(sql::Connection& db, int64_t job_id) {
  sql::Statement q(db, "SELECT state FROM jobs WHERE id = ?");
  q.bind(1, job_id);
  if (!q.executeStep()) return std::nullopt;
  return StateOf(q.getColumn(0));
}

void RecordAction(sql::Connection& db, TimePoint at, std::string_view action,
                  std::optional<int64_t> job_id, const std::string& detail,
                  std::optional<std::string> scope) {
  sql::Statement insert(db,
                        "INSERT INTO operator_actions (at, action, job_id, detail, scope) "
                        "VALUES (?, ?, ?, ?, ?)");
  insert.bind(1, ToMillis(at));
  insert.bind(2, std::string(action));
  if (job_id) {
    insert.bind(3, *job_id);
  } else {
    insert.bind(3);
  }
  insert.bind(4, detail);
  insert.bind(5, scope.value_or(job_id ? "job" : ""));
  insert.exec();
}

}  // namespace broadcastd
