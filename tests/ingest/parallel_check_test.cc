// The files of a slice are parsed, validated and hashed on worker threads, a batch ahead of
// their writes, and applied one by one in name order on the scanning thread: the store,
// the report and the logs are those of a scan that checks one file at a time.

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <sstream>

#include "core/time_format.h"
#include "fakes/campaign_texts.h"
#include "fakes/temp_dir.h"
#include "fakes/test_config.h"
#include "ingest/campaign_ingester.h"

namespace broadcastd {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Many broadcasts: slower to check than its neighbours, so a worker finishes it last.
std::string Big(const std::string& id, int broadcasts) {
  std::string text = "id: " + id + "\nbroadcasts:\n";
  for (int i = 0; i < broadcasts; ++i) {
    text += "  - {name: b" + std::to_string(i) +
            ", target: chatrooms, send_at: \"2099-01-01T00:00:00Z\", message: {type: txt, "
            "msg: \"part " +
            std::to_string(i) + "\"}}\n";
  }
  return text;
}

// Everything a scan leaves behind that anyone can see.
struct Outcome {
  std::vector<std::string> report;  // counts, then errors and refusals in order
  std::vector<std::string> files;   // the campaign rows
  std::vector<std::string> jobs;
  std::vector<std::string> logs;  // without the per-scan summary (slices, duration)
};

// One ingester over its own database, on the shared campaigns folder.
class Ingestion {
 public:
  Ingestion(const Config& base, const std::string& database, ScanLimits limits) : config_(base) {
    config_.database = base.campaigns_dir.parent_path() / database;
    auto store = Store::Open(config_.database, Store::Mode::kReadWrite);
    EXPECT_TRUE(store.has_value()) << store.error().message;
    store_.emplace(std::move(*store));
    FolderOptions folder;
    folder.racy_margin = Duration(0);  // files are written just before they are read
    ingester_.emplace(config_, *store_, RepeatHorizon{}, folder, limits);
  }

  CampaignIngester& ingester() { return *ingester_; }

  Outcome Scan(TimePoint now) {
    Outcome out;
    std::ostringstream log;
    auto previous = spdlog::default_logger();
    auto capture = std::make_shared<spdlog::logger>(
        "capture", std::make_shared<spdlog::sinks::ostream_sink_st>(log));
    capture->set_pattern("%l %v");
    capture->set_level(spdlog::level::debug);
    spdlog::set_default_logger(capture);
    auto report = ingester_->Scan(now);
    spdlog::set_default_logger(previous);
    EXPECT_TRUE(report.has_value()) << report.error().message;
    if (!report) return out;

    const ScanReport& r = *report;
    out.report.push_back(
        "created=" + std::to_string(r.created) + " updated=" + std::to_string(r.updated) +
        " unchanged=" + std::to_string(r.unchanged) + " rejected=" + std::to_string(r.rejected) +
        " removed=" + std::to_string(r.removed) + " moved=" + std::to_string(r.moved) +
        " occurrences_added=" + std::to_string(r.occurrences_added) +
        " unsettled=" + std::to_string(r.unsettled));
    for (const std::string& e : r.errors) out.report.push_back("error " + e);
    for (const RefusedFile& f : r.refused)
      out.report.push_back("refused " + f.name + " " + f.reason);
    const std::vector<CampaignRow> rows = store_->Campaigns().value();
    for (const CampaignRow& row : rows) {
      out.files.push_back(row.file + " " + std::string(CampaignStatusName(row.status)) + " " +
                          row.campaign_id + " " + row.content_hash + " " + row.last_error);
    }
    const std::vector<JobRow> jobs = store_->Jobs().value();
    for (const JobRow& job : jobs) {
      out.jobs.push_back(job.file + " " + job.campaign_id + " " + job.broadcast + " " +
                         job.occurrence + " " + FormatRfc3339(job.due) + " " +
                         std::string(JobStateName(job.state)) + " " + job.body);
    }
    std::istringstream lines(log.str());
    for (std::string line; std::getline(lines, line);) {
      if (line.find("campaigns.scanned") == std::string::npos) out.logs.push_back(line);
    }
    return out;
  }

 private:
  Config config_;
  std::optional<Store> store_;
  std::optional<CampaignIngester> ingester_;
};

void ExpectSame(const Outcome& one_by_one, const Outcome& ahead) {
  EXPECT_EQ(one_by_one.report, ahead.report);
  EXPECT_EQ(one_by_one.files, ahead.files);
  EXPECT_EQ(one_by_one.jobs, ahead.jobs);
  EXPECT_EQ(one_by_one.logs, ahead.logs);
}

class ParallelCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ / "campaigns");
    ::chmod((dir_ / "campaigns").c_str(), 0755);
    config_ = TestConfig(dir_.path());
  }

  void Write(const std::string& name, const std::string& content, mode_t mode = 0644) {
    fs::path p = dir_.Write("campaigns/" + name, content);
    ::chmod(p.c_str(), mode);
    written_.push_back(name);
  }
  // What inotify tells each ingester of the files written since.
  void Tell(Ingestion& run) {
    for (const std::string& name : written_) run.ingester().MarkWritten(name);
  }

  // The reference: one file opened per slice, so every file is checked at its own turn.
  static ScanLimits OneByOne() {
    ScanLimits limits;
    limits.slice_files = 1;
    return limits;
  }
  // Every file of the scan in one slice, checked ahead on four threads.
  static ScanLimits Ahead() {
    ScanLimits limits;
    limits.slice = std::chrono::hours(1);
    limits.check_threads = 4;
    return limits;
  }

  TempDir dir_;
  Config config_;
  std::vector<std::string> written_;
  const TimePoint now_ = *ParseRfc3339("2027-03-01T13:00:00Z");
};

TEST_F(ParallelCheckTest, ManyFilesCheckedAheadGiveTheStoreReportAndLogsOfOneAtATime) {
  // Name order decides who keeps a campaign id: a.yaml, slow to check, before the quick
  // ones that claim the same id after it.
  Write("a-shared.yaml", Big("shared", 60));
  Write("b-shared.yaml", Once("shared", "second"));
  Write("c-shared.yaml", Once("shared", "third"));
  for (int i = 0; i < 36; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "f%02d", i);
    Write(std::string(name) + ".yaml", Once(name, "file " + std::to_string(i)));
  }
  Write("f05z-copy.yaml", Once("f05", "a copy"));  // after f05.yaml: rejected
  Write("g-bad-schema.yaml", "id: bad\nbroadcasts: 3\n");
  Write("g-bad-yaml.yaml", "id: [unclosed\n");
  Write("g-unknown-key.yaml", "id: typo\nbroadcast: []\n");
  Write("g-unknown-app.yaml",
        "id: elsewhere\napp: other\nbroadcasts:\n  - {name: x, target: users, "
        "message: {type: txt, msg: x}}\n");
  Write("h-nightly.yaml", Nightly("nightly"));
  Write("i-group-writable.yaml", Once("loose", "never read"), 0664);

  Ingestion one_by_one(config_, "one.db", OneByOne());
  Ingestion ahead(config_, "ahead.db", Ahead());
  Tell(one_by_one);
  Tell(ahead);
  written_.clear();
  const Outcome reference = one_by_one.Scan(now_);
  const Outcome outcome = ahead.Scan(now_);
  EXPECT_EQ(one_by_one.ingester().files_checked_ahead(), 0u);
  // Every file read was checked on the workers (batches of more than two files).
  EXPECT_EQ(ahead.ingester().files_checked_ahead(), ahead.ingester().files_opened());
  EXPECT_EQ(ahead.ingester().files_opened(), 45u);  // not the group-writable one
  ExpectSame(reference, outcome);

  // What the scan must have done, whatever the threads.
  ASSERT_FALSE(outcome.report.empty());
  EXPECT_EQ(outcome.report[0],
            "created=38 updated=0 unchanged=0 rejected=7 removed=0 moved=0 "
            "occurrences_added=0 unsettled=0");
  const std::vector<std::string>* files = &outcome.files;
  auto row = [&](const std::string& file) -> std::string {
    for (const std::string& r : *files) {
      if (r.starts_with(file + " ")) return r;
    }
    return "";
  };
  EXPECT_TRUE(row("a-shared.yaml").starts_with("a-shared.yaml ok shared ")) << row("a-shared.yaml");
  for (const char* loser : {"b-shared.yaml", "c-shared.yaml"}) {
    EXPECT_NE(row(loser).find(" rejected "), std::string::npos) << row(loser);
    EXPECT_NE(row(loser).find("id \"shared\" is already used by a-shared.yaml [rule.id_unique]"),
              std::string::npos)
        << row(loser);
  }
  EXPECT_NE(row("f05z-copy.yaml").find("is already used by f05.yaml"), std::string::npos);
  EXPECT_NE(row("g-unknown-app.yaml").find("[rule.app_unknown]"), std::string::npos);
  EXPECT_NE(row("i-group-writable.yaml").find(" refused "), std::string::npos);
  EXPECT_EQ(outcome.jobs.size(), 60u + 36u + 2u);  // a-shared, f00..f35, nightly 2 and 3 March

  // Then the holder goes (b-shared.yaml takes the id over, c-shared.yaml is rejected anew
  // under the new holder) and files change: still the same, scan after scan.
  fs::remove(dir_ / "campaigns/a-shared.yaml");
  Write("g-bad-schema.yaml", Once("bad", "fixed"));
  Write("f07.yaml", Once("f07", "edited"));
  Write("f08.yaml", "id: f08\nbroadcasts: []\n");
  Tell(one_by_one);
  Tell(ahead);
  const Outcome reference2 = one_by_one.Scan(now_ + 1h);
  const Outcome outcome2 = ahead.Scan(now_ + 1h);
  ExpectSame(reference2, outcome2);
  ASSERT_FALSE(outcome2.report.empty());
  EXPECT_EQ(outcome2.report[0],
            "created=1 updated=1 unchanged=39 rejected=2 removed=0 moved=1 "
            "occurrences_added=0 unsettled=0");
  files = &outcome2.files;
  EXPECT_TRUE(row("b-shared.yaml").starts_with("b-shared.yaml ok shared ")) << row("b-shared.yaml");
  EXPECT_NE(row("c-shared.yaml").find("id \"shared\" is already used by b-shared.yaml"),
            std::string::npos)
      << row("c-shared.yaml");
}

TEST_F(ParallelCheckTest, OneOrTwoChangedFilesStartNoThread) {
  Ingestion ahead(config_, "ahead.db", Ahead());
  Write("a.yaml", Once("a", "one"));
  Write("b.yaml", Once("b", "two"));
  Tell(ahead);
  written_.clear();
  ahead.Scan(now_);
  EXPECT_EQ(ahead.ingester().files_opened(), 2u);
  EXPECT_EQ(ahead.ingester().files_checked_ahead(), 0u);

  Write("c.yaml", Once("c", "three"));
  Write("d.yaml", Once("d", "four"));
  Write("e.yaml", Once("e", "five"));
  Tell(ahead);
  ahead.Scan(now_ + 1min);
  EXPECT_EQ(ahead.ingester().files_checked_ahead(), 3u);
}

}  // namespace
}  // namespace broadcastd
