// Ingestion at scale: a file whose stamp (device, inode, size, mtime, ctime) is the one
// recorded when it was read is neither opened nor written, across restarts too; what
// does change is seen, also in the middle of a scan cut into slices; changed files are
// written in batches where one file's failure harms no other; a reload re-reads files
// only when what their verdict depends on changed.

#include <SQLiteCpp/Database.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "core/time_format.h"
#include "fakes/campaign_texts.h"
#include "fakes/temp_dir.h"
#include "fakes/test_config.h"
#include "ingest/campaign_ingester.h"

namespace broadcastd {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class IngestScaleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ / "campaigns");
    ::chmod((dir_ / "campaigns").c_str(), 0755);
    config_ = TestConfig(dir_.path());
    auto store = Store::Open(config_.database, Store::Mode::kReadWrite);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    store_.emplace(std::move(*store));
    Restart();
    observer_.emplace(config_.database.string(), SQLite::OPEN_READONLY);
  }

  // A new ingester over the same store: what a restart of the daemon has.
  void Restart(ScanLimits limits = {}) {
    FolderOptions folder;
    folder.racy_margin = Duration(0);  // files are written just before they are read
    ingester_.emplace(config_, *store_, RepeatHorizon{}, folder, limits);
  }

  fs::path Write(const std::string& name, const std::string& content) {
    fs::path p = dir_.Write("campaigns/" + name, content);
    ::chmod(p.c_str(), 0644);
    ingester_->MarkWritten(name);  // as inotify's IN_CLOSE_WRITE does
    return p;
  }

  ScanReport Scan(TimePoint now) {
    auto r = ingester_->Scan(now);
    EXPECT_TRUE(r.has_value()) << r.error().message;
    return r.value_or(ScanReport{});
  }

  // Changes whenever another connection (the store's) commits.
  int64_t DataVersion() { return observer_->execAndGet("PRAGMA data_version").getInt64(); }

  std::string Body(const std::string& campaign_id) {
    const std::vector<JobRow> jobs = store_->Jobs().value();
    for (const JobRow& job : jobs) {
      if (job.campaign_id == campaign_id) return job.body;
    }
    return "";
  }

  std::optional<CampaignRow> Row(const std::string& file) {
    const std::vector<CampaignRow> rows = store_->Campaigns().value();
    for (const CampaignRow& row : rows) {
      if (row.file == file) return row;
    }
    return std::nullopt;
  }

  TempDir dir_;
  Config config_;
  std::optional<Store> store_;
  std::optional<CampaignIngester> ingester_;
  std::optional<SQLite::Database> observer_;
  const TimePoint now_ = *ParseRfc3339("2027-02-01T00:00:00Z");
};

TEST_F(IngestScaleTest, UnchangedFilesAreNeitherOpenedNorWritten) {
  Write("a.yaml", Once("a", "one"));
  Write("b.yaml", Once("b", "two"));
  Write("bad.yaml", "id: bad\nbroadcasts: 3\n");
  ScanReport first = Scan(now_);
  EXPECT_EQ(first.created, 2);
  EXPECT_EQ(first.rejected, 1);
  const uint64_t opened = ingester_->files_opened();
  EXPECT_EQ(opened, 3u);

  const int64_t version = DataVersion();
  for (int i = 1; i <= 3; ++i) {
    ScanReport again = Scan(now_ + i * 1min);
    EXPECT_EQ(again.unchanged, 3);
    EXPECT_EQ(again.created + again.updated + again.rejected + again.removed, 0);
  }
  EXPECT_EQ(ingester_->files_opened(), opened);  // not one open, the bad file included
  EXPECT_EQ(DataVersion(), version);             // not one commit
  EXPECT_EQ(Row("bad.yaml")->status, CampaignStatus::kRejected);
}

TEST_F(IngestScaleTest, ARestartWithUnchangedFilesReadsNoneOfThem) {
  Write("a.yaml", Once("a", "one"));
  Write("b.yaml", Once("b", "two"));
  Write("bad.yaml", "id: bad\nbroadcasts: 3\n");
  Scan(now_);
  const int64_t version = DataVersion();

  Restart();
  ScanReport r = Scan(now_ + 1h);
  EXPECT_EQ(r.unchanged, 3);
  EXPECT_EQ(r.created + r.updated + r.rejected + r.removed + r.unsettled, 0);
  EXPECT_EQ(ingester_->files_opened(), 0u);
  EXPECT_EQ(DataVersion(), version);
}

TEST_F(IngestScaleTest, AfterARestartOnlyRepeatingCampaignsAreReadAndTheirHorizonMoves) {
  Write("once.yaml", Once("once", "one"));
  Write("nightly.yaml", Nightly("nightly"));
  const TimePoint start = *ParseRfc3339("2027-03-01T13:00:00Z");  // 21:00 in Shanghai
  Scan(start);
  ASSERT_EQ(store_->Jobs().value().size(), 3u);  // once, and 2 and 3 March

  Restart();
  ScanReport r = Scan(start + 1h);
  EXPECT_EQ(ingester_->files_opened(), 1u);  // nightly.yaml, for its campaign
  EXPECT_EQ(r.occurrences_added, 0);
  // The horizon moves a day: 4 March joins, read from memory.
  ScanReport later = Scan(start + 24h);
  EXPECT_EQ(later.occurrences_added, 1);
  EXPECT_EQ(ingester_->files_opened(), 1u);
  EXPECT_EQ(store_->Jobs().value().size(), 4u);
}

TEST_F(IngestScaleTest, AnEditKeepingSizeAndMtimeIsSeenByItsCtimeOrInode) {
  fs::path p = Write("a.yaml", Once("a", "one"));
  Scan(now_);
  struct stat before {};
  ASSERT_EQ(::stat(p.c_str(), &before), 0);
  const struct timespec same_mtime[2] = {{0, UTIME_OMIT}, before.st_mtim};

  // Rewritten in place, same size, its mtime put back: only ctime tells.
  Write("a.yaml", Once("a", "ONE"));
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), same_mtime, 0), 0);
  EXPECT_EQ(Scan(now_ + 1min).updated, 1);
  EXPECT_NE(Body("a").find("ONE"), std::string::npos);

  // Written aside, mtime set to the file's, renamed over it: another inode.
  fs::path aside = dir_.Write("a.yaml.tmp", Once("a", "two"));
  ::chmod(aside.c_str(), 0644);
  ASSERT_EQ(::utimensat(AT_FDCWD, aside.c_str(), same_mtime, 0), 0);
  fs::rename(aside, p);
  ingester_->MarkWritten("a.yaml");  // IN_MOVED_TO
  EXPECT_EQ(Scan(now_ + 2min).updated, 1);
  EXPECT_NE(Body("a").find("two"), std::string::npos);
}

TEST_F(IngestScaleTest, AFileEditedBetweenSlicesIsAppliedInALaterSliceOrTheNextScan) {
  ScanLimits limits;
  limits.slice_files = 1;
  Restart(limits);
  Write("a.yaml", Once("a", "a1"));
  Write("b.yaml", Once("b", "b1"));
  Write("c.yaml", Once("c", "c1"));

  auto first = ingester_->ScanSlice(now_);
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_TRUE(first->more);
  EXPECT_EQ(first->created, 1);
  EXPECT_NE(Body("a").find("a1"), std::string::npos);  // the slice's batch committed

  // Between two slices: a (done) and c (not reached yet) are edited.
  Write("a.yaml", Once("a", "a2"));
  Write("c.yaml", Once("c", "c2"));
  Write("d.yaml", Once("d", "d1"));  // after the listing: for the next scan
  ScanReport rest;
  for (int slices = 0;; ++slices) {
    ASSERT_LT(slices, 10);
    auto slice = ingester_->ScanSlice(now_);
    ASSERT_TRUE(slice.has_value()) << slice.error().message;
    const bool more = slice->more;
    rest.Add(std::move(*slice));
    if (!more) break;
  }
  EXPECT_EQ(rest.created, 2);
  EXPECT_EQ(rest.removed, 0);
  EXPECT_NE(Body("c").find("c2"), std::string::npos);  // read at its turn, as it is then
  EXPECT_NE(Body("a").find("a1"), std::string::npos);

  // The next scan sees a's new version, and d.yaml, at once (inotify marked it).
  ScanReport next = Scan(now_ + 1s);
  EXPECT_EQ(next.updated, 1);
  EXPECT_EQ(next.created, 1);
  EXPECT_EQ(next.unsettled, 0);
  EXPECT_NE(Body("a").find("a2"), std::string::npos);
}

TEST_F(IngestScaleTest, OneFileFailingInABatchKeepsTheOthersAndIsWrittenLater) {
  Write("a.yaml", Once("a", "one"));
  Write("b.yaml", Once("bad", "two"));
  Write("c.yaml", Once("c", "three"));
  {
    SQLite::Database raw(config_.database.string(), SQLite::OPEN_READWRITE);
    raw.exec(
        "CREATE TRIGGER refuse_bad BEFORE INSERT ON jobs WHEN NEW.campaign_id = 'bad' "
        "BEGIN SELECT RAISE(ABORT, 'disk says no'); END");
  }
  ScanReport r = Scan(now_);
  EXPECT_EQ(r.created, 2);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].find("b.yaml"), std::string::npos) << r.errors[0];
  EXPECT_NE(r.errors[0].find("disk says no"), std::string::npos) << r.errors[0];
  EXPECT_FALSE(Row("b.yaml").has_value());  // all or nothing: not even its row
  EXPECT_EQ(Row("a.yaml")->status, CampaignStatus::kOk);
  EXPECT_EQ(Row("c.yaml")->status, CampaignStatus::kOk);
  EXPECT_EQ(store_->Jobs().value().size(), 2u);

  {
    SQLite::Database raw(config_.database.string(), SQLite::OPEN_READWRITE);
    raw.exec("DROP TRIGGER refuse_bad");
  }
  EXPECT_EQ(Scan(now_ + 1min).created, 1);  // its stamp was not kept: read again
  EXPECT_EQ(Row("b.yaml")->status, CampaignStatus::kOk);
  EXPECT_EQ(store_->Jobs().value().size(), 3u);
}

TEST_F(IngestScaleTest, AReloadRereadsFilesOnlyWhenTheAppsOrTheFolderChanged) {
  Write("a.yaml", Once("a", "one"));
  Write("b.yaml",
        "id: b\napp: other\nbroadcasts:\n  - {name: x, target: users, "
        "message: {type: txt, msg: x}}\n");
  ScanReport first = Scan(now_);
  EXPECT_EQ(first.created, 1);
  EXPECT_EQ(first.rejected, 1);  // no app "other"
  const uint64_t opened = ingester_->files_opened();
  const int64_t version = DataVersion();

  // Limits, margins, hosts: nothing a campaign's verdict depends on.
  Config tuned = config_;
  tuned.safety_margin = 100ms;
  tuned.apps.at("main").host = "http://127.0.0.1:10";
  ingester_->SetConfig(tuned);
  EXPECT_EQ(Scan(now_ + 1min).unchanged, 2);
  EXPECT_EQ(ingester_->files_opened(), opened);
  EXPECT_EQ(DataVersion(), version);

  // Another app: every file is checked again, and b.yaml is accepted.
  Config more_apps = tuned;
  AppConfig other = TestApp();
  other.name = "other";
  other.app = "app2";
  more_apps.apps["other"] = other;
  ingester_->SetConfig(more_apps);
  ScanReport recheck = Scan(now_ + 2min);
  EXPECT_EQ(ingester_->files_opened(), opened + 2);
  EXPECT_EQ(recheck.created, 1);
  EXPECT_EQ(Row("b.yaml")->status, CampaignStatus::kOk);

  // A restart under the apps of before (changed while stopped): checked again too.
  config_ = tuned;
  Restart();
  Scan(now_ + 3min);
  EXPECT_EQ(ingester_->files_opened(), 2u);
  EXPECT_EQ(Row("b.yaml")->status, CampaignStatus::kRejected);
  // And then left alone.
  Restart();
  Scan(now_ + 4min);
  EXPECT_EQ(ingester_->files_opened(), 0u);
}

TEST_F(IngestScaleTest, AFileRejectedForATakenIdTakesItOverAfterARestart) {
  Write("b.yaml", Once("promo", "from b"));
  Scan(now_);
  Write("a.yaml", Once("promo", "from a"));
  EXPECT_EQ(Scan(now_ + 1min).rejected, 1);

  Restart();
  Scan(now_ + 2min);
  fs::remove(dir_ / "campaigns/b.yaml");
  ScanReport r = Scan(now_ + 3min);
  EXPECT_EQ(r.moved, 1);
  EXPECT_EQ(Row("a.yaml")->status, CampaignStatus::kOk);
  EXPECT_NE(Body("promo").find("from a"), std::string::npos);
}

TEST_F(IngestScaleTest, AFileReadJustAfterAWriteIsReadAgainAtTheNextScan) {
  // The default margin: a file read right after it was written may be rewritten within
  // the same timestamp tick, so its stamp is not trusted yet.
  ingester_.emplace(config_, *store_);
  const fs::path path = Write("a.yaml", Once("a", "one"));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  // The scans' clock reads the moment of the write (its ctime) at the first read.
  const TimePoint written =
      FromMillis(static_cast<int64_t>(st.st_ctim.tv_sec) * 1000 + st.st_ctim.tv_nsec / 1'000'000);
  Scan(written);
  const uint64_t opened = ingester_->files_opened();
  ASSERT_EQ(opened, 1u);
  EXPECT_EQ(Scan(written + 1min).unchanged, 1);
  EXPECT_EQ(ingester_->files_opened(), opened + 1);
  // Read a minute after its write, its stamp is trusted from then on.
  EXPECT_EQ(Scan(written + 2min).unchanged, 1);
  EXPECT_EQ(ingester_->files_opened(), opened + 1);
}

TEST_F(IngestScaleTest, AFileFoundWithoutAWritersEventIsNotOpenedAtItsFirstLook) {
  // Files there before the daemon started (no inotify event): the first look needs only
  // the listing, the second reads them once they are unchanged.
  for (int i = 0; i < 40; ++i) {
    fs::path p = dir_.Write("campaigns/c" + std::to_string(i) + ".yaml",
                            Once("c" + std::to_string(i), "hello"));
    ::chmod(p.c_str(), 0644);
  }
  const TimePoint later = now_ + 1h;  // every mtime is long past by the scans' clock
  ScanReport first = Scan(later);
  EXPECT_EQ(first.unsettled, 40);
  EXPECT_EQ(first.created, 0);
  EXPECT_EQ(ingester_->files_opened(), 0u);
  ScanReport second = Scan(later + 500ms);
  EXPECT_EQ(second.created, 40);
  EXPECT_EQ(second.unsettled, 0);
  EXPECT_EQ(ingester_->files_opened(), 40u);

  // One changed between the two looks: a third look, and only then read.
  fs::path p = dir_.Write("campaigns/late.yaml", Once("late", "one"));
  ::chmod(p.c_str(), 0644);
  EXPECT_EQ(Scan(later + 1s).unsettled, 1);
  dir_.Write("campaigns/late.yaml", Once("late", "two, longer"));
  EXPECT_EQ(Scan(later + 1500ms).unsettled, 1);
  ScanReport last = Scan(later + 2s);
  EXPECT_EQ(last.created, 1);
  EXPECT_NE(Body("late").find("two, longer"), std::string::npos) << Body("late");

  // A FIFO among them is refused from its listing at the first look, never opened (an
  // open would block), and the scans go on.
  ASSERT_EQ(::mkfifo((dir_ / "campaigns" / "pipe.yaml").c_str(), 0644), 0);
  const uint64_t opened = ingester_->files_opened();
  ScanReport fifo = Scan(later + 3s);
  ASSERT_EQ(fifo.refused.size(), 1u);
  EXPECT_NE(fifo.refused[0].reason.find("FIFO"), std::string::npos) << fifo.refused[0].reason;
  EXPECT_EQ(ingester_->files_opened(), opened);
}

}  // namespace
}  // namespace broadcastd
