#pragma once
// Shared by the store tests: a temporary folder, real database files in it, and a dump
// of every table so a test can assert that an operation changed nothing at all.

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/clock.h"
#include "fakes/temp_dir.h"
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

// A test fixture with one read-write store in a fresh folder.
class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_path_ = dir_.path() / "state" / "queue.db";
    auto opened = Store::Open(db_path_, Store::Mode::kReadWrite);
    ASSERT_TRUE(opened.has_value()) << opened.error().message;
    store_.emplace(std::move(*opened));
  }

  Store& store() { return *store_; }

  // The job with this (broadcast, occurrence); fails the test if there is none.
  JobRow JobNamed(const std::string& broadcast, const std::string& occurrence = "once") {
    auto jobs = store_->Jobs();
    EXPECT_TRUE(jobs.has_value());
    for (const JobRow& job : *jobs) {
      if (job.broadcast == broadcast && job.occurrence == occurrence) return job;
    }
    ADD_FAILURE() << "no job " << broadcast << " " << occurrence;
    return {};
  }

  // Claims the job and records `outcome` for it.
  void Attempt(int64_t job_id, OutcomeClass outcome, TimePoint at, std::string broadcast_id = "") {
    auto attempt = store_->ClaimForSending(job_id, at);
    ASSERT_TRUE(attempt.has_value()) << attempt.error().message;
    Store::AttemptOutcome o;
    o.outcome = outcome;
    o.http_status = outcome == OutcomeClass::kSent ? 200 : 500;
    o.broadcast_id = std::move(broadcast_id);
    auto recorded = store_->RecordOutcome(job_id, *attempt, o, at + 1s);
    ASSERT_TRUE(recorded.has_value()) << recorded.error().message;
  }

  TempDir dir_;
  std::filesystem::path db_path_;
  std::optional<Store> store_;
};

}  // namespace broadcastd::testing_store
