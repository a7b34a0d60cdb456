#pragma once
// Numbered migrations of the store's schema (internal to the store).

#include <span>
#include <string_view>

namespace SQLite {
class Database;
}

namespace broadcastd {

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

}  // namespace broadcastd
