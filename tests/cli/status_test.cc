#include <gtest/gtest.h>

#include <sstream>

#include "cli/commands.h"
#include "cli/status_render.h"
#include "core/time_format.h"
#include "fakes/fake_clock.h"
#include "fakes/temp_dir.h"
#include "fakes/test_config.h"
#include "ingest/campaign_ingester.h"
#include "status/gather_status.h"

namespace broadcastd {
namespace {

using namespace std::chrono_literals;

TimePoint T(const char* text) { return *ParseRfc3339(text); }

class StatusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_ / "campaigns");
    config_ = TestConfig(dir_.path());
    config_.safety_margin = 0ms;
  }

  StatusReport Gather() {
    auto store = Store::Open(config_.database, Store::Mode::kReadWrite);
    EXPECT_TRUE(store.has_value());
    CampaignIngester ingester(config_, *store);
    for (const auto& entry : std::filesystem::directory_iterator(dir_ / "campaigns")) {
      ingester.MarkWritten(entry.path().filename().string());
    }
    EXPECT_TRUE(ingester.Scan(now_).has_value());
    auto ro = Store::Open(config_.database, Store::Mode::kReadOnly);
    EXPECT_TRUE(ro.has_value()) << ro.error().message;
    auto report = GatherStatus(config_, *ro, Instant(now_), {}, {});
    EXPECT_TRUE(report.has_value()) << report.error().message;
    return std::move(*report);
  }

  TempDir dir_;
  Config config_;
  const TimePoint now_ = T("2027-03-01T20:00:00.000Z");
};

// Five all-users broadcasts due today with three left in the budget: the
// forecast sends three today, 30 minutes apart, and warns about the two that
// expire at the end of the day.
TEST_F(StatusTest, ForecastFollowsWindowsAndBudgetAndWarnsAboutExpiry) {
  std::string yaml = "id: five\nbroadcasts:\n";
  for (int i = 0; i < 5; ++i) {
    yaml += "  - name: b" + std::to_string(i) +
            "\n    target: users\n    send_at: \"2027-03-01T20:00:00Z\"\n"
            "    expires_at: \"2027-03-01T23:59:00Z\"\n    message: {type: txt, msg: hi}\n";
  }
  dir_.Write("campaigns/five.yaml", yaml);
  dir_.Write("campaigns/bad.yaml", "broadcasts: 7\n");
  StatusReport r = Gather();

  ASSERT_EQ(r.jobs.size(), 5u);
  const TimePoint expected[] = {now_, now_ + 30min, now_ + 60min};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(r.jobs[i].forecast.has_value());
    EXPECT_EQ(r.jobs[i].forecast->kind, Scheduler::ForecastEntry::kSend) << i;
    EXPECT_EQ(r.jobs[i].forecast->at, expected[i]) << i;
  }
  for (int i = 3; i < 5; ++i) {
    ASSERT_TRUE(r.jobs[i].forecast.has_value());
    EXPECT_EQ(r.jobs[i].forecast->kind, Scheduler::ForecastEntry::kExpires) << i;
  }
  int expiry_warnings = 0;
  for (const auto& w : r.warnings)
    expiry_warnings += w.find("will expire unsent") != std::string::npos;
  EXPECT_EQ(expiry_warnings, 2);

  nlohmann::json doc = RenderStatusJson(r);
  EXPECT_EQ(doc["format"], 2);
  EXPECT_EQ(doc["jobs"][0]["forecast"]["kind"], "send");
  EXPECT_EQ(doc["jobs"][0]["forecast"]["at"], "2027-03-01T20:00:00.000Z");
  EXPECT_EQ(doc["jobs"][4]["forecast"]["kind"], "expires");
  EXPECT_EQ(doc["jobs"][0]["state"], "ready");
  EXPECT_TRUE(doc["jobs"][0]["broadcast_id"].is_null());
  bool bad_listed = false;
  for (const auto& c : doc["campaigns"]) {
    if (c["file"] == "bad.yaml") {
      bad_listed = true;
      EXPECT_EQ(c["status"], "rejected");
      EXPECT_TRUE(c["error"].is_string());
    }
  }
  EXPECT_TRUE(bad_listed);
  ASSERT_EQ(doc["endpoints"].size(), 3u);
  EXPECT_EQ(doc["endpoints"][0]["target"], "users");
  EXPECT_EQ(doc["endpoints"][0]["left_today"], 3);
  EXPECT_EQ(doc["endpoints"][0]["queued"], 5);

  std::string text = RenderStatusText(r);
  EXPECT_NE(text.find("EXPIRES 2027-03-01T23:59:00.000Z"), std::string::npos) << text;
  EXPECT_NE(text.find("bad.yaml"), std::string::npos);
}

// A file the folder reader refused shows as refused with its reason, apart from
// rejected ones, and a file name that is not UTF-8 does not break --status --json.
// Issue 18, case 4: the campaigns a new queue adopted are listed with the command that
// releases them, and their jobs are forecast held, in the text and in JSON.
TEST_F(StatusTest, AdoptedCampaignsAreShownHeldWithTheirConfirmCommand) {
  dir_.Write("campaigns/promo.yaml",
             "id: promo\nbroadcasts:\n  - name: b\n    target: users\n"
             "    send_at: \"2027-03-01T20:00:00Z\"\n    message: {type: txt, msg: hi}\n");
  {
    auto store = Store::Open(config_.database, Store::Mode::kReadWrite);
    ASSERT_TRUE(store.has_value());
    store->set_adopt_new_campaigns(true);
    CampaignIngester ingester(config_, *store);
    ingester.MarkWritten("promo.yaml");
    ASSERT_TRUE(ingester.Scan(now_).has_value());
  }
  const StatusReport r = Gather();
  ASSERT_EQ(r.adopted.size(), 1u);
  EXPECT_EQ(r.adopted[0].campaign_id, "promo");
  ASSERT_EQ(r.jobs.size(), 1u);
  ASSERT_TRUE(r.jobs[0].forecast.has_value());
  EXPECT_EQ(r.jobs[0].forecast->kind, Scheduler::ForecastEntry::kHeld);

  const std::string text = RenderStatusText(r);
  EXPECT_NE(text.find("ADOPTED  1 campaigns"), std::string::npos) << text;
  EXPECT_NE(text.find("broadcastd --confirm promo"), std::string::npos) << text;
  EXPECT_NE(text.find("held: adopted"), std::string::npos) << text;
  const nlohmann::json json = RenderStatusJson(r);
  ASSERT_EQ(json["adopted"].size(), 1u) << json.dump(2);
  EXPECT_EQ(json["adopted"][0]["id"], "promo");
  EXPECT_EQ(json["adopted"][0]["queued_jobs"], 1);
  EXPECT_EQ(json["jobs"][0]["forecast"]["kind"], "held");
  EXPECT_TRUE(json["jobs"][0]["forecast"]["at"].is_null());
}

TEST_F(StatusTest, RefusedFilesAreShownWithTheirReasonEvenWithANameThatIsNotUtf8) {
  dir_.Write("campaigns/bad.yaml", "broadcasts: 7\n");
  dir_.Write("broadcastd.yaml", "database: " + config_.database.string() +
                                    "\ncampaigns_dir: " + config_.campaigns_dir.string() +
                                    "\napps:\n  main:\n    host: http://127.0.0.1:9\n"
                                    "    org: org\n    app: app\n    client_id: cid\n"
                                    "    token_file: main.token\n");
  Gather();
  {
    auto store = Store::Open(config_.database, Store::Mode::kReadWrite);
    ASSERT_TRUE(store.has_value());
    ASSERT_TRUE(store->RefuseFile("fifo.yaml", "not a regular file (a FIFO)", now_).value());
    ASSERT_TRUE(store->RefuseFile("caf\xe9.yaml", "the name is not valid UTF-8", now_).value());
    ASSERT_TRUE(store
                    ->RefuseFile("x\n\x1b[2Jinfo broadcast.sent.yaml",
                                 "control characters in "
                                 "the name",
                                 now_)
                    .value());
  }
  FakeClock clock(now_);
  std::ostringstream out, err;
  CommandContext ctx{dir_ / "broadcastd.yaml", clock, out, err};
  StatusOptions as_json;
  as_json.json = true;
  ASSERT_EQ(RunStatus(ctx, as_json), 0) << err.str();
  nlohmann::json doc = nlohmann::json::parse(out.str());
  std::map<std::string, nlohmann::json> by_file;
  for (const auto& c : doc["campaigns"]) by_file[c["file"].get<std::string>()] = c;
  ASSERT_TRUE(by_file.contains("fifo.yaml")) << doc.dump(1);
  EXPECT_EQ(by_file["fifo.yaml"]["status"], "refused");
  EXPECT_EQ(by_file["fifo.yaml"]["error"], "not a regular file (a FIFO)");
  EXPECT_EQ(by_file["bad.yaml"]["status"], "rejected");
  ASSERT_TRUE(by_file.contains("caf\xef\xbf\xbd.yaml")) << doc.dump(1);  // U+FFFD
  EXPECT_EQ(by_file["caf\xef\xbf\xbd.yaml"]["status"], "refused");

  std::ostringstream text;
  CommandContext text_ctx{dir_ / "broadcastd.yaml", clock, text, err};
  ASSERT_EQ(RunStatus(text_ctx, StatusOptions{}), 0) << err.str();
  EXPECT_NE(text.str().find("refused"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("not a regular file (a FIFO)"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("campaign fifo.yaml is refused"), std::string::npos) << text.str();
  EXPECT_EQ(text.str().find('\x1b'), std::string::npos) << text.str();
  EXPECT_EQ(text.str().find("\ninfo broadcast.sent"), std::string::npos) << text.str();
}

}  // namespace
}  // namespace broadcastd
