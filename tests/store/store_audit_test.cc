// The audit export (Store::ForEachAuditEntry) on both backends: attempts and operator
// actions merged in time order, the filters, and an audit larger than one PostgreSQL
// cursor batch read whole and in order.

#include <gmock/gmock.h>

#include <string>
#include <vector>

#include "store/sql_postgres.h"
#include "store_test_support.h"

namespace broadcastd::testing_store {
namespace {

using ::testing::ElementsAre;

class StoreAudit : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(store().ApplyCampaign(File("a.yaml", "a", "h1"),
                                      {Spec("one", "once", kT0 - 1s), Spec("two", "once", kT0 - 1s),
                                       Spec("three", "once", kT0 - 1s)},
                                      kT0 - 1s, kT0 - 1s));
    Store::JobSpec other = Spec("x", "2027-01-14T08:00:00Z", kT0 - 1s);
    other.app = "other";
    ASSERT_TRUE(store().ApplyCampaign(Store::CampaignFile{"b.yaml", "b", "h2", "other", 0}, {other},
                                      kT0 - 1s, kT0 - 1s));
    ASSERT_TRUE(store().PromoteDue(kT0).has_value());
  }

  // "kind@seconds after kT0:what" for each entry the filter selects.
  std::vector<std::string> Export(const AuditFilter& filter = {}) {
    std::vector<std::string> lines;
    auto n = store().ForEachAuditEntry(filter, [&](const AuditEntry& e) {
      const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(e.at - kT0).count();
      std::string what = e.kind == AuditEntry::Kind::kAttempt
                             ? "attempt@" + std::to_string(seconds) + ":" +
                                   std::string(e.broadcast) + " " + std::string(e.outcome)
                             : "action@" + std::to_string(seconds) + ":" + std::string(e.action);
      what +=
          " " + std::string(e.campaign_id) + " " + std::string(e.app) + "/" + std::string(e.target);
      lines.push_back(what);
      return true;
    });
    EXPECT_TRUE(n.has_value()) << n.error().message;
    if (n) {
      EXPECT_EQ(*n, static_cast<int64_t>(lines.size()));
    }
    return lines;
  }
};

TEST_F(StoreAudit, AttemptsAndOperatorActionsComeMergedInTimeOrder) {
  const int64_t one = JobNamed("one").id, two = JobNamed("two").id;
  Attempt(one, OutcomeClass::kRetry, kT0);
  Attempt(two, OutcomeClass::kSent, kT0 + 10s, "123");
  Attempt(one, OutcomeClass::kRetry, kT0 + 20s);
  ASSERT_TRUE(store().Pause("main", BroadcastTarget::kUsers, "maintenance", kT0 + 20s));
  ASSERT_TRUE(store().Resume("main", BroadcastTarget::kUsers, kT0 + 30s));
  ASSERT_TRUE(store().CancelJob(JobNamed("three").id, kT0 + 40s));
  Attempt(JobNamed("x", "2027-01-14T08:00:00Z").id, OutcomeClass::kUnknown, kT0 + 50s);

  // At the same millisecond the attempt comes before the action.
  EXPECT_THAT(Export(),
              ElementsAre("attempt@0:one retry a main/users", "attempt@10:two sent a main/users",
                          "attempt@20:one retry a main/users", "action@20:pause  main/users",
                          "action@30:resume  main/users", "action@40:cancel_job a main/users",
                          "attempt@50:x unknown b other/users"));

  // The time bounds: from `since`, before `until`.
  EXPECT_THAT(Export({.since = kT0 + 20s, .until = kT0 + 40s}),
              ElementsAre("attempt@20:one retry a main/users", "action@20:pause  main/users",
                          "action@30:resume  main/users"));
  // A campaign: its jobs' attempts and the actions on them (not those on an endpoint).
  EXPECT_THAT(
      Export({.campaign_id = "a"}),
      ElementsAre("attempt@0:one retry a main/users", "attempt@10:two sent a main/users",
                  "attempt@20:one retry a main/users", "action@40:cancel_job a main/users"));
  // An app: its attempts, the actions on its jobs and on its endpoints.
  EXPECT_THAT(Export({.app = "other"}), ElementsAre("attempt@50:x unknown b other/users"));
  EXPECT_THAT(Export({.since = kT0 + 15s, .app = "main"}),
              ElementsAre("attempt@20:one retry a main/users", "action@20:pause  main/users",
                          "action@30:resume  main/users", "action@40:cancel_job a main/users"));
  EXPECT_TRUE(Export({.campaign_id = "none"}).empty());

  // The attempt's answer as recorded.
  std::vector<AuditEntry> sent;
  std::vector<std::string> ids;
  ASSERT_TRUE(
      store().ForEachAuditEntry({.since = kT0 + 10s, .until = kT0 + 11s}, [&](const AuditEntry& e) {
        sent.push_back(e);
        ids.emplace_back(e.broadcast_id.value_or("none"));
        return true;
      }));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].job_id, two);
  EXPECT_EQ(sent[0].http_status, 200);
  EXPECT_EQ(ids[0], "123");
}

TEST_F(StoreAudit, EachStopsWhenTheCallerSaysSo) {
  Attempt(JobNamed("one").id, OutcomeClass::kRetry, kT0);
  Attempt(JobNamed("two").id, OutcomeClass::kRetry, kT0 + 1s);
  int calls = 0;
  auto n = store().ForEachAuditEntry({}, [&](const AuditEntry&) { return ++calls < 1; });
  ASSERT_TRUE(n.has_value()) << n.error().message;
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(*n, 1);
  // Nothing was left open: the store reads and writes on.
  EXPECT_TRUE(store().CancelJob(JobNamed("three").id, kT0 + 2s));
}

TEST_F(StoreAudit, AnAuditLargerThanACursorBatchIsReadWholeInTimeOrder) {
  // Attempts inserted with times that run backwards against their ids, two to a
  // millisecond: the order is the time's, then the id's, never the insertion's.
  const int n = 3 * sql::PgConnection::kCursorBatch + 7;
  const int64_t job = JobNamed("one").id;
  const std::string values = "SELECT " + std::to_string(job) + ", 'main', 'users', " +
                             std::to_string(ToMillis(kT0)) + " + (" + std::to_string(n) +
                             " - g) / 2, 'retry' FROM ";
  const std::string insert =
      "INSERT INTO attempts (job_id, app, target, started_at, outcome) " + values;
  if (pg_) {
    pg_conn_->Exec(insert + "generate_series(1, " + std::to_string(n) + ") g");
  } else {
    SQLite::Database db(db_path_, SQLite::OPEN_READWRITE);
    db.exec("WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < " +
            std::to_string(n) + ") " + insert + "s");
  }
  int64_t last_at = INT64_MIN, last_id = 0, count = 0;
  auto handed = store().ForEachAuditEntry({}, [&](const AuditEntry& e) {
    const int64_t at = ToMillis(e.at);
    EXPECT_TRUE(at > last_at || (at == last_at && e.id > last_id)) << "entry " << count;
    last_at = at;
    last_id = e.id;
    ++count;
    return true;
  });
  ASSERT_TRUE(handed.has_value()) << handed.error().message;
  EXPECT_EQ(count, n);
  EXPECT_EQ(*handed, n);
}

}  // namespace
}  // namespace broadcastd::testing_store
