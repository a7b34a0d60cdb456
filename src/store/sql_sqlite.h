#pragma once
// Internal to the store: the SQLite connection (SQLiteCpp).

#include <SQLiteCpp/Database.h>

#include <memory>

#include "store/sql.h"

namespace broadcastd::sql {

class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(std::unique_ptr<SQLite::Database> db) : db_(std::move(db)) {}
  ~SqliteConnection() override { ForgetKept(); }  // statements before the connection

  SQLite::Database& database() { return *db_; }

  Dialect dialect() const override { return Dialect::kSqlite; }
  std::unique_ptr<StatementImpl> Prepare(const std::string& sql) override;
  void exec(const std::string& sql) override { db_->exec(sql); }
  void BeginWrite() override { db_->exec("BEGIN IMMEDIATE"); }
  void BeginSnapshot() override { db_->exec("BEGIN DEFERRED"); }
  void Commit() override { db_->exec("COMMIT"); }
  void Rollback() override { db_->exec("ROLLBACK"); }
  bool InTransaction() override;

 private:
  std::unique_ptr<SQLite::Database> db_;
};

}  // namespace broadcastd::sql
