// --history: every attempt of a job and the operator actions on it.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "core/time_format.h"
#include "fakes/fake_clock.h"
#include "fakes/queued_store_test.h"
#include "fakes/temp_dir.h"
#include "fakes/test_config.h"
#include "store/store.h"

namespace broadcastd {
namespace {

using namespace std::chrono_literals;

class HistoryCommandTest : public QueuedStoreTest {};

TEST_F(HistoryCommandTest, HistoryShowsEveryAttemptAndOperatorAction) {
  AddCampaign("a", 1, BroadcastTarget::kUsers);
  AddCampaign("other", 1, BroadcastTarget::kChatrooms);
  int64_t id = IdsOf("a")[0];
  ASSERT_TRUE(rw_->Pause("main", BroadcastTarget::kUsers, "maintenance", now_));
  ASSERT_TRUE(rw_->Resume("main", BroadcastTarget::kUsers, now_));
  ASSERT_TRUE(rw_->Pause("main", BroadcastTarget::kChatrooms, "not this one", now_));
  ASSERT_TRUE(rw_->CancelCampaign("other", now_));
  MakeUnknown(id);
  ASSERT_TRUE(rw_->ResolveNotSent(id, now_ + 1min).has_value());
  auto attempt = rw_->ClaimForSending(id, Instant(now_ + 2min));
  ASSERT_TRUE(attempt.has_value());
  Store::AttemptOutcome sent;
  sent.outcome = OutcomeClass::kSent;
  sent.http_status = 200;
  sent.broadcast_id = "1234567890123456789";
  ASSERT_TRUE(rw_->RecordOutcome(id, *attempt, sent, Instant(now_ + 2min + 250ms)).has_value());

  dir_.Write("broadcastd.yaml", "database: " + config_.database.string() +
                                    "\ncampaigns_dir: " + config_.campaigns_dir.string() +
                                    "\napps:\n  main:\n    host: http://127.0.0.1:9\n"
                                    "    org: org\n    app: app\n    client_id: cid\n"
                                    "    token_file: main.token\n");
  FakeClock clock(now_ + 1h);
  std::ostringstream out, err;
  CommandContext ctx{dir_ / "broadcastd.yaml", clock, out, err};
  ASSERT_EQ(RunHistory(ctx, std::to_string(id), true), 0) << err.str();
  auto doc = nlohmann::json::parse(out.str());
  ASSERT_EQ(doc["attempts"].size(), 2u);
  EXPECT_EQ(doc["attempts"][0]["class"], "unknown");
  EXPECT_EQ(doc["attempts"][0]["started_at"], "2027-03-01T08:00:00.000Z");
  EXPECT_EQ(doc["attempts"][0]["ended_at"], "2027-03-01T08:00:01.000Z");
  EXPECT_EQ(doc["attempts"][0]["detail"], "timed out");
  EXPECT_EQ(doc["attempts"][1]["class"], "sent");
  EXPECT_EQ(doc["attempts"][1]["http_status"], 200);
  EXPECT_EQ(doc["attempts"][1]["ended_at"], "2027-03-01T08:02:00.250Z");
  EXPECT_EQ(doc["attempts"][1]["broadcast_id"], "1234567890123456789");
  // Its endpoint's pause and resume, and its own resolution; not the other endpoint's
  // pause nor the other campaign's cancellation.
  ASSERT_EQ(doc["operator_actions"].size(), 3u) << doc["operator_actions"].dump(1);
  EXPECT_EQ(doc["operator_actions"][0]["action"], "pause");
  EXPECT_EQ(doc["operator_actions"][0]["scope"], "endpoint");
  EXPECT_EQ(doc["operator_actions"][1]["action"], "resume");
  EXPECT_EQ(doc["operator_actions"][2]["action"], "resolve_not_sent");
  EXPECT_EQ(doc["operator_actions"][2]["scope"], "job");
  EXPECT_EQ(doc["job"]["state"], "sent");

  out.str("");
  ASSERT_EQ(RunHistory(ctx, std::to_string(id), false), 0) << err.str();
  EXPECT_NE(out.str().find("resolve_not_sent"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("1234567890123456789"), std::string::npos);
  EXPECT_EQ(RunHistory(ctx, "999", false), 1);
  EXPECT_EQ(RunHistory(ctx, "x", false), 2);
}

// Each scope from the store's column: the job's own actions, its campaign's cancellation
// and its endpoint's pause; not another campaign's (whose id starts like its own), not
// another endpoint's, not another job's.
TEST_F(HistoryCommandTest, HistoryShowsTheActionsOfEachScope) {
  AddCampaign("a", 2, BroadcastTarget::kUsers);
  AddCampaign("a2", 1, BroadcastTarget::kChatrooms);
  const std::vector<int64_t> ids = IdsOf("a");
  ASSERT_EQ(ids.size(), 2u);
  ASSERT_TRUE(rw_->CancelJob(ids[1], now_));
  ASSERT_TRUE(rw_->Pause("main", BroadcastTarget::kChatrooms, "not this one", now_));
  ASSERT_TRUE(rw_->CancelCampaign("a2", now_));
  ASSERT_TRUE(rw_->Pause("main", BroadcastTarget::kUsers, "maintenance", now_));
  ASSERT_TRUE(rw_->CancelCampaign("a", now_));

  dir_.Write("broadcastd.yaml", "database: " + config_.database.string() +
                                    "\ncampaigns_dir: " + config_.campaigns_dir.string() +
                                    "\napps:\n  main:\n    host: http://127.0.0.1:9\n"
                                    "    org: org\n    app: app\n    client_id: cid\n"
                                    "    token_file: main.token\n");
  FakeClock clock(now_ + 1h);
  std::ostringstream out, err;
  CommandContext ctx{dir_ / "broadcastd.yaml", clock, out, err};
  auto scopes = [&](int64_t id) {
    out.str("");
    EXPECT_EQ(RunHistory(ctx, std::to_string(id), true), 0) << err.str();
    std::vector<std::string> seen;
    const nlohmann::json doc = nlohmann::json::parse(out.str());
    for (const auto& a : doc["operator_actions"]) {
      seen.push_back(a["action"].get<std::string>() + " " + a["scope"].get<std::string>());
    }
    return seen;
  };
  EXPECT_EQ(scopes(ids[0]),
            (std::vector<std::string>{"pause endpoint", "cancel_campaign campaign"}));
  EXPECT_EQ(scopes(ids[1]), (std::vector<std::string>{"cancel_job job", "pause endpoint",
                                                      "cancel_campaign campaign"}));
}

}  // namespace
}  // namespace broadcastd
