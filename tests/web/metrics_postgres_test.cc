// /metrics on PostgreSQL: the sender lease's holder and epoch, which the alerting rules
// watch for a lease changing hands (monitoring/broadcastd.rules.yml).

#include <gtest/gtest.h>

#include <optional>
#include <sstream>

#include "fakes/temp_dir.h"
#include "fakes/test_config.h"
#include "store/pg_test_db.h"
#include "web/metrics.h"

namespace broadcastd {
namespace {

using namespace std::chrono_literals;

std::optional<double> Sample(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(series + " ")) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

class MetricsPostgresTest : public ::testing::Test {
 protected:
  std::string Render() {
    auto ro = Store::OpenPostgres(db_.uri(), Store::Mode::kReadOnly);
    EXPECT_TRUE(ro.has_value()) << ro.error().message;
    if (!ro) return {};
    auto text = RenderMetrics(config_, *ro, Instant(FromMillis(1'799'913'600'000)), {});
    EXPECT_TRUE(text.has_value()) << text.error().message;
    return text ? *text : std::string();
  }
  Store Open() {
    auto opened = Store::OpenPostgres(db_.uri(), Store::Mode::kReadWrite);
    EXPECT_TRUE(opened.has_value()) << opened.error().message;
    return std::move(*opened);
  }

  PgTestDb db_;
  TempDir dir_;
  Config config_ = TestConfig(dir_.path());
};

TEST_F(MetricsPostgresTest, TheLeaseHolderAndEpochFollowEachTakeOver) {
  Store a = Open();
  Store b = Open();
  const std::string never = Render();
  EXPECT_EQ(Sample(never, "broadcastd_sender_lease_holder{holder=\"\"}"), 1) << never;
  EXPECT_EQ(Sample(never, "broadcastd_sender_lease_epoch"), 0);

  auto first = a.TickSenderLease("host-a", 15s, MonoTime{});
  ASSERT_TRUE(first.has_value() && first->acquired) << "host-a takes the free lease";
  const std::string held = Render();
  EXPECT_EQ(Sample(held, "broadcastd_sender_lease_holder{holder=\"host-a\"}"), 1) << held;
  EXPECT_EQ(Sample(held, "broadcastd_sender_lease_epoch"), first->lease.epoch);

  // host-a misses its renewals: once the database's clock sees the lease expired, host-b
  // takes it and the epoch moves on.
  db_.Connect()->Exec(
      "UPDATE broadcastd_lease SET expires_at = clock_timestamp() - interval '1 ms'");
  auto second = b.TickSenderLease("host-b", 15s, MonoTime{});
  ASSERT_TRUE(second.has_value() && second->acquired) << "host-b takes the expired lease";
  const std::string taken = Render();
  EXPECT_EQ(Sample(taken, "broadcastd_sender_lease_holder{holder=\"host-b\"}"), 1) << taken;
  EXPECT_FALSE(Sample(taken, "broadcastd_sender_lease_holder{holder=\"host-a\"}").has_value());
  EXPECT_EQ(Sample(taken, "broadcastd_sender_lease_epoch"), second->lease.epoch);
  EXPECT_GT(second->lease.epoch, first->lease.epoch);
}

}  // namespace
}  // namespace broadcastd
