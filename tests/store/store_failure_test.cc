// The store's failures and refusals have kinds; a full disk (through the fault VFS)
// leaves the database exactly as before and the store usable once it heals; the
// outcome carries the attempt's real start; app notices.

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "fakes/fault_vfs.h"
#include "store/store.h"
#include "store_test_support.h"

namespace broadcastd::testing_store {
namespace {

class StoreFailure : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    ASSERT_TRUE(store().ApplyCampaign(
        File("a.yaml", "a", "h1"), {Spec("one", "once", kT0 - 1s), Spec("two", "once", kT0 - 1s)},
        kT0, kT0));
  }
  void TearDown() override { FaultVfs::Get().Heal(); }
};

TEST_F(StoreFailure, RefusalsAreConflictsAndMissingJobsNotFound) {
  JobRow one = JobNamed("one");
  ASSERT_TRUE(store().ClaimForSending(one.id, Instant(kT0)).has_value());
  EXPECT_EQ(store().ClaimForSending(one.id, Instant(kT0)).error().kind, ErrorKind::kConflict);
  EXPECT_EQ(store().ExpireJob(one.id, kT0).error().kind, ErrorKind::kConflict);
  EXPECT_EQ(store().ClaimForSending(4242, Instant(kT0)).error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(store().ExpireJob(4242, kT0).error().kind, ErrorKind::kNotFound);
  JobRow two = JobNamed("two");
  ASSERT_TRUE(store().Pause("main", two.target, "by hand", kT0));
  EXPECT_EQ(store().ClaimForSending(two.id, Instant(kT0)).error().kind, ErrorKind::kConflict);
}

TEST_F(StoreFailure, OutcomeRecordsWhenTheRequestReallyStarted) {
  JobRow one = JobNamed("one");
  int64_t attempt = store().ClaimForSending(one.id, Instant(kT0)).value();
  Store::AttemptOutcome o;
  o.outcome = OutcomeClass::kSent;
  o.broadcast_id = "5";
  o.started_at = Instant(kT0 + 1500ms);
  ASSERT_TRUE(store().RecordOutcome(one.id, attempt, o, Instant(kT0 + 2s)));
  auto rows = store().AttemptsOf(one.id).value();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].started_at, kT0 + 1500ms);
  EXPECT_EQ(store().RecordOutcome(one.id, attempt, o, Instant(kT0 + 3s)).error().kind,
            ErrorKind::kConflict);  // a second outcome for one attempt
}

TEST_F(StoreFailure, DiskFullIsIoChangesNothingAndHeals) {
  store_.reset();
  FaultVfs::Get().Heal();  // registers the VFS
  auto opened = Store::Open(db_path_, Store::Mode::kReadWrite, FaultVfs::kName);
  ASSERT_TRUE(opened.has_value()) << opened.error().message;
  store_.emplace(std::move(*opened));
  JobRow one = JobNamed("one");
  int64_t attempt = store().ClaimForSending(one.id, Instant(kT0)).value();

  FaultVfs::Get().Arm(FaultVfs::kWrite | FaultVfs::kSync, 0, SQLITE_FULL);
  Store::AttemptOutcome o;
  o.outcome = OutcomeClass::kSent;
  o.broadcast_id = "1365344904091349007";
  Status st = store().RecordOutcome(one.id, attempt, o, Instant(kT0 + 1s));
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().kind, ErrorKind::kIo);
  EXPECT_GT(FaultVfs::Get().failures(), 0);
  EXPECT_EQ(JobNamed("one").state, JobState::kSending);  // rolled back
  auto claim = store().ClaimForSending(JobNamed("two").id, Instant(kT0));
  ASSERT_FALSE(claim.has_value());
  EXPECT_EQ(claim.error().kind, ErrorKind::kIo);

  FaultVfs::Get().Heal();
  ASSERT_TRUE(store().RecordOutcome(one.id, attempt, o, Instant(kT0 + 2s))) << "the store recovers";
  EXPECT_EQ(JobNamed("one").state, JobState::kSent);
  EXPECT_EQ(JobNamed("one").broadcast_id, "1365344904091349007");
  EXPECT_TRUE(store().ClaimForSending(JobNamed("two").id, Instant(kT0)).has_value());
}

TEST_F(StoreFailure, AppNoticesKeepTheirFirstTimeAndClear) {
  ASSERT_TRUE(store().SetAppNotice({"main", "token", "first", kT0}));
  ASSERT_TRUE(store().SetAppNotice({"main", "token", "second", kT0 + 1h}));
  ASSERT_TRUE(store().SetAppNotice({"other", "token", "x", kT0}));
  auto notices = store().AppNotices().value();
  ASSERT_EQ(notices.size(), 2u);
  EXPECT_EQ(notices[0].message, "second");
  EXPECT_EQ(notices[0].since, kT0);
  ASSERT_TRUE(store().ClearAppNotice("main", "token"));
  EXPECT_EQ(store().AppNotices().value().size(), 1u);
  ASSERT_TRUE(store().ClearAppNotice("", "token"));
  EXPECT_TRUE(store().AppNotices().value().empty());
}

}  // namespace
}  // namespace broadcastd::testing_store
