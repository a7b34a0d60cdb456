// Guards of the command line, with the real binary: a config that still holds the
// shipped placeholders does not pass --check-config (the unit's ExecStartPre) nor start
// the daemon.

#include <sys/stat.h>

#include "e2e/daemon_fixture.h"

namespace broadcastd {
namespace {

namespace fs = std::filesystem;

class GuardCommandsE2ETest : public DaemonE2ETest {
 protected:
  std::string Config() const { return (dir_ / "broadcastd.yaml").string(); }
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

}  // namespace
}  // namespace broadcastd
