#pragma once
// Internal to the store: the PostgreSQL connection (libpq).

#include <libpq-fe.h>

#include <memory>
#include <string>

#include "store/sql.h"

namespace broadcastd::sql {

class PgConnection final : public Connection {
 public:
  // `conninfo` (which may hold a password) opens the connection; `display` names the
  // database in messages. `session` runs after every (re)connect (settings, LISTEN).
  // Throws Failure (kUnavailable) when the server cannot be reached.
  PgConnection(std::string conninfo, std::string display, std::string session);
  ~PgConnection() override;

  Dialect dialect() const override { return Dialect::kPostgres; }
  std::unique_ptr<StatementImpl> Prepare(const std::string& sql) override;
  // DECLARE ... NO SCROLL CURSOR at the first step, then FETCH in batches of kCursorBatch;
  // CLOSE when destroyed.
  std::unique_ptr<StatementImpl> PrepareStreamed(const std::string& sql) override;
  static constexpr int kCursorBatch = 2000;
  void exec(const std::string& sql) override;
  void BeginWrite() override;
  void BeginSnapshot() override;
  void Commit() override;
  void Rollback() override;
  bool InTransaction() override;

  // Runs `sql` with text parameters (nullptr: NULL; types: 0, 20 int8, 25 text); throws
  // on failure. Reconnects first when the connection was lost outside a transaction.
  PGresult* Run(const std::string& sql, int count, const unsigned* types,
                const char* const* values);

  // Notifications on the channel the store writes to (`broadcastd`) that other
  // connections sent, since the last call; reads what arrived without waiting. A
  // reconnect counts as one (what was sent meanwhile is lost).
  int64_t TakeNotifications();
  // The socket to poll for notifications; -1 while not connected (the next statement
  // connects again).
  int Socket() const;

  // The advisory lock every writer of the store takes (one writer at a time, like SQLite).
  static constexpr int64_t kWriterLock = 0x62726f6164;  // "broad"

 private:
  void Connect();
  [[noreturn]] void Throw(const std::string& what, PGresult* result);

  std::string conninfo_, display_, session_;
  PGconn* conn_ = nullptr;
  std::string schema_;    // current_schema(): the notifications about these tables
  bool writing_ = false;  // in a BeginWrite transaction
  int64_t reconnects_ = 0;
  int64_t cursors_ = 0;  // names the next PrepareStreamed cursor
};

// "?" and "?N" parameters become "$N"; "INDEXED BY name" goes (exported for tests).
// `parameters`, when given, receives the highest parameter number.
std::string ToPostgres(const std::string& sqlite_sql, int* parameters = nullptr);

}  // namespace broadcastd::sql
