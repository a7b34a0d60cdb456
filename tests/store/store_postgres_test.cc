// The PostgreSQL backend's own promises (the rest of the store suite runs on it too): the
// SQL it is given, fenced claims, notifications, and a server that goes away.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "store/schema.h"
#include "store/sql_postgres.h"
#include "store_test_support.h"

namespace broadcastd::testing_store {
namespace {

using ::testing::HasSubstr;

TEST(PostgresSql, ParametersAndIndexHintsAreTranslated) {
  int parameters = 0;
  EXPECT_EQ(sql::ToPostgres("SELECT a FROM t INDEXED BY t_i WHERE a = ? AND b = ?", &parameters),
            "SELECT a FROM t WHERE a = $1 AND b = $2");
  EXPECT_EQ(parameters, 2);
  EXPECT_EQ(sql::ToPostgres("UPDATE t SET a = ?2 WHERE b = ?1 OR c = ?2", &parameters),
            "UPDATE t SET a = $2 WHERE b = $1 OR c = $2");
  EXPECT_EQ(parameters, 2);
  // Inside quotes a question mark is text.
  EXPECT_EQ(sql::ToPostgres("SELECT '?', \"a?\" FROM t WHERE x = ?"),
            "SELECT '?', \"a?\" FROM t WHERE x = $1");
}

class StorePostgres : public StoreTest {
 protected:
  void SetUp() override {
    if (!OnPostgres()) GTEST_SKIP() << "PostgreSQL only";
    StoreTest::SetUp();
    ASSERT_TRUE(store().ApplyCampaign(
        File("a.yaml", "a", "h1"), {Spec("one", "once", kT0 - 1s), Spec("two", "once", kT0 - 1s)},
        kT0, kT0));
  }
  void Lease(const std::string& sql) { pg_conn_->Exec(sql); }
};

TEST_F(StorePostgres, AClaimIsRefusedWithoutTheLeaseAtItsEpoch) {
  const int64_t one = JobNamed("one").id;
  // Another daemon took the lease over (the epoch moved on): this one's claim is refused.
  Lease("UPDATE broadcastd_lease SET holder = 'other', epoch = epoch + 1");
  auto claim = store().ClaimForSending(one, Instant(kT0));
  ASSERT_FALSE(claim.has_value());
  EXPECT_EQ(claim.error().kind, ErrorKind::kConflict);
  EXPECT_THAT(claim.error().message, HasSubstr("no longer holds the sender lease"));
  EXPECT_EQ(JobNamed("one").state, JobState::kReady);
  EXPECT_TRUE(store().AttemptsOf(one).value().empty());

  // Back to this daemon, but expired by the database's clock: still refused.
  Lease("UPDATE broadcastd_lease SET holder = 'store-test', epoch = " +
        std::to_string(fence_->epoch) + ", expires_at = clock_timestamp() - interval '1 second'");
  EXPECT_EQ(store().ClaimForSending(one, Instant(kT0)).error().kind, ErrorKind::kConflict);

  // Held and current: the claim goes through.
  Lease("UPDATE broadcastd_lease SET expires_at = clock_timestamp() + interval '1 hour'");
  EXPECT_TRUE(store().ClaimForSending(one, Instant(kT0)).has_value());

  // A store without a fence (an operator command) never claims.
  auto op = Store::OpenPostgres(pg_->uri(), Store::Mode::kReadWriteExisting);
  ASSERT_TRUE(op.has_value()) << op.error().message;
  EXPECT_EQ(op->ClaimForSending(JobNamed("two").id, Instant(kT0)).error().kind,
            ErrorKind::kConflict);
}

TEST_F(StorePostgres, TheQueueIsReadInPagesEachQueuedJobOnceInIdOrder) {
  // 25,000 more jobs (two and a half pages), every seventh of them already sent. Without
  // the per-endpoint counts: 25,000 updates of one job_counts row in one transaction take
  // seconds, and only the queue is read here.
  Lease(
      "ALTER TABLE jobs DISABLE TRIGGER job_counts_insert_delete; "
      "INSERT INTO jobs (campaign_ref, campaign_id, broadcast, occurrence, app, target, body, "
      "state, due, priority, attempts, created_at, updated_at) "
      "SELECT c.id, 'a', 'bulk' || g, 'once', j.app, 'users', '{}', "
      "CASE WHEN g % 7 = 0 THEN 'sent' ELSE 'scheduled' END, 0, 0, 0, 0, 0 "
      "FROM generate_series(1, 25000) g, campaigns c, (SELECT app FROM jobs LIMIT 1) j "
      "WHERE c.campaign_id = 'a'; "
      "ALTER TABLE jobs ENABLE TRIGGER job_counts_insert_delete");
  std::vector<int64_t> ids;
  auto n = store().ForEachQueuedJob([&](const QueuedJobRow& row) {
    EXPECT_TRUE(IsQueued(row.state));
    ids.push_back(row.id);
  });
  ASSERT_TRUE(n.has_value()) << n.error().message;
  const int64_t queued = 2 + 25000 - 25000 / 7;
  EXPECT_EQ(*n, queued);
  EXPECT_EQ(static_cast<int64_t>(ids.size()), queued);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end());  // none twice
}

TEST_F(StorePostgres, AClaimIsRefusedWhenTheSharedAuditShowsTheWindowFull) {
  // chatrooms' limits: 1 per second, 10 per minute, 100 a day.
  const Store::AuditCheck check{DefaultLimits(BroadcastTarget::kChatrooms), kT0 - 8h};
  ASSERT_TRUE(
      store().ApplyCampaign(File("r.yaml", "r", "h1"),
                            {Spec("r1", "once", kT0 - 1s, "{}", BroadcastTarget::kChatrooms),
                             Spec("r2", "once", kT0 - 1s, "{}", BroadcastTarget::kChatrooms),
                             Spec("r3", "once", kT0 - 1s, "{}", BroadcastTarget::kChatrooms)},
                            kT0, kT0));
  // Another sender's attempt 600 ms ago: the 1-second window is full.
  Attempt(JobNamed("r1").id, OutcomeClass::kSent, kT0 - 600ms, "1");
  auto refused = store().ClaimForSending(JobNamed("r2").id, Instant(kT0), &check);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().kind, ErrorKind::kConflict);
  EXPECT_THAT(refused.error().message, HasSubstr("in the last 1000 ms (the window allows 1)"));
  EXPECT_EQ(JobNamed("r2").state, JobState::kReady);
  // A second later the window has room.
  EXPECT_TRUE(store().ClaimForSending(JobNamed("r2").id, Instant(kT0 + 500ms), &check).has_value());

  // A day whose budget the audit shows spent.
  Store::AuditCheck spent = check;
  spent.limits.daily = 2;
  auto over = store().ClaimForSending(JobNamed("r3").id, Instant(kT0 + 5s), &spent);
  ASSERT_FALSE(over.has_value());
  EXPECT_THAT(over.error().message, HasSubstr("today's budget"));
  // Attempts before the day's start do not count.
  spent.day_start = kT0 + 1s;
  EXPECT_TRUE(store().ClaimForSending(JobNamed("r3").id, Instant(kT0 + 5s), &spent).has_value());
}

TEST_F(StorePostgres, OtherConnectionsCommitsAreNoticedNotOwnOnes) {
  const int64_t start = store().DataVersion().value();
  ASSERT_TRUE(store().Pause("main", BroadcastTarget::kUsers, "own write", kT0));
  // PostgreSQL hands a listening session the notifications of its own transaction before
  // the COMMIT's ReadyForQuery: the COMMIT's reply has brought it, had it been counted.
  EXPECT_EQ(store().DataVersion().value(), start);

  auto op = OpenStore(Store::Mode::kReadWriteExisting);
  ASSERT_TRUE(op.has_value());
  ASSERT_TRUE(op->CancelJob(JobNamed("two").id, kT0));
  // Waits on the socket for the other connection's notification (bounded).
  const int socket = store().NotifySocket();
  ASSERT_GE(socket, 0);
  int64_t seen = start;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (seen == start && std::chrono::steady_clock::now() < deadline) {
    pollfd ready{socket, POLLIN, 0};
    ::poll(&ready, 1, 100);
    seen = store().DataVersion().value();
  }
  // One commit of another connection: one change, counted once.
  EXPECT_EQ(seen, start + 1);
}

TEST_F(StorePostgres, AKilledConnectionIsUnavailableThenReconnects) {
  // A connection of its own, named so that only it is killed (tests run side by side).
  auto victim =
      Store::OpenPostgres(pg_->uri() + "&application_name=victim_" + std::to_string(::getpid()),
                          Store::Mode::kReadWrite);
  ASSERT_TRUE(victim.has_value()) << victim.error().message;
  Lease("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'victim_" +
        std::to_string(::getpid()) + "'");
  auto lost = victim->Jobs();
  ASSERT_FALSE(lost.has_value());
  EXPECT_EQ(lost.error().kind, ErrorKind::kUnavailable);
  // The next statement connects again.
  auto jobs = victim->Jobs();
  ASSERT_TRUE(jobs.has_value()) << jobs.error().message;
  EXPECT_EQ(jobs->size(), 2u);
}

TEST_F(StorePostgres, ABatchWhoseConnectionIsLostIsLostWholeAndTheStoreGoesOn) {
  const std::string name = "victim_batch_" + std::to_string(::getpid());
  auto victim =
      Store::OpenPostgres(pg_->uri() + "&application_name=" + name, Store::Mode::kReadWrite);
  ASSERT_TRUE(victim.has_value()) << victim.error().message;
  ASSERT_TRUE(victim->BeginBatch().has_value());
  ASSERT_TRUE(victim->ApplyCampaign(File("b.yaml", "b", "h1"), {Spec("x", "once", kT0)}, kT0, kT0));
  Lease("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '" + name +
        "'");
  // The rest of the batch fails, and is not committed piecemeal on a new connection.
  auto next = victim->ApplyCampaign(File("c.yaml", "c", "h1"), {Spec("y", "once", kT0)}, kT0, kT0);
  ASSERT_FALSE(next.has_value());
  EXPECT_EQ(next.error().kind, ErrorKind::kUnavailable);
  EXPECT_FALSE(victim->CommitBatch().has_value());
  EXPECT_FALSE(victim->InBatch());
  // The store connects again for the next write; nothing of the batch landed.
  ASSERT_TRUE(victim->Pause("main", BroadcastTarget::kUsers, "after", kT0));
  EXPECT_EQ(store().HolderOf("b").value(), std::nullopt);
  EXPECT_EQ(store().HolderOf("c").value(), std::nullopt);
  EXPECT_EQ(store().Pauses().value().size(), 1u);
}

TEST_F(StorePostgres, StoresRacingToCreateTheSchemaFindOne) {
  PgTestDb fresh("_fresh");
  std::vector<std::thread> threads;
  std::vector<std::string> errors(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      auto opened = Store::OpenPostgres(fresh.uri(), Store::Mode::kReadWrite);
      if (!opened) errors[i] = opened.error().message;
    });
  }
  for (auto& t : threads) t.join();
  for (const std::string& e : errors) EXPECT_EQ(e, "");
  auto reader = Store::OpenPostgres(fresh.uri(), Store::Mode::kReadOnly);
  ASSERT_TRUE(reader.has_value()) << reader.error().message;
  EXPECT_EQ(reader->SchemaVersion().value(), CurrentSchemaVersion());
  EXPECT_FALSE(reader->Pause("main", BroadcastTarget::kUsers, "x", kT0).has_value());
}

// Migration 9 on PostgreSQL: a database made at version 8 gets its operator actions' scope
// from what their detail says.
TEST_F(StorePostgres, AVersionEightDatabaseGetsEachOperatorActionsScope) {
  PgTestDb old("_v8");
  ASSERT_TRUE(Store::OpenPostgres(old.uri(), Store::Mode::kReadWrite).has_value());
  {
    auto conn = old.Connect();
    conn->Exec(
        "BEGIN; ALTER TABLE operator_actions DROP COLUMN scope; "
        "DROP TABLE campaign_signatures; DROP TABLE signature_checks; "
        "ALTER TABLE attempts DROP COLUMN signers; "
        "UPDATE broadcastd_schema SET version = 8; "
        "INSERT INTO operator_actions (at, action, job_id, detail) VALUES "
        "(10, 'cancel_campaign', NULL, 'campaign new-year.2030: 3 jobs cancelled'), "
        "(11, 'pause', NULL, 'main online_users: vendor incident'), "
        "(12, 'resume', NULL, 'main online_users'); COMMIT");
  }
  auto upgraded = Store::OpenPostgres(old.uri(), Store::Mode::kReadWrite);
  ASSERT_TRUE(upgraded.has_value()) << upgraded.error().message;
  EXPECT_EQ(upgraded->SchemaVersion().value(), CurrentSchemaVersion());
  auto actions = upgraded->OperatorActions().value();
  ASSERT_EQ(actions.size(), 3u);
  EXPECT_EQ(actions[0].scope, CampaignScope("new-year.2030"));
  EXPECT_EQ(actions[1].scope, EndpointScope("main", BroadcastTarget::kOnlineUsers));
  EXPECT_EQ(actions[2].scope, EndpointScope("main", BroadcastTarget::kOnlineUsers));
}

TEST_F(StorePostgres, ReadOnlyOnADatabaseWithoutTablesSaysSo) {
  PgTestDb empty("_empty");
  auto opened = Store::OpenPostgres(empty.uri(), Store::Mode::kReadOnly);
  ASSERT_FALSE(opened.has_value());
  EXPECT_THAT(opened.error().message, HasSubstr("no broadcastd tables"));
  EXPECT_THAT(opened.error().message, ::testing::Not(HasSubstr("password")));
}

TEST_F(StorePostgres, AnUnreachableServerIsUnavailableAndNamesIt) {
  auto opened = Store::OpenPostgres("postgresql://nobody@127.0.0.1:1/none", Store::Mode::kReadWrite,
                                    "s3cret");
  ASSERT_FALSE(opened.has_value());
  EXPECT_EQ(opened.error().kind, ErrorKind::kUnavailable);
  EXPECT_THAT(opened.error().message, HasSubstr("127.0.0.1:1"));
  EXPECT_THAT(opened.error().message, ::testing::Not(HasSubstr("s3cret")));
}

}  // namespace
}  // namespace broadcastd::testing_store
