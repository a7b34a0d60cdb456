// The ingester over CampaignFolder: a file refused or still being written
// keeps what the store has from its earlier version, a refusal is reported
// every scan and logged once per change, and the report says when to look again.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <sstream>

#include "core/clock.h"
#include "core/time_format.h"
#include "core/unique_fd.h"
#include "fakes/temp_dir.h"
#include "fakes/test_config.h"
#include "ingest/campaign_ingester.h"

namespace broadcastd {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kCampaign = R"(id: later
broadcasts:
  - name: one
    target: users
    send_at: "2099-01-01T00:00:00Z"
    message: {type: txt, msg: "one"}
  - name: two
    target: users
    send_at: "2099-01-02T00:00:00Z"
    message: {type: txt, msg: "two"}
)";

class IngesterFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ / "campaigns");
    ::chmod((dir_ / "campaigns").c_str(), 0755);
    config_ = TestConfig(dir_.path());
    auto store = Store::Open(config_.database, Store::Mode::kReadWrite);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    store_.emplace(std::move(*store));
    ingester_.emplace(config_, *store_);
    previous_ = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>(
        "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log_)));
  }
  void TearDown() override { spdlog::set_default_logger(previous_); }

  // Writes a file whose mtime is `age` before now_.
  fs::path Write(const std::string& name, std::string_view content, Duration age = 1h) {
    fs::path p = dir_.Write("campaigns/" + name, content);
    ::chmod(p.c_str(), 0644);
    const int64_t ms = ToMillis(now_ - age);
    struct timespec times[2] = {{0, UTIME_OMIT}, {ms / 1000, (ms % 1000) * 1000000}};
    EXPECT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, 0), 0);
    return p;
  }

  ScanReport Scan() {
    auto r = ingester_->Scan(now_);
    EXPECT_TRUE(r.has_value()) << r.error().message;
    return r.value_or(ScanReport{});
  }

  // A file found in the folder without an inotify event is read at the second
  // look (the first only records its size and mtime).
  ScanReport ScanTwice() {
    ScanReport first = Scan();
    EXPECT_EQ(first.unsettled, 1);
    return Scan();
  }

  int Scheduled() {
    int n = 0;
    const std::vector<JobRow> jobs = store_->Jobs().value();
    for (const JobRow& j : jobs) n += j.state == JobState::kScheduled;
    return n;
  }

  size_t Count(std::string_view event) {
    const std::string text = log_.str();
    size_t n = 0;
    for (size_t at = text.find(event); at != std::string::npos; at = text.find(event, at + 1)) ++n;
    return n;
  }

  TempDir dir_;
  Config config_;
  std::optional<Store> store_;
  std::optional<CampaignIngester> ingester_;
  std::ostringstream log_;
  std::shared_ptr<spdlog::logger> previous_;
  TimePoint now_ = SystemClock().Now();
};

TEST_F(IngesterFolderTest, RefusedFileKeepsItsJobsAndIsLoggedOncePerChange) {
  fs::path p = Write("later.yaml", kCampaign);
  ASSERT_EQ(ScanTwice().created, 1);
  ASSERT_EQ(Scheduled(), 2);

  ASSERT_EQ(::chmod(p.c_str(), 0666), 0);
  now_ += 1min;
  ScanReport refused = Scan();
  ASSERT_EQ(refused.refused.size(), 1u);
  EXPECT_EQ(refused.refused[0].name, "later.yaml");
  EXPECT_NE(refused.refused[0].reason.find("world-writable"), std::string::npos);
  EXPECT_EQ(refused.removed, 0);
  EXPECT_EQ(Scheduled(), 2);  // kept, not cancelled
  const std::vector<CampaignRow> rows = store_->Campaigns().value();
  for (const CampaignRow& row : rows) {
    if (row.file == "later.yaml") {
      EXPECT_EQ(row.status, CampaignStatus::kRefused);
    }
  }
  EXPECT_EQ(Count("campaign.refused file=later.yaml reason=\"is world-writable"), 1u) << log_.str();

  // Every scan reports it; the log says it once.
  now_ += 1min;
  EXPECT_EQ(Scan().refused.size(), 1u);
  EXPECT_EQ(Count("campaign.refused"), 1u);

  // Another reason is another line.
  ASSERT_EQ(::chmod(p.c_str(), 0664), 0);
  now_ += 1min;
  EXPECT_EQ(Scan().refused.size(), 1u);
  EXPECT_EQ(Count("campaign.refused"), 2u);
  EXPECT_EQ(Count("group-writable"), 1u);

  // Trusted again: read again (at the second look, as any file first seen), nothing refused.
  ASSERT_EQ(::chmod(p.c_str(), 0644), 0);
  now_ += 1min;
  ScanReport fixed = ScanTwice();
  EXPECT_TRUE(fixed.refused.empty());
  EXPECT_EQ(fixed.created + fixed.removed + fixed.rejected, 0);
  EXPECT_EQ(Scheduled(), 2);
  // The store shows the file accepted again, no longer refused.
  bool ok = false;
  const std::vector<CampaignRow> after = store_->Campaigns().value();
  for (const CampaignRow& row : after) {
    if (row.file == "later.yaml") ok = row.status == CampaignStatus::kOk;
  }
  EXPECT_TRUE(ok);
}

TEST_F(IngesterFolderTest, FileBeingWrittenKeepsItsEarlierVersionUntilItHasSettled) {
  Write("later.yaml", kCampaign);
  ASSERT_EQ(ScanTwice().created, 1);

  // Rewritten just now, half-way: the second broadcast is not there yet.
  const std::string full = kCampaign;
  const std::string half = full.substr(0, full.find("  - name: two"));
  Write("later.yaml", half, 500ms);
  ScanReport writing = Scan();
  EXPECT_EQ(writing.unsettled, 1);
  EXPECT_EQ(writing.updated + writing.removed + writing.rejected, 0);
  ASSERT_TRUE(writing.next_rescan.has_value());
  EXPECT_EQ(*writing.next_rescan, now_ + 1500ms);
  EXPECT_EQ(Scheduled(), 2);  // the earlier version's jobs, untouched

  // Still unchanged when the settle time has passed: the new version counts.
  now_ = *writing.next_rescan;
  ScanReport settled = Scan();
  EXPECT_EQ(settled.updated, 1);
  EXPECT_FALSE(settled.next_rescan.has_value());
  EXPECT_EQ(Scheduled(), 1);
}

TEST_F(IngesterFolderTest, ClosedAfterWritingIsReadAtOnce) {
  Write("later.yaml", kCampaign, 10ms);
  ingester_->MarkWritten("later.yaml");
  ScanReport r = Scan();
  EXPECT_EQ(r.created, 1);
  EXPECT_EQ(r.unsettled, 0);
}

// A writer that never closes its file: the earlier version's jobs stay, nothing of the
// new one is read; past the bound the file is shown refused, "being written since …",
// and logged once; its close ends it.
TEST_F(IngesterFolderTest, FileHeldOpenPastTheBoundIsShownBeingWrittenAndLoggedOnce) {
  Write("later.yaml", kCampaign);
  ASSERT_EQ(ScanTwice().created, 1);
  ASSERT_EQ(Scheduled(), 2);

  const std::string full = kCampaign;
  fs::path p = Write("later.yaml", full.substr(0, full.find("  - name: two")), 1h);
  UniqueFd writer(::open(p.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
  ASSERT_TRUE(writer);
  ingester_->MarkWriting("later.yaml");
  now_ += 1min;
  const TimePoint since = now_;
  ScanReport writing = Scan();
  EXPECT_EQ(writing.unsettled, 1);
  EXPECT_EQ(writing.updated, 0);
  ASSERT_TRUE(writing.next_rescan.has_value());
  EXPECT_EQ(*writing.next_rescan, since + FolderOptions{}.writing_bound);

  now_ = *writing.next_rescan;
  for (int i = 0; i < 3; ++i, now_ += 1min) {
    ScanReport held = Scan();
    ASSERT_EQ(held.refused.size(), 1u);
    EXPECT_EQ(held.refused[0].reason, "being written since " + FormatRfc3339(since) +
                                          " (held open for writing; read once its writer "
                                          "closes it)");
    EXPECT_EQ(held.updated + held.removed, 0);
  }
  EXPECT_EQ(Count("campaign.refused file=later.yaml reason=\"being written since"), 1u)
      << log_.str();
  EXPECT_EQ(Scheduled(), 2);  // the earlier version's jobs, untouched
  bool shown = false;
  const std::vector<CampaignRow> rows = store_->Campaigns().value();
  for (const CampaignRow& row : rows) {
    shown = shown || (row.file == "later.yaml" && row.status == CampaignStatus::kRefused &&
                      row.last_error.starts_with("being written since"));
  }
  EXPECT_TRUE(shown);

  writer.reset();
  ingester_->MarkWritten("later.yaml");
  ScanReport closed = Scan();
  EXPECT_TRUE(closed.refused.empty());
  EXPECT_EQ(Scheduled(), 1);  // the version as closed
}

}  // namespace
}  // namespace broadcastd
