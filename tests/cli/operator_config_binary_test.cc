// The real broadcastd binary where an operator meets a config or a folder that is not as
// it should be: --status, --history, --audit and the operator actions go on while the config file
// is broken (the daemon still runs on its old one), saying what they ignored and where the
// database path came from; a file that cannot be read is told apart from a folder or file
// this user may not read, naming the user.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "e2e/child_process.h"
#include "fakes/temp_dir.h"
#include "store/store.h"

namespace broadcastd {
namespace {

namespace fs = std::filesystem;

const std::string kBinary = std::string(BROADCASTD_BINARY_DIR) + "/broadcastd";

class OperatorConfigBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ / "campaigns");
    fs::permissions(dir_.Write("credentials/main.token", "a-token\n"), fs::perms(0600));
  }

  fs::path Db() const { return dir_ / "state/queue.db"; }
  fs::path Config() const { return dir_ / "broadcastd.yaml"; }

  // A valid config, then `tail` (top-level lines).
  void WriteConfig(const std::string& head, const std::string& tail = "") {
    dir_.Write("broadcastd.yaml", head + "campaigns_dir: " + (dir_ / "campaigns").string() +
                                      "\napps:\n  main:\n    host: http://127.0.0.1:9\n"
                                      "    org: org\n    app: app\n    client_id: cid\n"
                                      "    token_file: main.token\n" +
                                      tail);
  }

  void CreateDatabase() {
    auto store = Store::Open(Db(), Store::Mode::kReadWrite);
    ASSERT_TRUE(store.has_value()) << store.error().message;
  }

  CommandResult Run(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
    args.insert(args.begin(), {kBinary, "--config", Config().string()});
    return RunCommand(args, dir_.path(), env);
  }

  // The binary as uid 65534, for what only a user other than root meets.
  CommandResult RunAsNobody(std::vector<std::string> args) {
    std::vector<std::string> argv = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                                     "--clear-groups", kBinary};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, dir_.path());
  }

  TempDir dir_;
};

// An edit not yet reloaded (or rejected by the reload): the daemon runs on its old config
// and the database is where it was, so the operator's commands must still work.
TEST_F(OperatorConfigBinaryTest, BrokenConfigStillAllowsStatusHistoryAndActions) {
  WriteConfig("database: " + Db().string() + "\n", "no_such_key: 1\n");
  CreateDatabase();
  const std::string ignored = "no_such_key: unknown key";
  const std::string origin =
      "database " + Db().string() + ": from the config's `database` (line 1)";

  CommandResult status = Run({"--status"});
  EXPECT_EQ(status.exit_code, 0) << status.output;
  EXPECT_NE(status.output.find(Config().string() + " is not valid"), std::string::npos)
      << status.output;
  EXPECT_NE(status.output.find(ignored), std::string::npos) << status.output;
  EXPECT_NE(status.output.find(origin), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("QUEUE"), std::string::npos) << status.output;
  // The app's endpoints are those of the file, with nothing held for a missing app.
  EXPECT_NE(status.output.find("main  users"), std::string::npos) << status.output;

  CommandResult pause = Run({"--pause", "main/users", "--reason", "vendor incident"});
  EXPECT_EQ(pause.exit_code, 0) << pause.output;
  EXPECT_NE(pause.output.find("main/users: paused"), std::string::npos) << pause.output;
  EXPECT_NE(pause.output.find(origin), std::string::npos) << pause.output;
  // A typo is still refused against the apps the file names.
  EXPECT_EQ(Run({"--pause", "mian/users"}).exit_code, 2);

  CommandResult history = Run({"--history", "1"});
  EXPECT_EQ(history.exit_code, 1) << history.output;  // no such job, but the store was read
  EXPECT_NE(history.output.find("no job 1"), std::string::npos) << history.output;
  EXPECT_NE(history.output.find(ignored), std::string::npos) << history.output;

  // The audit export reads the same store the same way: the pause above is in it.
  CommandResult audit = Run({"--audit"});
  EXPECT_EQ(audit.exit_code, 0) << audit.output;
  EXPECT_NE(audit.output.find("\"pause\""), std::string::npos) << audit.output;
  EXPECT_NE(audit.output.find(ignored), std::string::npos) << audit.output;
}

// A file that is not even YAML: the database is where the daemon keeps it by default.
TEST_F(OperatorConfigBinaryTest, UnparsableConfigFallsBackToTheDefaultDatabaseAndSaysSo) {
  dir_.Write("broadcastd.yaml", "apps: [\n");
  CreateDatabase();
  CommandResult status =
      Run({"--status", "--json"}, {"STATE_DIRECTORY=" + Db().parent_path().string()});
  EXPECT_EQ(status.exit_code, 0) << status.output;
  EXPECT_NE(status.output.find("database " + Db().string() + ": from the default path"),
            std::string::npos)
      << status.output;
  EXPECT_NE(status.output.find("\"database\": \"" + Db().string() + "\""), std::string::npos)
      << status.output;
}

// A mistyped --config must not open the service's queue instead.
TEST_F(OperatorConfigBinaryTest, MissingConfigIsStillAnErrorThatSaysSo) {
  CommandResult status = Run({"--status"});
  EXPECT_EQ(status.exit_code, 2) << status.output;
  EXPECT_NE(status.output.find("config " + Config().string() + ": cannot be read: no such file"),
            std::string::npos)
      << status.output;
}

// As an operator runs the check before `sudo`: the credentials folder is root's (0700).
// "No such file" would send them looking for a file that is there.
TEST_F(OperatorConfigBinaryTest, CheckConfigAsAnotherUserNamesTheClosedFolderAndTheUser) {
  if (::geteuid() != 0 || !fs::exists("/usr/bin/setpriv")) {
    GTEST_SKIP() << "needs root and setpriv (util-linux)";
  }
  WriteConfig("database: " + Db().string() + "\n");
  CreateDatabase();
  fs::permissions(dir_.path(), fs::perms(0755));
  fs::permissions(Config(), fs::perms(0644));
  fs::permissions(dir_ / "credentials", fs::perms(0700));
  CommandResult closed = RunAsNobody({"--check-config", "--config", Config().string()});
  EXPECT_EQ(closed.exit_code, 0) << closed.output;
  EXPECT_EQ(closed.output.find("no such file"), std::string::npos) << closed.output;
  EXPECT_NE(closed.output.find("the folder " + (dir_ / "credentials").string() +
                               " cannot be entered by user"),
            std::string::npos)
      << closed.output;
  EXPECT_NE(closed.output.find("(uid 65534)"), std::string::npos) << closed.output;
  EXPECT_NE(closed.output.find("owner root, mode 0700"), std::string::npos) << closed.output;

  // The folder open, the file root's alone: the file, not the folder, and its mode.
  fs::permissions(dir_ / "credentials", fs::perms(0755));
  CommandResult file = RunAsNobody({"--check-config", "--config", Config().string()});
  EXPECT_NE(file.output.find("not readable by user"), std::string::npos) << file.output;
  EXPECT_NE(file.output.find("owner root, mode 0600"), std::string::npos) << file.output;

  // A config in a folder this user may not enter: not "no such file" either.
  fs::create_directories(dir_ / "private");
  fs::copy_file(Config(), dir_ / "private/broadcastd.yaml");
  fs::permissions(dir_ / "private", fs::perms(0700));
  CommandResult config =
      RunAsNobody({"--status", "--config", (dir_ / "private/broadcastd.yaml").string()});
  EXPECT_EQ(config.exit_code, 2) << config.output;
  EXPECT_NE(config.output.find("cannot tell whether it is there: the folder " +
                               (dir_ / "private").string() + " cannot be entered by user"),
            std::string::npos)
      << config.output;
  CommandResult check =
      RunAsNobody({"--check-config", "--config", (dir_ / "private/broadcastd.yaml").string()});
  EXPECT_EQ(check.exit_code, 1) << check.output;
  EXPECT_NE(check.output.find("cannot tell whether it is there: the folder " +
                              (dir_ / "private").string() + " cannot be entered by user"),
            std::string::npos)
      << check.output;

  // The database behind a folder this user may not enter: that folder, named.
  fs::permissions(Db().parent_path(), fs::perms(0700));
  CommandResult database = RunAsNobody({"--status", "--config", Config().string()});
  EXPECT_EQ(database.exit_code, 2) << database.output;
  EXPECT_NE(database.output.find("the folder " + Db().parent_path().string() +
                                 " (owner root, mode 0700) cannot be entered"),
            std::string::npos)
      << database.output;
}

}  // namespace
}  // namespace broadcastd
