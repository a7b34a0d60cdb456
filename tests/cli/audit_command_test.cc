// --audit: the export of every attempt and operator action, in both formats, parsed back;
// the flags' checks.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/csv_reader.h"
#include "core/time_format.h"
#include "fakes/fake_clock.h"
#include "fakes/queued_store_test.h"
#include "store/store.h"

namespace broadcastd {
namespace {

using namespace std::chrono_literals;

class AuditCommandTest : public QueuedStoreTest {
 protected:
  void SetUp() override {
    QueuedStoreTest::SetUp();
    dir_.Write("broadcastd.yaml", "database: " + config_.database.string() +
                                      "\ncampaigns_dir: " + config_.campaigns_dir.string() +
                                      "\napps:\n  main:\n    host: http://127.0.0.1:9\n"
                                      "    org: org\n    app: app\n    client_id: cid\n"
                                      "    token_file: main.token\n");
  }

  // Runs --audit with `options`; its exit code, output in out_ and err_.
  int Audit(AuditOptions options) {
    out_.str("");
    err_.str("");
    CommandContext ctx{dir_ / "broadcastd.yaml", clock_, out_, err_};
    return RunAudit(ctx, options);
  }

  // An attempt of job `id` started at `at` answered with `outcome`.
  void Answer(int64_t id, TimePoint at, const Store::AttemptOutcome& outcome) {
    auto attempt = rw_->ClaimForSending(id, Instant(at));
    ASSERT_TRUE(attempt.has_value()) << attempt.error().message;
    ASSERT_TRUE(rw_->RecordOutcome(id, *attempt, outcome, Instant(at + 500ms)).has_value());
  }

  FakeClock clock_{T("2027-03-02T00:00:00Z")};
  std::ostringstream out_, err_;
};

TEST_F(AuditCommandTest, BothFormatsCarryEveryEntryInTimeOrderAndEveryByte) {
  AddCampaign("a", 2, BroadcastTarget::kUsers);
  AddCampaign("b", 1, BroadcastTarget::kChatrooms);
  const int64_t a0 = IdsOf("a")[0], a1 = IdsOf("a")[1], b0 = IdsOf("b")[0];
  Store::AttemptOutcome awkward;
  awkward.outcome = OutcomeClass::kPermanent;
  awkward.http_status = 400;
  // Commas, quotes, a newline, a valid multibyte character and a byte that is not UTF-8.
  awkward.vendor_error = "invalid_request, \"bad\"";
  awkward.error_description = "line one\nline two \xC3\xA9 \xFF end";
  Answer(a0, now_ + 2s, awkward);
  ASSERT_TRUE(rw_->Pause("main", BroadcastTarget::kUsers, "maintenance, \"planned\"", now_ + 3s));
  Store::AttemptOutcome sent;
  sent.outcome = OutcomeClass::kSent;
  sent.http_status = 200;
  sent.broadcast_id = "1234567890123456789";
  Answer(b0, now_ + 1s, sent);
  ASSERT_TRUE(rw_->CancelJob(a1, now_ + 4s));

  ASSERT_EQ(Audit({}), 0) << err_.str();
  std::vector<nlohmann::json> lines;
  std::istringstream in(out_.str());
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 4u) << out_.str();
  // Attempts by their start, the actions by their time, merged.
  EXPECT_EQ(lines[0]["kind"], "attempt");
  EXPECT_EQ(lines[0]["time"], "2027-03-01T08:00:01.000Z");
  EXPECT_EQ(lines[0]["job"], b0);
  EXPECT_EQ(lines[0]["campaign"], "b");
  EXPECT_EQ(lines[0]["broadcast"], "b0");
  EXPECT_EQ(lines[0]["occurrence"], "once");
  EXPECT_EQ(lines[0]["endpoint"], "main/chatrooms");
  EXPECT_EQ(lines[0]["class"], "sent");
  EXPECT_EQ(lines[0]["http_status"], 200);
  EXPECT_EQ(lines[0]["broadcast_id"], "1234567890123456789");
  EXPECT_TRUE(lines[0]["error"].is_null());
  EXPECT_TRUE(lines[0]["action"].is_null());
  EXPECT_EQ(lines[1]["job"], a0);
  EXPECT_EQ(lines[1]["class"], "permanent");
  EXPECT_EQ(lines[1]["http_status"], 400);
  EXPECT_TRUE(lines[1]["broadcast_id"].is_null());
  EXPECT_EQ(lines[1]["error"],
            "invalid_request, \"bad\": line one\nline two \xC3\xA9 \xEF\xBF\xBD end");
  EXPECT_EQ(lines[2]["kind"], "operator_action");
  EXPECT_EQ(lines[2]["time"], "2027-03-01T08:00:03.000Z");
  EXPECT_EQ(lines[2]["action"], "pause");
  EXPECT_EQ(lines[2]["endpoint"], "main/users");
  EXPECT_TRUE(lines[2]["job"].is_null());
  EXPECT_EQ(lines[3]["action"], "cancel_job");
  EXPECT_EQ(lines[3]["job"], a1);
  EXPECT_EQ(lines[3]["campaign"], "a");

  // The CSV: a header, then the same entries field for field.
  ASSERT_EQ(Audit({.format = "csv"}), 0) << err_.str();
  auto records = ParseCsv(out_.str());
  ASSERT_EQ(records.size(), 5u) << out_.str();
  const std::vector<std::string>& header = records[0];
  EXPECT_EQ(header.front(), "kind");
  for (size_t r = 0; r < lines.size(); ++r) {
    ASSERT_EQ(records[r + 1].size(), header.size()) << "record " << r;
    for (size_t f = 0; f < header.size(); ++f) {
      const nlohmann::json& value = lines[r][header[f]];
      const std::string expected = value.is_null()     ? ""
                                   : value.is_string() ? value.get<std::string>()
                                                       : value.dump();
      EXPECT_EQ(records[r + 1][f], expected) << "record " << r << " field " << header[f];
    }
  }
}

TEST_F(AuditCommandTest, FiltersSelectByTimeCampaignAndApp) {
  AddCampaign("a", 1, BroadcastTarget::kUsers);
  AddCampaign("b", 1, BroadcastTarget::kUsers);
  MakeUnknown(IdsOf("a")[0]);  // starts at now_
  Answer(IdsOf("b")[0], now_ + 1min, Store::AttemptOutcome{});
  ASSERT_EQ(rw_->CancelCampaign("b", now_ + 2min), 1);  // its unknown job

  auto kinds = [&] {
    std::vector<std::string> out;
    std::istringstream in(out_.str());
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line);
      out.push_back(j["kind"].get<std::string>() + " " +
                    (j["campaign"].is_null() ? "-" : j["campaign"].get<std::string>()));
    }
    return out;
  };
  ASSERT_EQ(Audit({.since = "2027-03-01T08:00:30Z"}), 0) << err_.str();
  EXPECT_EQ(kinds(), (std::vector<std::string>{"attempt b", "operator_action b"}));
  ASSERT_EQ(Audit({.until = "2027-03-01T09:00:30+01:00"}), 0) << err_.str();
  EXPECT_EQ(kinds(), std::vector<std::string>{"attempt a"});
  ASSERT_EQ(Audit({.campaign = "a"}), 0) << err_.str();
  EXPECT_EQ(kinds(), std::vector<std::string>{"attempt a"});
  ASSERT_EQ(Audit({.campaign = "b"}), 0) << err_.str();
  EXPECT_EQ(kinds(), (std::vector<std::string>{"attempt b", "operator_action b"}));
  // An app: its jobs' attempts (an action on a whole campaign names no app).
  ASSERT_EQ(Audit({.app = "main"}), 0) << err_.str();
  EXPECT_EQ(kinds(), (std::vector<std::string>{"attempt a", "attempt b"}));
  ASSERT_EQ(Audit({.app = "elsewhere"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "");
}

TEST_F(AuditCommandTest, ABadFlagExitsTwoNamingIt) {
  EXPECT_EQ(Audit({.since = "yesterday"}), 2);
  EXPECT_NE(err_.str().find("--since"), std::string::npos) << err_.str();
  EXPECT_EQ(Audit({.until = "2027-02-30T00:00:00Z"}), 2);
  EXPECT_NE(err_.str().find("--until"), std::string::npos) << err_.str();
  EXPECT_EQ(Audit({.format = "xml"}), 2);
  EXPECT_NE(err_.str().find("--format"), std::string::npos) << err_.str();
  EXPECT_EQ(out_.str(), "");

  // On the command line, before anything is opened.
  for (const auto& [args, flag] : std::vector<std::pair<std::vector<const char*>, std::string>>{
           {{"broadcastd", "--audit", "--since", "soon"}, "--since"},
           {{"broadcastd", "--audit", "--until", "2027-03-01"}, "--until"},
           {{"broadcastd", "--audit", "--format", "yaml"}, "--format"},
           {{"broadcastd", "--status", "--since", "2027-03-01T00:00:00Z"}, "--since"},
           {{"broadcastd", "--format", "csv"}, "--format"}}) {
    Invocation inv;
    std::ostringstream out, err;
    EXPECT_EQ(ParseCommandLine(static_cast<int>(args.size()), args.data(), inv, out, err),
              kExitUsage)
        << flag;
    EXPECT_NE(err.str().find(flag), std::string::npos) << err.str();
  }
  Invocation inv;
  std::ostringstream out, err;
  const char* good[] = {"broadcastd", "--audit", "--since",  "2027-03-01T00:00:00Z",
                        "--campaign", "a",       "--format", "csv"};
  EXPECT_EQ(ParseCommandLine(8, good, inv, out, err), std::nullopt) << err.str();
  EXPECT_EQ(inv.command, Command::kAudit);
  EXPECT_EQ(inv.campaign, "a");
  EXPECT_EQ(inv.format, "csv");
}

}  // namespace
}  // namespace broadcastd
