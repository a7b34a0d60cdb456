// Migration 3: a version-2 database (campaigns keyed by file) becomes one keyed by
// campaign id, and every job keeps its state, its history and its identity.

#include <SQLiteCpp/Database.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/schema.h"
#include "store/store.h"
#include "store_test_support.h"

namespace broadcastd::testing_store {
namespace {

using ::testing::HasSubstr;

// What broadcastd 2 left behind: promo was renamed from old.yaml to a.yaml (which
// re-created and re-sent `x`), noid.yaml had no id (named after the file, broadcasts
// after their index), bad.yaml was never valid.
void WriteVersionTwo(const std::filesystem::path& path) {
  SQLite::Database raw(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  raw.exec(std::string(Migrations()[0].sql));
  raw.exec(std::string(Migrations()[1].sql));
  raw.exec("PRAGMA user_version = 2");
  raw.exec(R"sql(
INSERT INTO campaigns (id, file, campaign_id, content_hash, status, last_error, app, priority,
                       updated_at) VALUES
  (1, 'old.yaml', 'promo', 'h0', 'removed', NULL, 'main', 0, 100),
  (2, 'a.yaml', 'promo', 'h1', 'ok', NULL, 'main', 3, 200),
  (3, 'noid.yaml', 'noid', 'h2', 'ok', NULL, 'main', 0, 150),
  (4, 'bad.yaml', NULL, 'h3', 'rejected', 'bad.yaml:1:1: not a mapping', '', 0, 160);
INSERT INTO jobs (id, campaign_ref, campaign_id, broadcast, occurrence, app, target, body, state,
                  due, attempts, broadcast_id, cancelled_by, created_at, updated_at) VALUES
  (10, 1, 'promo', 'x', 'once', 'main', 'users', 'old x', 'sent', 50, 1, '111', NULL, 50, 60),
  (11, 1, 'promo', 'y', 'once', 'main', 'users', 'old y', 'sent', 50, 1, '112', NULL, 50, 60),
  (12, 1, 'promo', 'z', 'once', 'main', 'users', 'old z', 'cancelled', 50, 0, NULL, 'file', 50, 100),
  (13, 2, 'promo', 'x', 'once', 'main', 'users', 'new x', 'sent', 150, 1, '113', NULL, 150, 160),
  (14, 2, 'promo', 'w', 'once', 'main', 'users', 'new w', 'scheduled', 9000, 0, NULL, NULL, 150, 150),
  (15, 3, 'noid', '0', 'once', 'main', 'chatrooms', 'zero', 'ready', 100, 0, NULL, NULL, 100, 100);
INSERT INTO attempts (id, job_id, app, target, started_at, ended_at, http_status, outcome,
                      broadcast_id) VALUES
  (1, 10, 'main', 'users', 55, 56, 200, 'sent', '111'),
  (2, 11, 'main', 'users', 57, 58, 200, 'sent', '112'),
  (3, 13, 'main', 'users', 155, 156, 200, 'sent', '113');
)sql");
}

TEST(StoreMigration, AVersionTwoDatabaseKeepsEveryJobUnderItsCampaignId) {
  TempDir dir;
  const auto path = dir.path() / "queue.db";
  WriteVersionTwo(path);

  auto opened = Store::Open(path, Store::Mode::kReadWrite);
  ASSERT_TRUE(opened.has_value()) << opened.error().message;
  Store& store = *opened;
  EXPECT_EQ(store.SchemaVersion().value(), CurrentSchemaVersion());
  {
    SQLite::Database raw(path, SQLite::OPEN_READONLY);
    SQLite::Statement check(raw, "PRAGMA foreign_key_check");
    EXPECT_FALSE(check.executeStep()) << "dangling reference in " << check.getColumn(0).getString();
  }

  // The folder as it was: one row per file, each with its status.
  auto rows = store.Campaigns().value();
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].file, "a.yaml");
  EXPECT_EQ(rows[0].status, CampaignStatus::kOk);
  EXPECT_EQ(rows[0].campaign_id, "promo");
  EXPECT_EQ(rows[0].priority, 3);
  EXPECT_EQ(rows[1].file, "bad.yaml");
  EXPECT_EQ(rows[1].status, CampaignStatus::kRejected);
  EXPECT_EQ(rows[1].campaign_id, "");
  EXPECT_EQ(rows[1].last_error, "bad.yaml:1:1: not a mapping");
  EXPECT_EQ(rows[2].file, "noid.yaml");
  EXPECT_EQ(rows[2].campaign_id, "noid");
  EXPECT_EQ(rows[3].file, "old.yaml");
  EXPECT_EQ(rows[3].status, CampaignStatus::kRemoved);
  EXPECT_EQ(rows[3].campaign_id, "promo");

  // Every job kept its id, state and history.
  auto jobs = store.Jobs().value();
  ASSERT_EQ(jobs.size(), 6u);
  std::map<int64_t, JobRow> by_id;
  for (const JobRow& job : jobs) by_id[job.id] = job;
  EXPECT_EQ(by_id[10].state, JobState::kSent);
  EXPECT_EQ(by_id[10].broadcast_id, "111");
  EXPECT_EQ(by_id[13].broadcast_id, "113");
  EXPECT_EQ(by_id[14].state, JobState::kScheduled);
  EXPECT_EQ(store.AttemptsOf(10).value().size(), 1u);
  // promo: a.yaml's jobs and old.yaml's y and z are one campaign now; old.yaml's x,
  // outranked by a.yaml's, stays as history under no id.
  EXPECT_EQ(by_id[13].campaign_ref, by_id[14].campaign_ref);
  EXPECT_EQ(by_id[11].campaign_ref, by_id[14].campaign_ref);
  EXPECT_EQ(by_id[12].campaign_ref, by_id[14].campaign_ref);
  EXPECT_NE(by_id[10].campaign_ref, by_id[14].campaign_ref);
  EXPECT_EQ(by_id[14].file, "a.yaml");
  EXPECT_EQ(by_id[15].file, "noid.yaml");

  // From now on identity rules: the next version of a.yaml re-sends nothing already sent
  // (y came from old.yaml), and brings back z, which no attempt reached.
  Store::CampaignFile a{"a.yaml", "promo", "h9", "main", 3};
  ASSERT_TRUE(
      store.ApplyCampaign(a,
                          {Spec("x", "once", kT0, "x3"), Spec("y", "once", kT0, "y3"),
                           Spec("z", "once", kT0 + 1h, "z3"), Spec("w", "once", kT0 + 1h, "w3")},
                          kT0, kT0));
  jobs = store.Jobs().value();
  EXPECT_EQ(jobs.size(), 6u);
  for (const JobRow& job : jobs) by_id[job.id] = job;
  EXPECT_EQ(by_id[13].body, "new x");
  EXPECT_EQ(by_id[11].body, "old y");
  EXPECT_EQ(by_id[12].state, JobState::kScheduled);
  EXPECT_EQ(by_id[12].body, "z3");
  EXPECT_EQ(by_id[14].body, "w3");

  // A file without an id now is rejected by the ingester: its jobs stay as they are.
  ASSERT_TRUE(store.RejectCampaign("noid.yaml", "h10", "noid.yaml:1:1: id is required", kT0));
  EXPECT_EQ(store.Job(15).value()->state, JobState::kReady);
  EXPECT_EQ(store.Campaigns().value()[2].campaign_id, "noid");
  // Its campaign is still held: another file cannot take the id meanwhile.
  auto clash =
      store.ApplyCampaign(Store::CampaignFile{"other.yaml", "noid", "h", "main", 0}, {}, kT0, kT0);
  ASSERT_FALSE(clash.has_value());
  EXPECT_THAT(clash.error().message, HasSubstr("already used by noid.yaml"));
}

TEST(StoreMigration, AnEmptyVersionTwoDatabaseMigrates) {
  TempDir dir;
  const auto path = dir.path() / "queue.db";
  {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    raw.exec(std::string(Migrations()[0].sql));
    raw.exec(std::string(Migrations()[1].sql));
    raw.exec("PRAGMA user_version = 2");
  }
  auto store = Store::Open(path, Store::Mode::kReadWrite);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  EXPECT_EQ(store->SchemaVersion().value(), CurrentSchemaVersion());
  EXPECT_TRUE(store->Campaigns()->empty());
  ASSERT_TRUE(store->ApplyCampaign(File("a.yaml", "a", "h"), {Spec("x", "once", kT0)}, kT0, kT0));
  EXPECT_EQ(store->Jobs()->size(), 1u);
}

// Migration 9: the operator actions a version-8 database holds get their scope from what
// their detail says (as --history read it before), and new ones are written with it.
TEST(StoreMigration, AVersionEightDatabaseGetsEachOperatorActionsScope) {
  TempDir dir;
  const auto path = dir.path() / "queue.db";
  ASSERT_TRUE(Store::Open(path, Store::Mode::kReadWrite).has_value());
  {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE);
    raw.exec("ALTER TABLE operator_actions DROP COLUMN scope");
    // And what version 11 added (signed campaigns).
    raw.exec("DROP TABLE campaign_signatures; DROP TABLE signature_checks");
    raw.exec("ALTER TABLE attempts DROP COLUMN signers");
    raw.exec("PRAGMA user_version = 8");
    raw.exec(R"sql(
INSERT INTO operator_actions (id, at, action, job_id, detail) VALUES
  (1, 10, 'cancel_job', 7, ''),
  (2, 11, 'cancel_campaign', NULL, 'campaign new-year.2030: 3 jobs cancelled'),
  (3, 12, 'pause', NULL, 'main online_users: vendor incident'),
  (4, 13, 'resume', NULL, 'main online_users'),
  (5, 14, 'pause', 8, 'paused after an ''unopened'' answer'),
  (6, 15, 'cancel_campaign', NULL, 'no campaign named here');
)sql");
  }
  auto store = Store::Open(path, Store::Mode::kReadWrite);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  EXPECT_EQ(store->SchemaVersion().value(), CurrentSchemaVersion());
  auto actions = store->OperatorActions().value();
  ASSERT_EQ(actions.size(), 6u);
  EXPECT_EQ(actions[0].scope, "job");
  EXPECT_EQ(actions[1].scope, CampaignScope("new-year.2030"));
  EXPECT_EQ(actions[2].scope, EndpointScope("main", BroadcastTarget::kOnlineUsers));
  EXPECT_EQ(actions[3].scope, EndpointScope("main", BroadcastTarget::kOnlineUsers));
  EXPECT_EQ(actions[4].scope, "job");
  EXPECT_EQ(actions[5].scope, "");

  ASSERT_TRUE(store->Pause("main", BroadcastTarget::kUsers, "again", kT0));
  EXPECT_EQ(store->OperatorActions().value().back().scope,
            EndpointScope("main", BroadcastTarget::kUsers));
}

}  // namespace
}  // namespace broadcastd::testing_store
