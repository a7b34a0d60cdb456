#pragma once
// Numbered migrations of the store's schema (internal to the store).

#include <span>
#include <string_view>

namespace SQLite {
class Database;
}

namespace broadcastd {

namespace sql {
class Connection;
}

struct Migration {
  // PRAGMA user_version once applied: 1, 2, 3… without gaps. A database at version v
  // takes every step above v, in order.
  int version;
  std::string_view sql;  // one or more statements
  // A step that moves rows between tables, run after `sql` in the same transaction with
  // foreign keys off (it rebuilds a table that others refer to) and checked with
  // PRAGMA foreign_key_check before it commits.
  void (*apply)(SQLite::Database& db) = nullptr;
};

// Every migration, oldest first.
std::span<const Migration> Migrations();

// The version this code reads and writes: the last migration's.
int CurrentSchemaVersion();

// Applies the migrations newer than the database's user_version, each in its own
// BEGIN IMMEDIATE transaction that also stores the new version, so a crash leaves the
// database at a whole step. REQUIRES a read-write connection outside any transaction.
// Throws SQLite::Exception (the caller turns it into an Error); throws std::runtime_error
// for a database newer than the code.
void Migrate(SQLite::Database& db);

// PostgreSQL: the schema at CurrentSchemaVersion() is created whole, in one transaction
// under the store's writer lock (several daemons may start together: one creates it, the
// others find it), when `create` and the database has no broadcastd tables yet.
// A database made at version 8 is brought to 9 (the operator actions' scope), and one at 9
// to 10 (the adoption's tables), when `create`. A schema created whole is a new queue
// (schema.cc, kSchema10). Throws std::runtime_error for a database without the tables (and not
// `create`), or at another version than this code's.
void MigratePostgres(sql::Connection& db, bool create);
// broadcastd_schema.version.
int PostgresSchemaVersion(sql::Connection& db);

}  // namespace broadcastd
