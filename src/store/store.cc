#include "store/store.h"

#include <system_error>
#include <utility>

#include "store/schema.h"
#include "store/sqlite_access.h"

namespace broadcastd {

namespace {

// Long enough to ride out another process's short write transaction, short enough that a
// wedged writer shows up as an error rather than a hang.
constexpr int kBusyTimeoutMs = 5000;

}  // namespace

Store::Store(std::filesystem::path path, Mode mode, std::unique_ptr<SQLite::Database> db)
    : path_(std::move(path)), mode_(mode), db_(std::move(db)) {}

Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
Store::~Store() = default;

Result<Store> Store::Open(const std::filesystem::path& path, Mode mode) {
  auto failure = [&](std::string_view what) { return Fail(DescribeFailure(path, "open", what)); };
  try {
    if (mode == Mode::kReadOnly) {
      std::error_code ec;
      if (!std::filesystem::exists(path, ec)) {
        return failure("no such file (the daemon creates it when it first starts)");
      }
      auto db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READONLY, kBusyTimeoutMs);
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
      return Store(path, mode, std::move(db));
    }

    if (mode == Mode::kReadWrite && path.has_parent_path()) {
      std::error_code ec;
      std::filesystem::create_directories(path.parent_path(), ec);
      if (ec)
        return failure("cannot create folder " + path.parent_path().string() + ": " + ec.message());
    }
    const int create = mode == Mode::kReadWrite ? SQLite::OPEN_CREATE : 0;
    auto db =
        std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE | create, kBusyTimeoutMs);
    std::string journal = db->execAndGet("PRAGMA journal_mode = WAL").getString();
    if (journal != "wal") return failure("cannot switch to WAL (journal_mode is " + journal + ")");
    // FULL: a claimed job must be on disk before its request leaves (guarantee 2).
    db->exec("PRAGMA synchronous = FULL");
    db->exec("PRAGMA foreign_keys = ON");
    Migrate(*db);
    return Store(path, mode, std::move(db));
  } catch (const std::exception& e) {
    return failure(e.what());
  }
}

Result<int> Store::SchemaVersion() {
  return Read("schema version",
              [&]() -> Result<int> { return db_->execAndGet("PRAGMA user_version").getInt(); });
}

Result<int64_t> Store::DataVersion() {
  return Read("data version", [&]() -> Result<int64_t> {
    return db_->execAndGet("PRAGMA data_version").getInt64();
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
  }
  return "?";
}

}  // namespace broadcastd
