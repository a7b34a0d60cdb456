#include "ha/sender_lease.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <pqxx/pqxx>
#include <random>
#include <thread>

#include "fakes/fake_clock.h"
#include "pg_test_db.h"

namespace broadcastd {
namespace {

using namespace std::chrono_literals;

class SenderLeaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    admin_ = db_.Connect();
    ASSERT_TRUE(SenderLease::CreateSchema(*admin_));
  }

  // The database's clock passing the lease's expiry, without waiting for it.
  void ExpireLease() {
    pqxx::work tx(*admin_);
    tx.exec("UPDATE broadcastd_lease SET expires_at = clock_timestamp() - interval '1 ms'");
    tx.commit();
  }

  LeaseTick MustTick(SenderLease& lease) {
    auto tick = lease.Tick();
    EXPECT_TRUE(tick) << tick.error().message;
    return tick ? *tick : LeaseTick{};
  }

  PgTestDb db_;
  std::unique_ptr<pqxx::connection> admin_;
  FakeClock clock_{FromMillis(1'800'000'000'000)};
};

TEST_F(SenderLeaseTest, TheFirstTickTakesTheLeaseAndTheOthersStandBy) {
  auto ca = db_.Connect(), cb = db_.Connect();
  SenderLease a(*ca, "host-a", {.ttl = 15s}, clock_);
  SenderLease b(*cb, "host-b", {.ttl = 15s}, clock_);

  LeaseTick ta = MustTick(a);
  EXPECT_EQ(ta.role, LeaseRole::kLeader);
  EXPECT_TRUE(ta.acquired);
  EXPECT_EQ(ta.epoch, 1);
  EXPECT_EQ(ta.previous_holder, "");
  EXPECT_EQ(ta.valid_until, clock_.Monotonic() + 15s);
  EXPECT_EQ(ta.lease.expires - ta.lease.since, 15s);

  LeaseTick tb = MustTick(b);
  EXPECT_EQ(tb.role, LeaseRole::kStandby);
  EXPECT_FALSE(tb.acquired);
  EXPECT_EQ(tb.lease.holder, "host-a");
  EXPECT_EQ(tb.lease.epoch, 1);
}

TEST_F(SenderLeaseTest, ARenewalKeepsTheEpochAndPushesTheExpiry) {
  auto ca = db_.Connect();
  SenderLease a(*ca, "host-a", {.ttl = 15s}, clock_);
  LeaseTick first = MustTick(a);
  clock_.Advance(5s);
  LeaseTick again = MustTick(a);
  EXPECT_EQ(again.role, LeaseRole::kLeader);
  EXPECT_FALSE(again.acquired);
  EXPECT_EQ(again.epoch, first.epoch);
  EXPECT_EQ(again.lease.since, first.lease.since);
  EXPECT_GE(again.lease.expires, first.lease.expires);
  EXPECT_EQ(again.valid_until, first.valid_until + 5s);
}

TEST_F(SenderLeaseTest, AnExpiredLeaseIsTakenOverUnderANewEpochAndTheOldHolderStandsBy) {
  auto ca = db_.Connect(), cb = db_.Connect();
  SenderLease a(*ca, "host-a", {.ttl = 15s}, clock_);
  SenderLease b(*cb, "host-b", {.ttl = 15s}, clock_);
  ASSERT_EQ(MustTick(a).role, LeaseRole::kLeader);
  ASSERT_EQ(MustTick(b).role, LeaseRole::kStandby);

  ExpireLease();
  LeaseTick tb = MustTick(b);
  EXPECT_EQ(tb.role, LeaseRole::kLeader);
  EXPECT_TRUE(tb.acquired);
  EXPECT_EQ(tb.epoch, 2);
  EXPECT_EQ(tb.previous_holder, "host-a");

  LeaseTick ta = MustTick(a);
  EXPECT_EQ(ta.role, LeaseRole::kStandby);
  EXPECT_EQ(ta.lease.holder, "host-b");
}

TEST_F(SenderLeaseTest, AHolderThatStalledPastATakeOverCannotClaim) {
  auto ca = db_.Connect(), cb = db_.Connect();
  SenderLease a(*ca, "host-a", {.ttl = 15s}, clock_);
  SenderLease b(*cb, "host-b", {.ttl = 15s}, clock_);
  const int64_t epoch_a = MustTick(a).epoch;
  {
    pqxx::work claim(*ca);
    EXPECT_TRUE(SenderLease::CheckHeld(claim, "host-a", epoch_a));
  }
  ExpireLease();
  const int64_t epoch_b = MustTick(b).epoch;

  // host-a wakes up and tries to claim under the epoch it knew.
  pqxx::work stale(*ca);
  Status held = SenderLease::CheckHeld(stale, "host-a", epoch_a);
  ASSERT_FALSE(held);
  EXPECT_TRUE(held.error().Is(ErrorKind::kConflict));
  stale.abort();
  pqxx::work fresh(*cb);
  EXPECT_TRUE(SenderLease::CheckHeld(fresh, "host-b", epoch_b));
}

TEST_F(SenderLeaseTest, AnExpiredLeaseFencesItsHolderEvenBeforeAnyoneTakesIt) {
  auto ca = db_.Connect();
  SenderLease a(*ca, "host-a", {.ttl = 15s}, clock_);
  const int64_t epoch = MustTick(a).epoch;
  ExpireLease();
  pqxx::work claim(*ca);
  Status held = SenderLease::CheckHeld(claim, "host-a", epoch);
  ASSERT_FALSE(held);
  EXPECT_TRUE(held.error().Is(ErrorKind::kConflict));
}

TEST_F(SenderLeaseTest, ATakeOverWaitsForAClaimInProgressAndThenSeesItsJobSending) {
  {
    pqxx::work tx(*admin_);
    tx.exec("CREATE TABLE jobs (id bigint PRIMARY KEY, state text NOT NULL)");
    tx.exec("INSERT INTO jobs VALUES (7, 'ready')");
    tx.commit();
  }
  auto ca = db_.Connect(), cb = db_.Connect();
  // A short lease: the database's own clock must pass it while the claim holds the row.
  SenderLease a(*ca, "host-a", {.ttl = 300ms}, clock_);
  SenderLease b(*cb, "host-b", {.ttl = 15s}, clock_);
  const int64_t epoch = MustTick(a).epoch;

  pqxx::work claim(*ca);
  ASSERT_TRUE(SenderLease::CheckHeld(claim, "host-a", epoch));
  claim.exec("UPDATE jobs SET state = 'sending' WHERE id = 7");
  // Wait for the database's clock to pass the expiry (about 300 ms).
  for (int i = 0; i < 100; ++i) {
    pqxx::work probe(*admin_);
    if (probe.exec1("SELECT clock_timestamp() > expires_at FROM broadcastd_lease")[0].as<bool>()) {
      break;
    }
    std::this_thread::sleep_for(20ms);
  }

  auto take_over = std::async(std::launch::async, [&] { return b.Tick(); });
  // The take-over is blocked on the claim's lock, not finished before it.
  bool waiting = false;
  for (int i = 0; i < 250 && !waiting; ++i) {
    pqxx::work probe(*admin_);
    waiting = probe
                  .exec1(
                      "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                      " AND datname = current_database()")[0]
                  .as<int>() > 0;
    if (!waiting) std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(waiting) << "the take-over did not wait for the claim's transaction";
  ASSERT_EQ(take_over.wait_for(0s), std::future_status::timeout);
  claim.commit();

  auto tick = take_over.get();
  ASSERT_TRUE(tick) << tick.error().message;
  EXPECT_TRUE(tick->acquired);
  EXPECT_EQ(tick->epoch, epoch + 1);
  pqxx::work look(*cb);
  EXPECT_EQ(look.exec1("SELECT state FROM jobs WHERE id = 7")[0].as<std::string>(), "sending");
}

TEST_F(SenderLeaseTest, ReleaseLetsAStandbyTakeOverAtItsNextTick) {
  auto ca = db_.Connect(), cb = db_.Connect();
  SenderLease a(*ca, "host-a", {.ttl = 15s}, clock_);
  SenderLease b(*cb, "host-b", {.ttl = 15s}, clock_);
  const int64_t epoch = MustTick(a).epoch;
  ASSERT_EQ(MustTick(b).role, LeaseRole::kStandby);
  ASSERT_TRUE(a.Release(epoch));
  LeaseTick tb = MustTick(b);
  EXPECT_EQ(tb.role, LeaseRole::kLeader);
  EXPECT_EQ(tb.previous_holder, "host-a");
}

TEST_F(SenderLeaseTest, AReleaseUnderAnOldEpochChangesNothing) {
  auto ca = db_.Connect(), cb = db_.Connect();
  SenderLease a(*ca, "host-a", {.ttl = 15s}, clock_);
  SenderLease b(*cb, "host-b", {.ttl = 15s}, clock_);
  const int64_t old_epoch = MustTick(a).epoch;
  ExpireLease();
  ASSERT_EQ(MustTick(b).role, LeaseRole::kLeader);
  // host-a stops late and releases what it believes it holds.
  ASSERT_TRUE(a.Release(old_epoch));
  auto lease = SenderLease::Current(*admin_);
  ASSERT_TRUE(lease);
  EXPECT_EQ(lease->holder, "host-b");
  EXPECT_FALSE(lease->Expired());
}

TEST_F(SenderLeaseTest, NodesListsEveryDaemonAndWhichHoldsTheLease) {
  auto ca = db_.Connect(), cb = db_.Connect();
  SenderLease a(*ca, "host-a", {.ttl = 15s}, clock_);
  SenderLease b(*cb, "host-b", {.ttl = 15s}, clock_);
  MustTick(a);
  MustTick(b);
  auto nodes = SenderLease::Nodes(*admin_);
  ASSERT_TRUE(nodes) << nodes.error().message;
  ASSERT_EQ(nodes->size(), 2u);
  EXPECT_EQ((*nodes)[0].node, "host-a");
  EXPECT_TRUE((*nodes)[0].holder);
  EXPECT_EQ((*nodes)[1].node, "host-b");
  EXPECT_FALSE((*nodes)[1].holder);
  EXPECT_GE((*nodes)[1].ago, 0ms);
}

TEST_F(SenderLeaseTest, ConcurrentDaemonsNeverHoldOneEpochTogether) {
  constexpr int kDaemons = 3;
  constexpr int kTicks = 150;
  std::vector<std::unique_ptr<pqxx::connection>> conns;
  for (int i = 0; i < kDaemons; ++i) conns.push_back(db_.Connect());
  std::mutex mu;
  std::map<int64_t, std::set<std::string>> holders_by_epoch;
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kDaemons; ++i) {
    threads.emplace_back([&, i] {
      SenderLease lease(*conns[i], "host-" + std::to_string(i), {.ttl = 15s}, clock_);
      for (int n = 0; n < kTicks; ++n) {
        auto tick = lease.Tick();
        ASSERT_TRUE(tick) << tick.error().message;
        if (tick->role != LeaseRole::kLeader) continue;
        // The claim check agrees with the tick while the epoch lasts.
        pqxx::work claim(*conns[i]);
        const bool held = bool(SenderLease::CheckHeld(claim, lease.node(), tick->epoch));
        claim.commit();
        std::lock_guard lock(mu);
        if (held) holders_by_epoch[tick->epoch].insert(lease.node());
      }
    });
  }
  // The database's clock passing expiries at random moments.
  std::thread expirer([&] {
    auto conn = db_.Connect();
    std::mt19937 rng(42);
    while (!done.load()) {
      pqxx::work tx(*conn);
      tx.exec("UPDATE broadcastd_lease SET expires_at = clock_timestamp() - interval '1 ms'");
      tx.commit();
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 5));
    }
  });
  for (auto& t : threads) t.join();
  done = true;
  expirer.join();

  ASSERT_GT(holders_by_epoch.size(), 3u) << "the lease never changed hands";
  for (const auto& [epoch, holders] : holders_by_epoch) {
    EXPECT_EQ(holders.size(), 1u) << "epoch " << epoch << " held by " << holders.size();
  }
}

TEST_F(SenderLeaseTest, ALostConnectionIsUnavailable) {
  auto ca = db_.Connect();
  SenderLease a(*ca, "host-a", {.ttl = 15s}, clock_);
  MustTick(a);
  {
    pqxx::work tx(*admin_);
    tx.exec_params("SELECT pg_terminate_backend($1)", ca->backendpid());
    tx.commit();
  }
  auto tick = a.Tick();
  ASSERT_FALSE(tick);
  EXPECT_TRUE(tick.error().Is(ErrorKind::kUnavailable)) << tick.error().message;
}

}  // namespace
}  // namespace broadcastd
