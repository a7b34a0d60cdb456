// The sender lease (Store::TickSenderLease) among stores sharing one PostgreSQL database,
// as daemons on several hosts share it, and its fence: the production claim
// (Store::ClaimForSending) of a holder that lost the lease is refused.

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "fakes/fake_clock.h"
#include "pg_test_db.h"
#include "store/store.h"

namespace broadcastd {
namespace {

using namespace std::chrono_literals;

const TimePoint kT0 = FromMillis(1'799'913'600'000);

class SenderLeaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    admin_ = db_.Connect();
    probe_ = db_.Connect();
    // The first store makes the schema, the lease's row with it.
    a_ = Open();
    b_ = Open();
  }

  std::unique_ptr<Store> Open() {
    auto opened = Store::OpenPostgres(db_.uri(), Store::Mode::kReadWrite);
    EXPECT_TRUE(opened.has_value()) << opened.error().message;
    return opened ? std::make_unique<Store>(std::move(*opened)) : nullptr;
  }

  // `count` jobs, ready now; their ids in order.
  std::vector<int64_t> Jobs(int count) {
    std::vector<Store::JobSpec> specs;
    for (int i = 0; i < count; ++i) {
      Store::JobSpec spec;
      spec.broadcast = "b" + std::to_string(i);
      spec.occurrence = "once";
      spec.app = "main";
      spec.target = BroadcastTarget::kChatrooms;
      spec.body = R"({"msg":"hello"})";
      spec.due = kT0 - 1s;
      specs.push_back(std::move(spec));
    }
    EXPECT_TRUE(a_->ApplyCampaign({"a.yaml", "a", "h1", "main", 0}, specs, kT0, kT0));
    std::vector<int64_t> ids;
    auto rows = a_->Jobs();
    EXPECT_TRUE(rows.has_value());
    for (const JobRow& job : rows.value()) ids.push_back(job.id);
    return ids;
  }

  // The database's clock passing the lease's expiry, without waiting for it.
  void ExpireLease() {
    admin_->Exec("UPDATE broadcastd_lease SET expires_at = clock_timestamp() - interval '1 ms'");
  }

  Store::LeaseTick MustTick(Store& store, const std::string& node, Duration ttl = 15s) {
    auto tick = store.TickSenderLease(node, ttl, clock_.Monotonic());
    EXPECT_TRUE(tick) << tick.error().message;
    return tick ? *tick : Store::LeaseTick{};
  }

  // The claim as the daemon makes it: fenced by what its last tick gave.
  Result<int64_t> Claim(Store& store, const std::string& node, int64_t epoch, int64_t job) {
    store.set_fence(Store::Fence{node, epoch});
    return store.ClaimForSending(job, Instant{kT0, MonoFromMillis(1000)});
  }

  PgTestDb db_;
  std::unique_ptr<PgAdmin> admin_;
  // Outside any transaction of the test's: pg_stat_activity is read once per transaction.
  std::unique_ptr<PgAdmin> probe_;
  std::unique_ptr<Store> a_, b_;
  FakeClock clock_{FromMillis(1'800'000'000'000)};
};

TEST_F(SenderLeaseTest, TheFirstTickTakesTheLeaseAndTheOthersStandBy) {
  Store::LeaseTick ta = MustTick(*a_, "host-a");
  EXPECT_TRUE(ta.leading);
  EXPECT_TRUE(ta.acquired);
  EXPECT_EQ(ta.lease.epoch, 1);
  EXPECT_EQ(ta.previous_holder, "");
  EXPECT_EQ(ta.valid_until, clock_.Monotonic() + 15s);
  EXPECT_EQ(ta.lease.expires - ta.lease.since, 15s);

  Store::LeaseTick tb = MustTick(*b_, "host-b");
  EXPECT_FALSE(tb.leading);
  EXPECT_FALSE(tb.acquired);
  EXPECT_EQ(tb.lease.holder, "host-a");
  EXPECT_EQ(tb.lease.epoch, 1);
}

TEST_F(SenderLeaseTest, ARenewalKeepsTheEpochAndPushesTheExpiry) {
  Store::LeaseTick first = MustTick(*a_, "host-a");
  clock_.Advance(5s);
  Store::LeaseTick again = MustTick(*a_, "host-a");
  EXPECT_TRUE(again.leading);
  EXPECT_FALSE(again.acquired);
  EXPECT_EQ(again.lease.epoch, first.lease.epoch);
  EXPECT_EQ(again.lease.since, first.lease.since);
  EXPECT_GE(again.lease.expires, first.lease.expires);
  EXPECT_EQ(again.valid_until, first.valid_until + 5s);
}

TEST_F(SenderLeaseTest, AnExpiredLeaseIsTakenOverUnderANewEpochAndTheOldHolderStandsBy) {
  ASSERT_TRUE(MustTick(*a_, "host-a").leading);
  ASSERT_FALSE(MustTick(*b_, "host-b").leading);

  ExpireLease();
  Store::LeaseTick tb = MustTick(*b_, "host-b");
  EXPECT_TRUE(tb.leading);
  EXPECT_TRUE(tb.acquired);
  EXPECT_EQ(tb.lease.epoch, 2);
  EXPECT_EQ(tb.previous_holder, "host-a");

  Store::LeaseTick ta = MustTick(*a_, "host-a");
  EXPECT_FALSE(ta.leading);
  EXPECT_EQ(ta.lease.holder, "host-b");
}

// A holder paused past its lease (a stop signal, a partition) wakes up and claims under
// the epoch it knew: the claim's fence refuses it once another daemon took over.
TEST_F(SenderLeaseTest, APausedHoldersClaimIsRefusedByTheFence) {
  const std::vector<int64_t> jobs = Jobs(3);
  const int64_t epoch_a = MustTick(*a_, "host-a").lease.epoch;
  ASSERT_TRUE(Claim(*a_, "host-a", epoch_a, jobs[0]));
  ExpireLease();
  const int64_t epoch_b = MustTick(*b_, "host-b").lease.epoch;
  ASSERT_EQ(epoch_b, epoch_a + 1);

  auto stale = Claim(*a_, "host-a", epoch_a, jobs[1]);
  ASSERT_FALSE(stale);
  EXPECT_TRUE(stale.error().Is(ErrorKind::kConflict)) << stale.error().message;
  EXPECT_NE(stale.error().message.find("no longer holds the sender lease"), std::string::npos)
      << stale.error().message;
  EXPECT_EQ(a_->Job(jobs[1]).value()->state, JobState::kReady);
  EXPECT_TRUE(a_->AttemptsOf(jobs[1]).value().empty());
  EXPECT_TRUE(Claim(*b_, "host-b", epoch_b, jobs[1]));
}

TEST_F(SenderLeaseTest, AnExpiredLeaseFencesItsHolderEvenBeforeAnyoneTakesIt) {
  const std::vector<int64_t> jobs = Jobs(1);
  const int64_t epoch = MustTick(*a_, "host-a").lease.epoch;
  ExpireLease();
  auto claim = Claim(*a_, "host-a", epoch, jobs[0]);
  ASSERT_FALSE(claim);
  EXPECT_TRUE(claim.error().Is(ErrorKind::kConflict)) << claim.error().message;
}

// The claim's fence locks the lease's row until the claim commits: a take-over, even of
// a lease the database's clock saw expire meanwhile, waits for it and then finds its job
// `sending` (the new holder's recovery then makes it `unknown`, never sends it again).
TEST_F(SenderLeaseTest, ATakeOverWaitsForAClaimInProgressAndThenSeesItsJobSending) {
  const std::vector<int64_t> jobs = Jobs(1);
  // A short lease: the database's own clock must pass it while the claim is under way.
  const int64_t epoch = MustTick(*a_, "host-a", 1s).lease.epoch;
  // The claim is held up after its fence, at the pause check, by a lock of the test's.
  admin_->Exec("BEGIN; LOCK TABLE pauses IN ACCESS EXCLUSIVE MODE");
  auto claim = std::async(std::launch::async, [&] { return Claim(*a_, "host-a", epoch, jobs[0]); });
  auto waiting = [&](const std::string& on) {
    return std::stoi(probe_->Value(
               "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND "
               "wait_event " +
               on + " AND application_name = '" + db_.schema() + "'")) > 0;
  };
  bool claim_waits = false;
  for (int i = 0; i < 500 && !claim_waits; ++i) {
    claim_waits = waiting("= 'relation'");
    if (!claim_waits) std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(claim_waits) << "the claim never reached the pause check";
  // Wait for the database's clock to pass the expiry (about a second).
  for (int i = 0; i < 300; ++i) {
    if (probe_->Value("SELECT clock_timestamp() > expires_at FROM broadcastd_lease") == "t") break;
    std::this_thread::sleep_for(10ms);
  }

  auto take_over =
      std::async(std::launch::async, [&] { return b_->TickSenderLease("host-b", 15s, {}); });
  // The take-over is blocked on the lease's row, which the claim holds, not done before it.
  bool tick_waits = false;
  for (int i = 0; i < 500 && !tick_waits; ++i) {
    tick_waits = waiting("<> 'relation'");
    if (!tick_waits) std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(tick_waits) << "the take-over did not wait for the claim's transaction";
  ASSERT_EQ(take_over.wait_for(0s), std::future_status::timeout);
  admin_->Exec("COMMIT");

  auto claimed = claim.get();
  ASSERT_TRUE(claimed) << claimed.error().message;
  auto tick = take_over.get();
  ASSERT_TRUE(tick) << tick.error().message;
  EXPECT_TRUE(tick->acquired);
  EXPECT_EQ(tick->lease.epoch, epoch + 1);
  EXPECT_EQ(b_->Job(jobs[0]).value()->state, JobState::kSending);
}

TEST_F(SenderLeaseTest, ReleaseLetsAStandbyTakeOverAtItsNextTick) {
  const int64_t epoch = MustTick(*a_, "host-a").lease.epoch;
  ASSERT_FALSE(MustTick(*b_, "host-b").leading);
  ASSERT_TRUE(a_->ReleaseSenderLease("host-a", epoch));
  Store::LeaseTick tb = MustTick(*b_, "host-b");
  EXPECT_TRUE(tb.leading);
  EXPECT_EQ(tb.previous_holder, "host-a");
}

TEST_F(SenderLeaseTest, AReleaseUnderAnOldEpochChangesNothing) {
  const int64_t old_epoch = MustTick(*a_, "host-a").lease.epoch;
  ExpireLease();
  ASSERT_TRUE(MustTick(*b_, "host-b").leading);
  // host-a stops late and releases what it believes it holds.
  ASSERT_TRUE(a_->ReleaseSenderLease("host-a", old_epoch));
  auto lease = a_->SenderLeaseStatus();
  ASSERT_TRUE(lease && *lease) << (lease ? "none" : lease.error().message);
  EXPECT_EQ((*lease)->holder, "host-b");
  EXPECT_GT((*lease)->expires, (*lease)->db_now);
}

TEST_F(SenderLeaseTest, TheStatusListsEveryDaemonAndTheHolder) {
  MustTick(*a_, "host-a");
  MustTick(*b_, "host-b");
  auto lease = b_->SenderLeaseStatus();
  ASSERT_TRUE(lease && *lease) << (lease ? "none" : lease.error().message);
  EXPECT_EQ((*lease)->holder, "host-a");
  ASSERT_EQ((*lease)->nodes.size(), 2u);
  EXPECT_EQ((*lease)->nodes[0].node, "host-a");
  EXPECT_EQ((*lease)->nodes[1].node, "host-b");
  EXPECT_LE((*lease)->nodes[1].last_seen, (*lease)->db_now);
}

// Three daemons ticking while the database's clock passes expiries at random moments:
// the production claim never lets two of them claim under one epoch.
TEST_F(SenderLeaseTest, ConcurrentDaemonsNeverClaimUnderOneEpochTogether) {
  constexpr int kDaemons = 3;
  constexpr int kTicks = 100;
  const std::vector<int64_t> jobs = Jobs(kDaemons * kTicks);
  std::vector<std::unique_ptr<Store>> stores;
  for (int i = 0; i < kDaemons; ++i) stores.push_back(Open());
  std::mutex mu;
  std::map<int64_t, std::set<std::string>> claimers_by_epoch;
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kDaemons; ++i) {
    threads.emplace_back([&, i] {
      Store& store = *stores[static_cast<size_t>(i)];
      const std::string node = "host-" + std::to_string(i);
      for (int n = 0; n < kTicks; ++n) {
        auto tick = store.TickSenderLease(node, 15s, {});
        ASSERT_TRUE(tick) << tick.error().message;
        if (!tick->leading) continue;
        // Each daemon its own jobs: a refusal is the fence's.
        const int64_t job = jobs[static_cast<size_t>(n * kDaemons + i)];
        if (!Claim(store, node, tick->lease.epoch, job)) continue;
        std::lock_guard lock(mu);
        claimers_by_epoch[tick->lease.epoch].insert(node);
      }
    });
  }
  std::thread expirer([&] {
    auto conn = db_.Connect();
    std::mt19937 rng(42);
    while (!done.load()) {
      conn->Exec("UPDATE broadcastd_lease SET expires_at = clock_timestamp() - interval '1 ms'");
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 5));
    }
  });
  for (auto& t : threads) t.join();
  done = true;
  expirer.join();

  ASSERT_GT(claimers_by_epoch.size(), 3u) << "the lease never changed hands";
  for (const auto& [epoch, claimers] : claimers_by_epoch) {
    EXPECT_EQ(claimers.size(), 1u) << "epoch " << epoch << " claimed by " << claimers.size();
  }
}

// The lease runs on the store's connection: a lost one is kUnavailable, and the next tick
// connects again.
TEST_F(SenderLeaseTest, ALostConnectionIsUnavailableThenTheNextTickConnectsAgain) {
  b_.reset();
  MustTick(*a_, "host-a");
  admin_->Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '" +
               db_.schema() + "' AND pid <> pg_backend_pid()");
  auto tick = a_->TickSenderLease("host-a", 15s, {});
  ASSERT_FALSE(tick);
  EXPECT_TRUE(tick.error().Is(ErrorKind::kUnavailable)) << tick.error().message;
  Store::LeaseTick again = MustTick(*a_, "host-a");
  EXPECT_TRUE(again.leading);
  EXPECT_FALSE(again.acquired);
}

}  // namespace
}  // namespace broadcastd
