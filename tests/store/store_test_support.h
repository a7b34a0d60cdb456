#pragma once
// Shared by the store tests: a temporary folder, real database files in it, and a dump
// of every table so a test can assert that an operation changed nothing at all.
//
// The suite runs on both backends: SQLite (a file in a fresh folder) by default, and
// PostgreSQL (a schema of its own in the test cluster, pg_test_db.h) when
// BROADCASTD_STORE_BACKEND=postgresql: CTest runs it both ways (tests/store/CMakeLists.txt).
// A test about SQLite's files alone skips itself on PostgreSQL (SkipOnPostgres).

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "fakes/fake_clock.h"
#include "fakes/temp_dir.h"
#include "pg_test_db.h"
#include "store/store.h"

namespace broadcastd::testing_store {

using namespace std::chrono_literals;

// 2027-01-14T08:00:00Z: a fixed "now" so no test depends on the wall clock.
inline const TimePoint kT0 = FromMillis(1'799'913'600'000);

using broadcastd::TempDir;

// Every row of every table, in a stable order, as text.
inline std::string DumpDatabase(const std::filesystem::path& db_path) {
  SQLite::Database db(db_path, SQLite::OPEN_READONLY);
  std::vector<std::string> tables;
  SQLite::Statement names(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
  while (names.executeStep()) tables.push_back(names.getColumn(0).getString());
  std::string dump;
  for (const std::string& table : tables) {
    dump += "[" + table + "]\n";
    SQLite::Statement rows(db, "SELECT * FROM \"" + table + "\" ORDER BY rowid");
    while (rows.executeStep()) {
      for (int i = 0; i < rows.getColumnCount(); ++i) {
        SQLite::Column c = rows.getColumn(i);
        dump += c.isNull() ? std::string("NULL") : "'" + c.getString() + "'";
        dump += "|";
      }
      dump += "\n";
    }
  }
  dump += "user_version=" + db.execAndGet("PRAGMA user_version").getString();
  return dump;
}

inline bool OnPostgres() {
  const char* backend = std::getenv("BROADCASTD_STORE_BACKEND");
  return backend != nullptr && std::string_view(backend) == "postgresql";
}

// Every row of every table of the test's schema (or of `only`), in a stable order, as
// text (PostgreSQL's text forms: compare dumps of one backend with each other).
inline std::string DumpPostgres(PgAdmin& conn, const std::string& only = {}) {
  std::string dump;
  const auto tables = conn.Exec(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
      "AND table_name NOT LIKE 'broadcastd_%' ORDER BY table_name");
  for (const auto& table : tables) {
    const std::string name = *table[0];
    if (!only.empty() && name != only) continue;
    dump += "[" + name + "]\n";
    for (const auto& row : conn.Exec("SELECT * FROM " + name + " t ORDER BY t::text")) {
      for (const auto& field : row) {
        dump += !field ? std::string("NULL") : "'" + *field + "'";
        dump += "|";
      }
      dump += "\n";
    }
  }
  return dump;
}

inline Store::JobSpec Spec(std::string broadcast, std::string occurrence, TimePoint due,
                           std::string body = R"({"msg":"hello"})",
                           BroadcastTarget target = BroadcastTarget::kUsers) {
  Store::JobSpec spec;
  spec.broadcast = std::move(broadcast);
  spec.occurrence = std::move(occurrence);
  spec.app = "main";
  spec.target = target;
  spec.priority = 0;
  spec.body = std::move(body);
  spec.due = due;
  return spec;
}

inline Store::CampaignFile File(std::string file, std::string campaign_id, std::string hash) {
  return Store::CampaignFile{std::move(file), std::move(campaign_id), std::move(hash), "main", 0};
}

// A test fixture with one read-write store in a fresh folder (or a fresh PostgreSQL
// schema). On PostgreSQL the stores it opens hold the sender lease (claims are fenced).
class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_path_ = dir_.path() / "state" / "queue.db";
    if (OnPostgres()) {
      pg_ = std::make_unique<PgTestDb>();
      pg_conn_ = pg_->Connect();
    }
    auto opened = OpenStore(Store::Mode::kReadWrite);
    ASSERT_TRUE(opened.has_value()) << opened.error().message;
    store_.emplace(std::move(*opened));
    if (pg_) {
      auto tick =
          store_->TickSenderLease("store-test", std::chrono::hours(1), lease_clock_.Monotonic());
      ASSERT_TRUE(tick.has_value()) << tick.error().message;
      fence_ = Store::Fence{"store-test", tick->lease.epoch};
      store_->set_fence(*fence_);
    }
  }

  Store& store() { return *store_; }

  // Another connection to the test's database (another process's, a restarted daemon's).
  Result<Store> OpenStore(Store::Mode mode) {
    auto opened = pg_ ? Store::OpenPostgres(pg_->uri(), mode) : Store::Open(db_path_, mode);
    if (opened && fence_) opened->set_fence(*fence_);
    return opened;
  }

  // Every table (or only `table`), as text.
  std::string Dump(const std::string& table = {}) {
    if (pg_) return DumpPostgres(*pg_conn_, table);
    if (table.empty()) return DumpDatabase(db_path_);
    SQLite::Database db(db_path_, SQLite::OPEN_READONLY);
    SQLite::Statement rows(db, "SELECT * FROM \"" + table + "\" ORDER BY rowid");
    std::string dump;
    while (rows.executeStep()) {
      for (int i = 0; i < rows.getColumnCount(); ++i) {
        SQLite::Column c = rows.getColumn(i);
        dump += (c.isNull() ? std::string("NULL") : "'" + c.getString() + "'") + "|";
      }
      dump += "\n";
    }
    return dump;
  }

  // The job with this (broadcast, occurrence); fails the test if there is none.
  JobRow JobNamed(const std::string& broadcast, const std::string& occurrence = "once") {
    auto jobs = store_->Jobs();
    if (!jobs) {
      ADD_FAILURE() << jobs.error().message;
      return {};
    }
    for (const JobRow& job : *jobs) {
      if (job.broadcast == broadcast && job.occurrence == occurrence) return job;
    }
    ADD_FAILURE() << "no job " << broadcast << " " << occurrence;
    return {};
  }

  // Claims the job and records `outcome` for it.
  void Attempt(int64_t job_id, OutcomeClass outcome, TimePoint at, std::string broadcast_id = "") {
    auto attempt = store_->ClaimForSending(job_id, Instant(at));
    ASSERT_TRUE(attempt.has_value()) << attempt.error().message;
    Store::AttemptOutcome o;
    o.outcome = outcome;
    o.http_status = outcome == OutcomeClass::kSent ? 200 : 500;
    o.broadcast_id = std::move(broadcast_id);
    auto recorded = store_->RecordOutcome(job_id, *attempt, o, Instant(at + 1s));
    ASSERT_TRUE(recorded.has_value()) << recorded.error().message;
  }

  // The type the database stores `column` of row `id` of `table` with.
  std::string StoredType(const std::string& table, const std::string& column, int64_t id) {
    const std::string where = " FROM " + table + " WHERE id = " + std::to_string(id);
    if (pg_) {
      return pg_conn_->Value("SELECT pg_typeof(" + column + ")::text" + where);
    }
    SQLite::Database db(db_path_, SQLite::OPEN_READONLY);
    return db.execAndGet("SELECT typeof(" + column + ")" + where).getString();
  }

  TempDir dir_;
  std::filesystem::path db_path_;
  FakeClock lease_clock_{kT0};
  std::unique_ptr<PgTestDb> pg_;
  std::unique_ptr<PgAdmin> pg_conn_;
  std::optional<Store::Fence> fence_;
  std::optional<Store> store_;
};

// For a test about SQLite's files, statements or plans.
#define SKIP_ON_POSTGRES() \
  if (OnPostgres()) GTEST_SKIP() << "about SQLite's files alone"

}  // namespace broadcastd::testing_store
