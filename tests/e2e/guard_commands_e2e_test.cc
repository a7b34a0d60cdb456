// Guards of the command line, with the real binary: a config that still holds the
// shipped placeholders does not pass --check-config (the unit's ExecStartPre) nor start
// the daemon; free text from the command line is UTF-8 without control characters, and
// every output survives any byte in any stored text.

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>

#include "e2e/daemon_fixture.h"

namespace broadcastd {
namespace {

namespace fs = std::filesystem;

class GuardCommandsE2ETest : public DaemonE2ETest {
 protected:
  std::string Config() const { return (dir_ / "broadcastd.yaml").string(); }

  CommandResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), {kBinary, "--config", Config()});
    return RunCommand(args, dir_.path());
  }

  // nlohmann's dump throws on invalid UTF-8 in a string.
  static bool ValidUtf8(const std::string& text) {
    try {
      (void)nlohmann::json(text).dump();
      return true;
    } catch (const nlohmann::json::exception&) {
      return false;
    }
  }
};

// Issue 18, case 5: the config as installed (config/broadcastd.example.yaml) fails
// --check-config, naming file, line and key of each placeholder; the daemon does not
// start on it. Set, it passes.
TEST_F(GuardCommandsE2ETest, ShippedPlaceholdersFailCheckConfigAndTheStart) {
  std::string shipped =
      ReadFile(fs::path(BROADCASTD_SOURCE_DIR) / "config/broadcastd.example.yaml");
  ASSERT_NE(shipped.find("campaigns_dir: /etc/broadcastd/campaigns"), std::string::npos);
  shipped.replace(shipped.find("/etc/broadcastd/campaigns"), 25, (dir_ / "campaigns").string());
  shipped = "database: " + (dir_ / "state/queue.db").string() + "\n" + shipped;
  dir_.Write("broadcastd.yaml", shipped);
  const std::vector<std::string> env{"CREDENTIALS_DIRECTORY=" + (dir_ / "credentials").string()};

  auto check = RunCommand({kBinary, "--check-config", "--config", Config()}, dir_.path(), env);
  EXPECT_EQ(check.exit_code, 1) << check.output;
  const std::string at = Config() + ":";
  for (const char* line :
       {"12:5: apps.main.org: \"myorg\" is the example config's placeholder",
        "13:5: apps.main.app: \"myapp\"", "14:5: apps.main.client_id: \"YXA6-replace-me\""}) {
    EXPECT_NE(check.output.find(at + line), std::string::npos) << line << "\n" << check.output;
  }

  auto daemon = StartDaemon("refused.log");
  auto code = daemon->Wait(20s);
  ASSERT_TRUE(code.has_value()) << ReadFile(dir_ / "refused.log");
  EXPECT_NE(*code, 0);
  EXPECT_NE(ReadFile(dir_ / "refused.log").find("apps.main.client_id"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "state/queue.db"));

  for (auto [from, to] : {std::pair{"org: myorg", "org: org"}, std::pair{"app: myapp", "app: app"},
                          std::pair{"client_id: YXA6-replace-me", "client_id: cid"}}) {
    shipped.replace(shipped.find(from), std::string(from).size(), to);
  }
  dir_.Write("broadcastd.yaml", shipped);
  auto fixed = RunCommand({kBinary, "--check-config", "--config", Config()}, dir_.path(), env);
  EXPECT_EQ(fixed.exit_code, 0) << fixed.output;
}

// Issue 18, case 8: free text that is not UTF-8, or holds a control character, is
// refused naming its flag (exit 2); bytes that are not UTF-8 written straight into the
// database (a pause reason, a campaign file name) leave every output whole: --status
// (text and JSON), --history --json, --check, the page and /metrics.
TEST_F(GuardCommandsE2ETest, AnyByteInStoredTextLeavesEveryOutputValidUtf8) {
  const std::string port = std::to_string(20000 + ::getpid() % 20000);
  StartSimulator({}, "http_listen: \"127.0.0.1:" + port + "\"\n");
  dir_.Write("campaigns/rooms.yaml",
             "id: rooms\nbroadcasts:\n  - name: now\n    target: chatrooms\n"
             "    message: {type: txt, msg: \"hello\"}\n");
  auto daemon = StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return Broadcasts().size() == 1; }, 20s))
      << ReadFile(dir_ / "daemon.log");

  for (const std::string& bad : {std::string("bad\xff"), std::string("two\nlines"),
                                 std::string("bell\x07"), std::string("c1\xc2\x85")}) {
    auto refused = Run({"--pause", "main/users", "--reason", bad});
    EXPECT_EQ(refused.exit_code, 2) << refused.output;
    EXPECT_NE(refused.output.find("--reason: "), std::string::npos) << refused.output;
  }
  auto campaign = Run({"--cancel-campaign", "bad\xff"});
  EXPECT_EQ(campaign.exit_code, 2) << campaign.output;
  EXPECT_NE(campaign.output.find("--cancel-campaign"), std::string::npos) << campaign.output;
  ASSERT_EQ(Run({"--pause", "main/users", "--reason", "maintenance"}).exit_code, 0);
  EXPECT_NE(Status().dump().find("maintenance"), std::string::npos) << Status().dump(1);

  daemon->Signal(SIGTERM);
  ASSERT_TRUE(daemon->Wait(20s).has_value());
  const std::string db = (dir_ / "state/queue.db").string();
  auto update = RunCommand({"/usr/bin/sqlite3", db,
                            "UPDATE pauses SET reason = CAST(X'6261649fff0a' AS TEXT); "
                            "UPDATE campaign_files SET file = CAST(X'726f6f6d73ff2e79616d6c' AS "
                            "TEXT), last_error = CAST(X'c3' AS TEXT);"},
                           dir_.path());
  ASSERT_EQ(update.exit_code, 0) << update.output;

  auto status_json = Run({"--status", "--json"});
  EXPECT_EQ(status_json.exit_code, 0) << status_json.output;
  EXPECT_TRUE(ValidUtf8(status_json.output));
  EXPECT_FALSE(nlohmann::json::parse(status_json.output, nullptr, false).is_discarded());
  auto status_text = Run({"--status"});
  EXPECT_EQ(status_text.exit_code, 0) << status_text.output;
  auto history = Run({"--history", "1", "--json"});
  EXPECT_EQ(history.exit_code, 0) << history.output;
  EXPECT_TRUE(ValidUtf8(history.output));
  EXPECT_FALSE(nlohmann::json::parse(history.output, nullptr, false).is_discarded())
      << history.output;
  auto check = Run({"--check"});
  EXPECT_TRUE(check.exit_code == 0 || check.exit_code == 1) << check.output;
  EXPECT_TRUE(ValidUtf8(check.output));

  // The page and /metrics of the daemon started again on that database.
  auto again = StartDaemon("again.log");
  ASSERT_TRUE(WaitFor(
      [&] { return ReadFile(dir_ / "again.log").find("daemon.ready") != std::string::npos; }, 20s))
      << ReadFile(dir_ / "again.log");
  for (const char* path : {"/", "/metrics"}) {
    auto got = RunCommand({"/usr/bin/curl", "-sS", "--fail", "http://127.0.0.1:" + port + path},
                          dir_.path());
    EXPECT_EQ(got.exit_code, 0) << path << ": " << got.output;
    EXPECT_TRUE(ValidUtf8(got.output)) << path;
  }
  again->Signal(SIGTERM);
  EXPECT_EQ(again->Wait(20s), std::optional<int>(0));
}

}  // namespace
}  // namespace broadcastd
