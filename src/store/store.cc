#include "store/store.h"

#include <fcntl.h>
#include <pwd.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <utility>

#include "database_uri/database_uri.h"
#include "store/schema.h"
#include "store/sql_access.h"
#include "store/sql_postgres.h"
#include "store/sql_sqlite.h"

namespace broadcastd {

namespace {

// Long enough to ride out another process's short write transaction, short enough that a
// wedged writer shows up as an error rather than a hang.
constexpr int kBusyTimeoutMs = 5000;

std::filesystem::path WalPathOf(const std::filesystem::path& database) {
  std::filesystem::path wal = database;
  wal += "-wal";
  return wal;
}

std::string UserName(uid_t uid) {
  const passwd* pw = ::getpwuid(uid);
  return pw != nullptr ? std::string(pw->pw_name) : "uid " + std::to_string(uid);
}

// "mode 0444, owner alice".
std::string ModeAndOwner(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::strerror(errno);
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  return std::string("mode ") + mode + ", owner " + UserName(st.st_uid);
}

// Why this process cannot use the database, in terms a person can act on: the file
// system's reason when it has one, else SQLite's, with the user either way.
std::string WhyUnusable(const std::filesystem::path& path, std::string_view sqlite_says) {
  const uid_t uid = ::geteuid();
  const std::string user = "user " + UserName(uid) + " (uid " + std::to_string(uid) + ")";
  const std::string fix = "; make it writable by " + user + " or run broadcastd as its owner";
  const std::filesystem::path folder =
      path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  // AT_EACCESS: the effective user and its capabilities, as SQLite's open() sees them.
  if (::faccessat(AT_FDCWD, path.c_str(), W_OK, AT_EACCESS) != 0 && errno != ENOENT) {
    if (errno == EROFS) return "the file system is mounted read-only";
    return "the file is read-only for " + user + " (" + ModeAndOwner(path) + ")" + fix;
  }
  if (::faccessat(AT_FDCWD, folder.c_str(), W_OK | X_OK, AT_EACCESS) != 0) {
    if (errno == EROFS) return "the file system is mounted read-only";
    return "its folder " + folder.string() + " is read-only for " + user + " (" +
           ModeAndOwner(folder) + "), and SQLite creates the -wal and -shm files there" + fix;
  }
  return std::string(sqlite_says) + " (running as " + user + ")";
}

// A write transaction that changes nothing: the only sure test that commits will work
// (a read-only file or folder opens without complaint and fails at the first write).
std::optional<std::string> WriteRefused(SQLite::Database& db) {
  if (sqlite3_db_readonly(db.getHandle(), "main") == 1) return "SQLite opened it read-only";
  try {
    db.exec("BEGIN IMMEDIATE");
    db.exec("ROLLBACK");
  } catch (const std::exception& e) {
    return e.what();
  }
  return std::nullopt;
}

std::optional<std::pair<uint64_t, uint64_t>> FileId(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return std::pair<uint64_t, uint64_t>(st.st_dev, st.st_ino);
}

}  // namespace

Store::Store(std::filesystem::path path, Mode mode, std::unique_ptr<sql::Connection> db)
    : path_(std::move(path)), mode_(mode), db_(std::move(db)) {}

Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
Store::~Store() = default;

namespace {

SQLite::Database& SqliteOf(sql::Connection& db) {
  return static_cast<sql::SqliteConnection&>(db).database();
}

}  // namespace

bool Store::IsPostgres() const { return db_->dialect() == sql::Connection::Dialect::kPostgres; }

Result<Store> Store::OpenDatabase(const std::filesystem::path& database, Mode mode,
                                  const std::optional<std::string>& password) {
  if (IsPostgresUri(database.native())) return OpenPostgres(database.native(), mode, password);
  return Open(database, mode);
}

Result<Store> Store::OpenPostgres(const std::string& uri, Mode mode,
                                  const std::optional<std::string>& password) {
  const std::string display = PgDisplayName(uri);
  auto info = PgConnInfo(uri, password);
  if (!info) return std::unexpected(info.error());
  try {
    // Read-only: every transaction refuses to write. The daemon (read-write) listens for
    // the other connections' commits (DataVersion).
    const std::string session =
        mode == Mode::kReadOnly ? "SET default_transaction_read_only = on" : "LISTEN broadcastd";
    auto db = std::make_unique<sql::PgConnection>(*info, display, session);
    MigratePostgres(*db, mode == Mode::kReadWrite);
    return Store(display, mode, std::move(db));
  } catch (const sql::Failure& e) {
    return Fail(e.kind(), DescribeFailure(display, "open", e.what()));
  } catch (const std::exception& e) {
    return Fail(ErrorKind::kIo, DescribeFailure(display, "open", e.what()));
  }
}

int Store::NotifySocket() const {
  if (!IsPostgres()) return -1;
  return static_cast<const sql::PgConnection&>(*db_).Socket();
}

namespace {

// The file as it is, read-only, at the current schema (Store::Open, kReadOnly).
Result<std::unique_ptr<SQLite::Database>> OpenSqliteReadOnly(const std::filesystem::path& path,
                                                             const std::string& vfs) {
  auto failure = [&](std::string_view what) {
    return Fail(ErrorKind::kInvalid, DescribeFailure(path, "open", what));
  };
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return Fail(
        ErrorKind::kNotFound,
        DescribeFailure(path, "open", "no such file (the daemon creates it when it first starts)"));
  }
  auto db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READONLY, kBusyTimeoutMs, vfs);
  db->exec("PRAGMA query_only = ON");
  int version = db->execAndGet("PRAGMA user_version").getInt();
  if (version > CurrentSchemaVersion()) {
    return failure("schema version " + std::to_string(version) +
                   " is newer than this broadcastd supports (" +
                   std::to_string(CurrentSchemaVersion()) + "); run a newer broadcastd");
  }
  if (version < CurrentSchemaVersion()) {
    return failure("schema version " + std::to_string(version) + ", this broadcastd needs " +
                   std::to_string(CurrentSchemaVersion()) +
                   "; start the daemon once to migrate it");
  }
  return db;
}

// The file opened for writing (created with its folder for kReadWrite), refused unless
// a write would work, in WAL mode, migrated to the current schema.
Result<std::unique_ptr<SQLite::Database>> OpenSqliteReadWrite(const std::filesystem::path& path,
                                                              Store::Mode mode,
                                                              const std::string& vfs) {
  auto failure = [&](std::string_view what) {
    return Fail(ErrorKind::kIo, DescribeFailure(path, "open", what));
  };
  if (mode == Store::Mode::kReadWrite && path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec)
      return failure("cannot create folder " + path.parent_path().string() + ": " + ec.message());
  }
  std::unique_ptr<SQLite::Database> db;
  try {
    const int create = mode == Store::Mode::kReadWrite ? SQLite::OPEN_CREATE : 0;
    db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE | create, kBusyTimeoutMs,
                                            vfs);
  } catch (const std::exception& e) {
    return Fail(ErrorKind::kPermission, DescribeFailure(path, "open", WhyUnusable(path, e.what())));
  }
  if (auto refused = WriteRefused(*db)) {
    return Fail(ErrorKind::kPermission, DescribeFailure(path, "open", WhyUnusable(path, *refused)));
  }
  std::string journal = db->execAndGet("PRAGMA journal_mode = WAL").getString();
  if (journal != "wal") return failure("cannot switch to WAL (journal_mode is " + journal + ")");
  // FULL: a claimed job must be on disk before its request leaves (guarantee 2).
  db->exec("PRAGMA synchronous = FULL");
  db->exec("PRAGMA foreign_keys = ON");
  // The journal of each file's savepoint inside an ingestion batch (~15 pages a file)
  // stays in memory rather than spilling to a temporary file: a fifth of a cold start's
  // CPU was those writes. Temporary sort tables are in memory too; every query of the
  // store is bounded by an index or a limit.
  db->exec("PRAGMA temp_store = MEMORY");
  Migrate(*db);
  return db;
}

}  // namespace

Result<Store> Store::Open(const std::filesystem::path& path, Mode mode, const std::string& vfs) {
  try {
    if (mode == Mode::kReadOnly) {
      auto db = OpenSqliteReadOnly(path, vfs);
      if (!db) return std::unexpected(db.error());
      return Store(path, mode, std::make_unique<sql::SqliteConnection>(std::move(*db)));
    }
    auto db = OpenSqliteReadWrite(path, mode, vfs);
    if (!db) return std::unexpected(db.error());
    Store store(path, mode, std::make_unique<sql::SqliteConnection>(std::move(*db)));
    // A read opens (or creates) the -wal file; its identity is what VerifyFiles checks.
    store.db_->QueryInt64("SELECT count(*) FROM sqlite_master");
    store.wal_file_ = FileId(WalPathOf(path));
    return store;
  } catch (const std::exception& e) {
    return Fail(KindOf(e), DescribeFailure(path, "open", e.what()));
  }
}

Result<int> Store::SchemaVersion() {
  return Read("schema version", [&]() -> Result<int> {
    if (IsPostgres()) return PostgresSchemaVersion(*db_);
    return static_cast<int>(db_->QueryInt64("PRAGMA user_version"));
  });
}

Status Store::VerifyFiles() {
  if (IsPostgres()) return {};
  int moved = 0;
  const int rc =
      sqlite3_file_control(SqliteOf(*db_).getHandle(), "main", SQLITE_FCNTL_HAS_MOVED, &moved);
  if (rc != SQLITE_OK) {
    return Fail(ErrorKind::kIo,
                DescribeFailure(path_, "check the files",
                                std::string("SQLite cannot tell: ") + sqlite3_errstr(rc)));
  }
  if (moved != 0) {
    return Fail(ErrorKind::kIo,
                DescribeFailure(path_, "check the files",
                                "the file this process opened was moved, replaced or deleted"));
  }
  if (mode_ == Mode::kReadOnly) return {};
  const auto wal = FileId(WalPathOf(path_));
  if (!wal_file_) {
    wal_file_ = wal;  // first seen now
    return {};
  }
  if (!wal) {
    return Fail(ErrorKind::kIo, DescribeFailure(path_, "check the files",
                                                WalPathOf(path_).string() + " was deleted"));
  }
  if (*wal != *wal_file_) {
    return Fail(ErrorKind::kIo,
                DescribeFailure(path_, "check the files",
                                WalPathOf(path_).string() + " was replaced by another file"));
  }
  return {};
}

Result<int64_t> Store::DataVersion() {
  return Read("data version", [&]() -> Result<int64_t> {
    if (IsPostgres()) {
      notifications_ += static_cast<sql::PgConnection&>(*db_).TakeNotifications();
      return notifications_;
    }
    return db_->QueryInt64("PRAGMA data_version");
  });
}

std::string_view ApplyEffectName(Store::ApplyEffect effect) {
  switch (effect) {
    case Store::ApplyEffect::kUnchanged:
      return "unchanged";
    case Store::ApplyEffect::kCreated:
      return "created";
    case Store::ApplyEffect::kUpdated:
      return "updated";
    case Store::ApplyEffect::kMoved:
      return "moved";
  }
  return "?";
}

}  // namespace broadcastd
