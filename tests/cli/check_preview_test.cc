// --check FILE's preview: the jobs a file would create and their forecast
// against the queue that is there, with the daemon's own scheduler.

#include "cli/check_preview.h"

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "fakes/temp_dir.h"
#include "fakes/test_config.h"
#include "ingest/campaign_ingester.h"
#include "rebuild/scheduler_state.h"

namespace broadcastd {
namespace {

using namespace std::chrono_literals;

TimePoint T(const char* text) { return *ParseRfc3339(text); }

std::string Users(const std::string& id, int count, const char* expires) {
  std::string yaml = "id: " + id + "\nbroadcasts:\n";
  for (int i = 0; i < count; ++i) {
    yaml += "  - name: b" + std::to_string(i) +
            "\n    target: users\n    send_at: \"2027-03-01T20:00:00Z\"\n    expires_at: \"" +
            expires + "\"\n    message: {type: txt, msg: hi}\n";
  }
  return yaml;
}

class CheckPreviewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_ / "campaigns");
    config_ = TestConfig(dir_.path());
    config_.safety_margin = 0ms;
  }

  // Takes campaigns_dir into the store, then previews `path` against it.
  std::vector<PreviewLine> Preview(const std::filesystem::path& path) {
    auto store = Store::Open(config_.database, Store::Mode::kReadWrite);
    EXPECT_TRUE(store.has_value());
    CampaignIngester ingester(config_, *store);
    for (const auto& entry : std::filesystem::directory_iterator(dir_ / "campaigns")) {
      ingester.MarkWritten(entry.path().filename().string());
    }
    EXPECT_TRUE(ingester.Scan(now_).has_value());
    auto campaign = CheckCampaignFile(path, config_);
    EXPECT_TRUE(campaign.has_value());
    auto scheduler = LoadSchedulerState(config_, *store, Instant(now_));
    EXPECT_TRUE(scheduler.has_value());
    auto queued = store->QueuedJobs();
    EXPECT_TRUE(queued.has_value());
    auto lines = PreviewCampaign(config_, *campaign, path.filename().string(),
                                 std::move(*scheduler), *queued, Instant(now_));
    EXPECT_TRUE(lines.has_value()) << lines.error().message;
    return lines.value_or(std::vector<PreviewLine>{});
  }

  TempDir dir_;
  Config config_;
  const TimePoint now_ = T("2027-03-01T20:00:00Z");
};

// One users broadcast already queued takes the first window and a third of the
// day's budget: of three new ones, two go 30 minutes apart after it, and the
// third would expire unsent (the budget of 3 is spent until midnight).
TEST_F(CheckPreviewTest, ForecastAgainstTheQueueThatIsThere) {
  dir_.Write("campaigns/busy.yaml", Users("busy", 1, "2027-03-01T23:00:00Z"));
  auto path = dir_.Write("new.yaml", Users("new", 3, "2027-03-01T23:00:00Z"));
  std::vector<PreviewLine> lines = Preview(path);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].broadcast, "b0");
  EXPECT_EQ(lines[0].occurrence, "once");
  EXPECT_EQ(lines[0].endpoint, (EndpointKey{"main", BroadcastTarget::kUsers}));
  EXPECT_EQ(lines[0].forecast.kind, Scheduler::ForecastEntry::kSend);
  EXPECT_EQ(lines[0].forecast.at, now_ + 30min);
  EXPECT_EQ(lines[1].forecast.kind, Scheduler::ForecastEntry::kSend);
  EXPECT_EQ(lines[1].forecast.at, now_ + 60min);
  EXPECT_EQ(lines[2].forecast.kind, Scheduler::ForecastEntry::kExpires);
  EXPECT_EQ(lines[2].forecast.at, T("2027-03-01T23:00:00Z"));
}

// Checking a file that is already in the folder previews its new version in
// place of its current jobs, not beside them.
TEST_F(CheckPreviewTest, AFileAlreadyTakenReplacesItsOwnJobs) {
  auto path = dir_.Write("campaigns/busy.yaml", Users("busy", 1, "2027-03-01T23:00:00Z"));
  std::vector<PreviewLine> lines = Preview(path);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].forecast.kind, Scheduler::ForecastEntry::kSend);
  EXPECT_EQ(lines[0].forecast.at, now_);
}

// Without a database (nothing ever ran) the preview is against an empty queue.
TEST_F(CheckPreviewTest, TextWithoutADatabaseSaysSoAndWarnsAboutExpiry) {
  auto path = dir_.Write("new.yaml", Users("new", 4, "2027-03-01T23:00:00Z"));
  auto campaign = CheckCampaignFile(path, config_);
  ASSERT_TRUE(campaign.has_value());
  std::string text = CheckPreviewText(config_, *campaign, path, Instant(now_), {});
  EXPECT_NE(
      text.find("against an empty queue (no database at " + config_.database.string() + " yet)"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("b0 once main/users: send at 2027-03-01T20:00:00Z"), std::string::npos)
      << text;
  EXPECT_NE(text.find("b3 once main/users: EXPIRES UNSENT at 2027-03-01T23:00:00Z"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("warning: " + path.string() + ": 1 of 4 jobs would expire unsent"),
            std::string::npos)
      << text;
  EXPECT_FALSE(std::filesystem::exists(config_.database));
}

// The lateness guard in the preview: users take one broadcast per 30 minutes, so the
// second of two due now waits past its own max_delay of 20 minutes and would expire at
// its deadline, not at a later forecast send.
TEST_F(CheckPreviewTest, ABacklogThatPushesAJobPastItsMaxDelayShowsItExpiring) {
  auto path = dir_.Write("new.yaml", R"(id: new
broadcasts:
  - {name: b0, target: users, send_at: "2027-03-01T20:00:00Z", message: {type: txt, msg: a}}
  - {name: b1, target: users, send_at: "2027-03-01T20:00:00Z", max_delay: 20m,
     message: {type: txt, msg: b}}
)");
  std::vector<PreviewLine> lines = Preview(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].forecast.kind, Scheduler::ForecastEntry::kSend);
  EXPECT_EQ(lines[1].forecast.kind, Scheduler::ForecastEntry::kExpires);
  EXPECT_EQ(lines[1].forecast.at, T("2027-03-01T20:20:00Z"));
}

// A send_at already past its deadline: a warning naming the guard that expires it.
TEST_F(CheckPreviewTest, WarnsWhenASendAtIsAlreadyPastItsDeadline) {
  auto path = dir_.Write("late.yaml", R"(id: late
broadcasts:
  - {name: stale, target: users, send_at: "2027-02-27T20:00:00Z", message: {type: txt, msg: a}}
  - {name: hour, target: chatrooms, send_at: "2027-03-01T19:00:00Z", message: {type: txt, msg: b}}
  - {name: own, target: online_users, send_at: "2027-03-01T19:00:00Z", max_delay: 30m,
     message: {type: txt, msg: c}}
  - {name: closed, target: chatrooms, send_at: "2027-02-27T20:00:00Z", max_delay: none,
     expires_at: "2027-02-28T00:00:00Z", message: {type: txt, msg: d}}
  - {name: unguarded, target: chatrooms, send_at: "2027-02-27T20:00:00Z", max_delay: none,
     message: {type: txt, msg: e}}
)");
  auto campaign = CheckCampaignFile(path, config_);
  ASSERT_TRUE(campaign.has_value());
  EXPECT_EQ(LatenessWarnings(config_, *campaign, now_),
            (std::vector<std::string>{
                "stale: would expire at once: send_at 2027-02-27T20:00:00Z is more than "
                "max_delay 24h ago",
                "own: would expire at once: send_at 2027-03-01T19:00:00Z is more than "
                "max_delay 30m ago",
                "closed: would expire at once: expires_at 2027-02-28T00:00:00Z has passed"}));

  const std::string text = CheckPreviewText(config_, *campaign, path, Instant(now_), {});
  EXPECT_NE(text.find("warning: " + path.string() +
                      ": stale: would expire at once: send_at 2027-02-27T20:00:00Z is more "
                      "than max_delay 24h ago"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("stale once main/users: EXPIRES UNSENT at 2027-02-28T20:00:00Z"),
            std::string::npos)
      << text;

  Config unguarded = config_;
  unguarded.max_delay = std::nullopt;
  EXPECT_EQ(LatenessWarnings(unguarded, *campaign, now_).size(), 2u);  // own and closed
}

}  // namespace
}  // namespace broadcastd
