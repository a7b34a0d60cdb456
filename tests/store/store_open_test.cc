#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Transaction.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/schema.h"
#include "store/store.h"
#include "store_test_support.h"

namespace broadcastd::testing_store {
namespace {

using ::testing::HasSubstr;

std::vector<std::string> Tables(const std::filesystem::path& path) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  SQLite::Statement q(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
  std::vector<std::string> names;
  while (q.executeStep()) names.push_back(q.getColumn(0).getString());
  return names;
}

TEST(StoreOpen, MigratesAnEmptyFileInAMissingFolder) {
  TempDir dir;
  auto path = dir.path() / "a" / "b" / "queue.db";
  auto store = Store::Open(path, Store::Mode::kReadWrite);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(store->SchemaVersion().value(), CurrentSchemaVersion());
  EXPECT_THAT(Tables(path), ::testing::IsSupersetOf(
                                {"attempts", "campaigns", "jobs", "operator_actions", "pauses"}));
  SQLite::Database raw(path, SQLite::OPEN_READONLY);
  EXPECT_EQ(raw.execAndGet("PRAGMA journal_mode").getString(), "wal");
}

TEST(StoreOpen, MigrationsAreNumberedWithoutGaps) {
  int expected = 1;
  for (const Migration& m : Migrations()) EXPECT_EQ(m.version, expected++);
  EXPECT_EQ(CurrentSchemaVersion(), expected - 1);
}

TEST(StoreOpen, ReopeningIsANoOp) {
  TempDir dir;
  auto path = dir.path() / "queue.db";
  {
    auto store = Store::Open(path, Store::Mode::kReadWrite);
    ASSERT_TRUE(store.has_value());
    ASSERT_TRUE(store->ApplyCampaign(File("a.yaml", "a", "h1"), {Spec("x", "once", kT0)}, kT0, kT0)
                    .has_value());
  }
  std::string before = DumpDatabase(path);
  {
    SQLite::Database raw(path, SQLite::OPEN_READONLY);
    before += raw.execAndGet("SELECT group_concat(sql, ';') FROM sqlite_master").getString();
  }
  auto again = Store::Open(path, Store::Mode::kReadWrite);
  ASSERT_TRUE(again.has_value()) << again.error().message;
  std::string after = DumpDatabase(path);
  {
    SQLite::Database raw(path, SQLite::OPEN_READONLY);
    after += raw.execAndGet("SELECT group_concat(sql, ';') FROM sqlite_master").getString();
  }
  EXPECT_EQ(before, after);
  EXPECT_EQ(again->Jobs()->size(), 1u);
}

TEST(StoreOpen, RefusesADatabaseNewerThanTheCode) {
  TempDir dir;
  auto path = dir.path() / "queue.db";
  { ASSERT_TRUE(Store::Open(path, Store::Mode::kReadWrite).has_value()); }
  {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE);
    raw.exec("PRAGMA user_version = " + std::to_string(CurrentSchemaVersion() + 1));
  }
  for (Store::Mode mode : {Store::Mode::kReadWrite, Store::Mode::kReadOnly}) {
    auto store = Store::Open(path, mode);
    ASSERT_FALSE(store.has_value());
    EXPECT_THAT(store.error().message, HasSubstr(path.string()));
    EXPECT_THAT(store.error().message, HasSubstr("newer than this broadcastd supports"));
  }
  SQLite::Database raw(path, SQLite::OPEN_READONLY);
  EXPECT_EQ(raw.execAndGet("PRAGMA user_version").getInt(), CurrentSchemaVersion() + 1);
}

TEST(StoreOpen, ReadOnlyFailsClearlyOnAMissingFile) {
  TempDir dir;
  auto path = dir.path() / "queue.db";
  auto store = Store::Open(path, Store::Mode::kReadOnly);
  ASSERT_FALSE(store.has_value());
  EXPECT_THAT(store.error().message, HasSubstr(path.string()));
  EXPECT_THAT(store.error().message, HasSubstr("no such file"));
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(StoreOpen, ReadOnlyFailsOnAnUnmigratedFile) {
  TempDir dir;
  auto path = dir.path() / "queue.db";
  { SQLite::Database raw(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE); }
  auto store = Store::Open(path, Store::Mode::kReadOnly);
  ASSERT_FALSE(store.has_value());
  EXPECT_THAT(store.error().message, HasSubstr("start the daemon once to migrate"));
  SQLite::Database raw(path, SQLite::OPEN_READONLY);
  EXPECT_EQ(raw.execAndGet("PRAGMA user_version").getInt(), 0);
}

TEST(StoreOpen, ReadOnlyWorksWhileAWriterHoldsAWriteTransaction) {
  TempDir dir;
  auto path = dir.path() / "queue.db";
  auto writer = Store::Open(path, Store::Mode::kReadWrite);
  ASSERT_TRUE(writer.has_value());
  ASSERT_TRUE(writer->ApplyCampaign(File("a.yaml", "a", "h1"), {Spec("x", "once", kT0)}, kT0, kT0)
                  .has_value());

  SQLite::Database other(path, SQLite::OPEN_READWRITE, 5000);
  SQLite::Transaction tx(other, SQLite::TransactionBehavior::IMMEDIATE);
  other.exec("UPDATE jobs SET body = 'uncommitted'");

  auto reader = Store::Open(path, Store::Mode::kReadOnly);
  ASSERT_TRUE(reader.has_value()) << reader.error().message;
  auto jobs = reader->Jobs();
  ASSERT_TRUE(jobs.has_value()) << jobs.error().message;
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].body, R"({"msg":"hello"})");  // the committed state

  // It never writes, even when asked to.
  auto cancel = reader->CancelJob((*jobs)[0].id, kT0);
  ASSERT_FALSE(cancel.has_value());
  EXPECT_THAT(cancel.error().message, HasSubstr("read-only"));
  EXPECT_THAT(cancel.error().message, HasSubstr(path.string()));
}

TEST(StoreOpen, SqliteErrorsNameTheDatabaseAndTheOperation) {
  TempDir dir;
  auto path = dir.path() / "queue.db";
  auto store = Store::Open(path, Store::Mode::kReadWrite);
  ASSERT_TRUE(store.has_value());
  {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE);
    raw.exec("DROP TABLE pauses");
  }
  auto pauses = store->Pauses();
  ASSERT_FALSE(pauses.has_value());
  EXPECT_THAT(pauses.error().message, HasSubstr("database " + path.string() + ": list pauses: "));
}

TEST(StoreOpen, DataVersionMovesWhenAnotherConnectionCommits) {
  TempDir dir;
  auto path = dir.path() / "queue.db";
  auto daemon = Store::Open(path, Store::Mode::kReadWrite);
  auto operator_store = Store::Open(path, Store::Mode::kReadWrite);
  ASSERT_TRUE(daemon.has_value() && operator_store.has_value());
  int64_t v1 = daemon->DataVersion().value();
  EXPECT_EQ(daemon->DataVersion().value(), v1);
  ASSERT_TRUE(operator_store->Pause("main", BroadcastTarget::kUsers, "maintenance", kT0));
  EXPECT_NE(daemon->DataVersion().value(), v1);
}

}  // namespace
}  // namespace broadcastd::testing_store

namespace broadcastd::testing_store {
namespace {

// A database left at schema 1 by an older broadcastd (its rows included) is
// brought to the current schema, one numbered step at a time, keeping its data.
TEST(StoreOpen, UpgradesASchemaOneDatabaseKeepingItsRows) {
  TempDir dir;
  auto path = dir.path() / "queue.db";
  {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    raw.exec(std::string(Migrations()[0].sql));
    raw.exec("PRAGMA user_version = 1");
    raw.exec(
        "INSERT INTO campaigns (id, file, campaign_id, content_hash, status, last_error, app, "
        "priority, updated_at) VALUES (1, 'a.yaml', 'a', 'h', 'ok', '', 'main', 0, 0)");
  }
  auto store = Store::Open(path, Store::Mode::kReadWrite);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  EXPECT_EQ(store->SchemaVersion().value(), CurrentSchemaVersion());
  auto campaigns = store->Campaigns();
  ASSERT_TRUE(campaigns.has_value());
  ASSERT_EQ(campaigns->size(), 1u);
  EXPECT_EQ((*campaigns)[0].file, "a.yaml");
}

// The server's Retry-After is kept with the attempt, so a restart honours it.
TEST(StoreOpen, RetryAfterIsKeptWithTheAttempt) {
  TempDir dir;
  auto store = Store::Open(dir.path() / "queue.db", Store::Mode::kReadWrite);
  ASSERT_TRUE(store.has_value());
  ASSERT_TRUE(store->ApplyCampaign(File("a.yaml", "a", "h1"), {Spec("x", "once", kT0)}, kT0, kT0)
                  .has_value());
  int64_t job = store->Jobs().value().at(0).id;
  auto attempt = store->ClaimForSending(job, Instant(kT0));
  ASSERT_TRUE(attempt.has_value()) << attempt.error().message;
  Store::AttemptOutcome outcome;
  outcome.outcome = OutcomeClass::kRetry;
  outcome.http_status = 429;
  outcome.retry_after = Duration(120000);
  outcome.retry_not_before = kT0 + std::chrono::minutes(2);
  ASSERT_TRUE(store->RecordOutcome(job, *attempt, outcome, Instant(kT0)).has_value());
  auto rows = store->AttemptsOf(job).value();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].retry_after, Duration(120000));
}

// Migration 4: both clocks and the boot with every attempt; RecentAttempts finds an
// attempt by its monotonic reading on this boot when the wall clock jumped past it.
TEST(StoreOpen, AttemptsKeepBothClocksAndTheBoot) {
  TempDir dir;
  auto store = Store::Open(dir.path() / "queue.db", Store::Mode::kReadWrite);
  ASSERT_TRUE(store.has_value());
  store->set_boot_id("boot-a");
  ASSERT_TRUE(store->ApplyCampaign(File("a.yaml", "a", "h1"), {Spec("x", "once", kT0)}, kT0, kT0)
                  .has_value());
  int64_t job = store->Jobs().value().at(0).id;
  const Instant start(kT0, MonoFromMillis(5000));
  auto attempt = store->ClaimForSending(job, start);
  ASSERT_TRUE(attempt.has_value()) << attempt.error().message;
  Store::AttemptOutcome outcome;
  outcome.outcome = OutcomeClass::kSent;
  ASSERT_TRUE(store->RecordOutcome(job, *attempt, outcome, start.After(250ms)).has_value());
  auto rows = store->AttemptsOf(job).value();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].boot_id, "boot-a");
  EXPECT_EQ(rows[0].started_mono, MonoFromMillis(5000));
  EXPECT_EQ(rows[0].ended_mono, MonoFromMillis(5250));

  const TimePoint far_ahead = kT0 + 72h;  // the wall clock jumped
  EXPECT_EQ(store->RecentAttempts(far_ahead, "boot-a", MonoFromMillis(4000)).value().size(), 1u);
  EXPECT_EQ(store->RecentAttempts(far_ahead, "boot-b", MonoFromMillis(4000)).value().size(), 0u);
  EXPECT_EQ(store->RecentAttempts(far_ahead, "boot-a", MonoFromMillis(6000)).value().size(), 0u);
}

// The files under the connection: a deleted -wal or a moved database file fails the
// check, so the daemon stops before committing a claim nobody will read.
TEST(StoreOpen, VerifyFilesNoticesADeletedWal) {
  TempDir dir;
  auto path = dir.path() / "queue.db";
  auto store = Store::Open(path, Store::Mode::kReadWrite);
  ASSERT_TRUE(store.has_value());
  EXPECT_TRUE(store->VerifyFiles().has_value());
  ASSERT_TRUE(store->Pause("main", BroadcastTarget::kUsers, "x", kT0).has_value());
  EXPECT_TRUE(store->VerifyFiles().has_value());
  auto wal = path;
  wal += "-wal";
  ASSERT_TRUE(std::filesystem::remove(wal));
  auto st = store->VerifyFiles();
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().kind, ErrorKind::kIo);
  EXPECT_THAT(st.error().message, ::testing::HasSubstr(wal.string() + " was deleted"));
}

TEST(StoreOpen, VerifyFilesNoticesAMovedDatabase) {
  TempDir dir;
  auto path = dir.path() / "queue.db";
  auto store = Store::Open(path, Store::Mode::kReadWrite);
  ASSERT_TRUE(store.has_value());
  std::filesystem::rename(path, dir.path() / "elsewhere.db");
  auto st = store->VerifyFiles();
  ASSERT_FALSE(st.has_value());
  EXPECT_THAT(st.error().message, ::testing::HasSubstr("moved, replaced or deleted"));
}

// Operator commands open an existing database only: a mistyped path creates
// neither a file nor a folder.
TEST(StoreOpen, ReadWriteExistingNeverCreates) {
  TempDir dir;
  const auto path = dir.path() / "missing" / "queue.db";
  EXPECT_FALSE(Store::Open(path, Store::Mode::kReadWriteExisting).has_value());
  EXPECT_FALSE(std::filesystem::exists(path.parent_path()));
  std::filesystem::create_directories(path.parent_path());
  EXPECT_FALSE(Store::Open(path, Store::Mode::kReadWriteExisting).has_value());
  EXPECT_FALSE(std::filesystem::exists(path));
  ASSERT_TRUE(Store::Open(path, Store::Mode::kReadWrite).has_value());
  auto existing = Store::Open(path, Store::Mode::kReadWriteExisting);
  ASSERT_TRUE(existing.has_value()) << existing.error().message;
  EXPECT_TRUE(existing->Pause("main", BroadcastTarget::kUsers, "test", kT0).has_value());
}

}  // namespace
}  // namespace broadcastd::testing_store
