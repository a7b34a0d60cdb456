#pragma once
// Internal to the store: the bridge between the SQL connection (which throws) and the
// Store's Result values, and the decoding of rows. Included only by src/store/*.cc.

#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "store/rows.h"
#include "store/sql.h"
#include "store/store.h"

namespace broadcastd {

// Thrown inside the store when a stored value does not decode (a state name this code
// does not know); caught by Store::Read/Write like any database error.
class CorruptRow : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string DescribeFailure(const std::filesystem::path& path, std::string_view operation,
                            std::string_view what);

// The kind of a failure thrown inside the store: a row this code cannot decode is
// kCorrupt; a PostgreSQL server that cannot be reached is kUnavailable; the engines' own
// failures (full disk, I/O error, read-only file, busy) are kIo.
ErrorKind KindOf(const std::exception& e);

// Whether the connection is inside a transaction (SQLite rolls the whole of it back on
// some failures, a full disk or an I/O error, whatever savepoints were open).
inline bool StillInTransaction(sql::Connection& db) { return db.InTransaction(); }
// Rolls back to the savepoint `name` and releases it. Returns whether the enclosing
// transaction is still open afterwards.
bool UndoSavepoint(sql::Connection& db, const char* name);

// A statement prepared once per connection and kept (preparing is most of the cost of
// a small write), reset when this goes out of scope so that it holds no read snapshot.
// `sql` must have static storage: it is the key. Used from one thread at a time, as
// the Store that owns the connection.
class CachedStatement {
 public:
  CachedStatement(sql::Connection& db, const char* sql) : statement_(&db.Kept(sql)) {}
  ~CachedStatement();
  CachedStatement(const CachedStatement&) = delete;
  CachedStatement& operator=(const CachedStatement&) = delete;
  sql::Statement* operator->() { return statement_; }
  sql::Statement& operator*() { return *statement_; }

 private:
  sql::Statement* statement_;
};

template <class F>
auto Store::Read(std::string_view operation, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const std::exception& e) {
    return Fail(KindOf(e), DescribeFailure(path_, operation, e.what()));
  }
}

template <class F>
auto Store::Write(std::string_view operation, F&& body) -> decltype(body()) {
  if (mode_ == Mode::kReadOnly) {
    return Fail(ErrorKind::kIo,
                DescribeFailure(path_, operation, "the database is open read-only"));
  }
  if (batch_open_) {
    // Inside a batch (BeginBatch): a savepoint, so that this write is all or nothing
    // and its failure undoes only itself.
    // Kept statements: a cold start runs these two for every file it ingests.
    try {
      CachedStatement(*db_, "SAVEPOINT batch_write")->exec();
    } catch (const std::exception& e) {
      batch_open_ = StillInTransaction(*db_);
      return Fail(KindOf(e), DescribeFailure(path_, operation, e.what()));
    }
    try {
      auto result = body();
      if (result) {
        CachedStatement(*db_, "RELEASE batch_write")->exec();
      } else {
        batch_open_ = UndoSavepoint(*db_, "batch_write");
      }
      return result;
    } catch (const std::exception& e) {
      batch_open_ = UndoSavepoint(*db_, "batch_write");
      return Fail(KindOf(e), DescribeFailure(path_, operation, e.what()));
    }
  }
  try {
    sql::WriteTransaction tx(*db_);
    auto result = body();
    if (result) tx.commit();  // otherwise the destructor rolls back
    return result;
  } catch (const std::exception& e) {
    return Fail(KindOf(e), DescribeFailure(path_, operation, e.what()));
  }
}

// Column decoding.
std::optional<int64_t> OptionalInt64(const sql::Column& column);
std::optional<TimePoint> OptionalTime(const sql::Column& column);
std::optional<std::string> OptionalText(const sql::Column& column);
std::string TextOrEmpty(const sql::Column& column);
TimePoint Time(const sql::Column& column);
JobState StateOf(const sql::Column& column);
BroadcastTarget TargetOf(const sql::Column& column);

// Binding: nullopt binds NULL.
void BindOptional(sql::Statement& statement, int index, const std::optional<TimePoint>& value);
void BindOptional(sql::Statement& statement, int index, const std::optional<std::string>& value);

// The SELECT list ReadJob expects, over `jobs j JOIN campaigns c ON c.id = j.campaign_ref`.
extern const char* const kJobColumns;
JobRow ReadJob(sql::Statement& statement);

// The SELECT list ReadAttempt expects, over `attempts`.
extern const char* const kAttemptColumns;
AttemptRow ReadAttempt(sql::Statement& statement);

// The job's state, or nullopt when there is no such job.
std::optional<JobState> CurrentState(sql::Connection& db, int64_t job_id);

// Appends to the operator audit. `scope` (OperatorActionRow::scope): "job" when not
// given and `job_id` is.
void RecordAction(sql::Connection& db, TimePoint at, std::string_view action,
                  std::optional<int64_t> job_id, const std::string& detail,
                  std::optional<std::string> scope = std::nullopt);

// Adoption (store_adoption.cc): adopts the campaign `ref` when the queue's first scan is
// still adopting; kConflict for a job of a held campaign.
void AdoptIfAdopting(sql::Connection& db, int64_t ref, TimePoint now);
Status CheckNotAdopted(sql::Connection& db, int64_t job_id);

}  // namespace broadcastd
