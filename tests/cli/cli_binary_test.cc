// The real broadcastd binary as an operator's shell and systemd run it: exit
// codes, a modifier that must not start the daemon, commands that never create
// a database and say why they cannot open one, the default database path,
// --check-config beside a bad campaign, journald priorities, and a secret
// pasted into the config that must never be echoed.

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "core/time_format.h"
#include "e2e/child_process.h"
#include "fakes/temp_dir.h"
#include "store/store.h"

namespace broadcastd {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string kBinary = std::string(BROADCASTD_BINARY_DIR) + "/broadcastd";

constexpr const char* kCampaign = R"(id: ok
broadcasts:
  - {name: hello, target: users, message: {type: txt, msg: hello}}
)";

class CliBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.Write("campaigns/ok.yaml", kCampaign);
    fs::permissions(dir_.Write("credentials/main.token", "a-token\n"), fs::perms(0600));
    WriteConfig("database: " + Db().string() + "\n");
  }

  fs::path Db() const { return dir_ / "state/queue.db"; }
  fs::path Config() const { return dir_ / "broadcastd.yaml"; }

  // `head` holds the top-level lines before campaigns_dir (database: …).
  void WriteConfig(const std::string& head,
                   const std::string& credential = "token_file: main.token") {
    // on_new_queue: the daemon these tests start sends what the folder holds.
    dir_.Write("broadcastd.yaml", head + "campaigns_dir: " + (dir_ / "campaigns").string() +
                                      "\non_new_queue: send"
                                      "\napps:\n  main:\n    host: http://127.0.0.1:9\n"
                                      "    org: org\n    app: app\n    client_id: cid\n    " +
                                      credential + "\n");
  }

  void CreateDatabase() {
    auto store = Store::Open(Db(), Store::Mode::kReadWrite);
    ASSERT_TRUE(store.has_value()) << store.error().message;
  }

  CommandResult Run(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
    args.insert(args.begin(), {kBinary, "--config", Config().string()});
    return RunCommand(args, dir_.path(), env);
  }

  TempDir dir_;
};

// Each of these once started the daemon from an operator's shell, which sent.
TEST_F(CliBinaryTest, ModifierWithoutActionExitsWithUsageErrorAndNeverRunsTheDaemon) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--json"}, {"--reason", "x"}, {"--broadcast-id", "5"}, {"--cancel-job", ""}}) {
    CommandResult r = Run(args);
    EXPECT_EQ(r.exit_code, 2) << args.front() << ": " << r.output;
    EXPECT_NE(r.output.find("broadcastd: "), std::string::npos) << r.output;
    // The daemon would have created its database (and sent the due campaign).
    EXPECT_FALSE(fs::exists(Db())) << args.front();
  }
}

TEST_F(CliBinaryTest, DocumentedExitCodes) {
  CommandResult version = RunCommand({kBinary, "--version"}, dir_.path());
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.output, std::string("broadcastd ") + BROADCASTD_VERSION + "\n");
  EXPECT_EQ(RunCommand({kBinary, "--help"}, dir_.path()).exit_code, 0);
  EXPECT_EQ(Run({"--no-such-flag"}).exit_code, 2);
  EXPECT_EQ(Run({"--check"}).exit_code, 0);
  dir_.Write("campaigns/bad.yaml", "broadcasts: 7\n");
  EXPECT_EQ(Run({"--check"}).exit_code, 1);
  EXPECT_EQ(Run({"--status"}).exit_code, 2);  // no database yet
  CreateDatabase();
  EXPECT_EQ(Run({"--status"}).exit_code, 0);
  EXPECT_EQ(Run({"--cancel-job", "4242"}).exit_code, 1);  // refused: no such job
  EXPECT_EQ(Run({"--pause", "main/users"}).exit_code, 0);
}

TEST_F(CliBinaryTest, OperatorActionOnAMissingDatabaseCreatesNothingAndNamesThePath) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"--pause", "main/users"},
                                                                {"--cancel-job", "1"},
                                                                {"--cancel-campaign", "ok"},
                                                                {"--status"}}) {
    CommandResult r = Run(args);
    EXPECT_EQ(r.exit_code, 2) << args.front();
    EXPECT_NE(r.output.find("database " + Db().string() + ": no such file"), std::string::npos)
        << r.output;
    EXPECT_EQ(r.output.find("paused"), std::string::npos) << r.output;
  }
  EXPECT_FALSE(fs::exists(Db()));
  EXPECT_FALSE(fs::exists(Db().parent_path()));
}

// A permission problem is reported as one, with the path and the user.
TEST_F(CliBinaryTest, UnreachableOrUnwritableDatabaseIsAPermissionErrorNamingPathAndUser) {
  CreateDatabase();
  std::vector<std::string> as_other;  // run the binary as a user without access
  std::string user;
  if (::geteuid() == 0) {
    if (!fs::exists("/usr/bin/setpriv")) GTEST_SKIP() << "needs setpriv (util-linux) as root";
    as_other = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
    user = "(uid 65534)";
    fs::permissions(dir_.path(), fs::perms(0755));
    fs::permissions(Config(), fs::perms(0644));
    fs::permissions(Db().parent_path(), fs::perms(0700));
    auto run = [&](std::vector<std::string> args) {
      std::vector<std::string> argv = as_other;
      argv.insert(argv.end(), {kBinary, "--config", Config().string()});
      argv.insert(argv.end(), args.begin(), args.end());
      // The output file is written by the test (root), not by the child.
      return RunCommand(argv, dir_.path());
    };
    CommandResult hidden = run({"--status"});
    EXPECT_EQ(hidden.exit_code, 2) << hidden.output;
    EXPECT_NE(hidden.output.find("database " + Db().string() + ": permission denied for user"),
              std::string::npos)
        << hidden.output;
    EXPECT_NE(hidden.output.find(user), std::string::npos) << hidden.output;
    EXPECT_EQ(hidden.output.find("no such file"), std::string::npos) << hidden.output;

    fs::permissions(Db().parent_path(), fs::perms(0755));
    fs::permissions(Db(), fs::perms(0644));
    CommandResult readonly = run({"--pause", "main/users"});
    EXPECT_EQ(readonly.exit_code, 2) << readonly.output;
    EXPECT_NE(readonly.output.find("database " + Db().string() + ": not writable by user"),
              std::string::npos)
        << readonly.output;
    EXPECT_NE(readonly.output.find(user), std::string::npos) << readonly.output;
    // Even --status needs the WAL's -shm file beside the database.
    CommandResult status = run({"--status"});
    EXPECT_EQ(status.exit_code, 2) << status.output;
    EXPECT_NE(status.output.find("its folder " + Db().parent_path().string() +
                                 " is not writable by user"),
              std::string::npos)
        << status.output;
  } else {
    fs::permissions(Db(), fs::perms(0444));
    CommandResult readonly = Run({"--pause", "main/users"});
    EXPECT_EQ(readonly.exit_code, 2) << readonly.output;
    EXPECT_NE(readonly.output.find(": not writable by user"), std::string::npos) << readonly.output;
  }
}

// A typo in APP must not print "paused" and pause nothing.
TEST_F(CliBinaryTest, PauseOfAnAppNotInTheConfigIsRefused) {
  CreateDatabase();
  CommandResult r = Run({"--pause", "mian/users"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("no app mian"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("paused"), std::string::npos) << r.output;
  CommandResult ok = Run({"--pause", "main/users", "--reason", "vendor incident"});
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("main/users: paused"), std::string::npos) << ok.output;
}

// Without `database` and outside systemd, --status looks where the service keeps it.
TEST_F(CliBinaryTest, DefaultDatabaseIsTheServiceStateFolderFromAShell) {
  WriteConfig("");
  const char* saved = std::getenv("STATE_DIRECTORY");
  std::string saved_value = saved ? saved : "";
  ::unsetenv("STATE_DIRECTORY");
  CommandResult shell = Run({"--status", "--json"});
  if (saved) ::setenv("STATE_DIRECTORY", saved_value.c_str(), 1);
  EXPECT_NE(shell.output.find("/var/lib/broadcastd/queue.db"), std::string::npos) << shell.output;
  EXPECT_EQ(shell.output.find("STATE_DIRECTORY"), std::string::npos) << shell.output;

  CreateDatabase();
  CommandResult service =
      Run({"--status", "--json"}, {"STATE_DIRECTORY=" + Db().parent_path().string()});
  EXPECT_EQ(service.exit_code, 0) << service.output;
  EXPECT_NE(service.output.find("\"database\": \"" + Db().string() + "\""), std::string::npos)
      << service.output;
}

// The unit's ExecStartPre: a bad campaign must not stop the service's start.
TEST_F(CliBinaryTest, CheckConfigPassesWithABadCampaignPresent) {
  dir_.Write("campaigns/bad.yaml", "broadcasts: [{name: x, target: nobody}]\n");
  dir_.Write("campaigns/garbage.yaml", "\t: : :\n");
  CommandResult config =
      Run({"--check-config"}, {"CREDENTIALS_DIRECTORY=" + (dir_ / "credentials").string()});
  EXPECT_EQ(config.exit_code, 0) << config.output;
  EXPECT_NE(config.output.find(Config().string() + ": ok"), std::string::npos) << config.output;
  EXPECT_EQ(config.output.find("bad.yaml"), std::string::npos) << config.output;
  EXPECT_EQ(Run({"--check"}).exit_code, 1);  // --check still reports the campaigns

  dir_.Write("broadcastd.yaml", "apps: {}\n");
  EXPECT_EQ(Run({"--check-config"}).exit_code, 1);
}

// The credential files the daemon will read: missing, unreadable or readable by
// every user is a warning (a start still goes on; the sends of that app fail).
TEST_F(CliBinaryTest, ChecksWarnAboutCredentialFilesTheWayTheDaemonLooksThemUp) {
  auto warnings = [&](const std::string& action, const std::vector<std::string>& env = {}) {
    CommandResult r = Run({action}, env);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return r.output.find("warning: apps.main.token_file") == std::string::npos ? std::string()
                                                                               : r.output;
  };
  // From a shell: the credentials folder beside the config, as the unit loads it.
  EXPECT_EQ(warnings("--check-config"), "");
  EXPECT_EQ(warnings("--check"), "");
  fs::permissions(dir_ / "credentials/main.token", fs::perms(0644));
  EXPECT_NE(warnings("--check-config").find("is readable by every user (mode 644)"),
            std::string::npos);
  EXPECT_NE(warnings("--check").find("is readable by every user"), std::string::npos);
  fs::remove(dir_ / "credentials/main.token");
  EXPECT_NE(warnings("--check-config").find("no such file in " + (dir_ / "credentials").string()),
            std::string::npos);
  // Under systemd: $CREDENTIALS_DIRECTORY, where LoadCredential=broadcastd:FOLDER
  // names the file main.token broadcastd_main.token.
  fs::permissions(dir_.Write("loaded/broadcastd_main.token", "a-token\n"), fs::perms(0400));
  EXPECT_EQ(warnings("--check-config", {"CREDENTIALS_DIRECTORY=" + (dir_ / "loaded").string()}),
            "");
}

// Under systemd the check's lines carry syslog priorities, so `journalctl -p err`
// shows why a start failed; elsewhere they do not.
TEST_F(CliBinaryTest, CheckConfigLinesCarryJournalPrioritiesUnderSystemd) {
  auto run_into_journal = [&](const std::string& name) {
    const fs::path log = dir_.Write(name, "");
    struct stat st {};
    EXPECT_EQ(::stat(log.c_str(), &st), 0);
    ChildProcess p(
        {kBinary, "--config", Config().string(), "--check-config"}, log,
        {"JOURNAL_STREAM=" + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino)});
    EXPECT_TRUE(p.Wait(30s).has_value());
    return ReadFile(log);
  };
  // A missing credential is a warning, the config's verdict information.
  fs::remove(dir_ / "credentials/main.token");
  std::string good = run_into_journal("good.log");
  EXPECT_TRUE(good.starts_with("<6>" + Config().string() + ": ok")) << good;
  EXPECT_NE(good.find("\n<4>warning: apps.main.token_file"), std::string::npos) << good;

  WriteConfig("safety_margin_ms: -1\n");
  std::string bad = run_into_journal("bad.log");
  EXPECT_TRUE(bad.starts_with("<3>")) << bad;
  EXPECT_NE(bad.find("safety_margin_ms"), std::string::npos) << bad;

  // Not the journal (JOURNAL_STREAM names another file): plain lines.
  CommandResult plain = Run({"--check-config"}, {"JOURNAL_STREAM=1:1"});
  EXPECT_EQ(plain.output.find("<3>"), std::string::npos) << plain.output;
  EXPECT_EQ(plain.output.find("<6>"), std::string::npos) << plain.output;
}

// The daemon tells systemd what it is doing (STATUS=), and again when that
// changes: here an operator pauses the endpoint of its only job.
TEST_F(CliBinaryTest, DaemonStatusLineFollowsTheQueue) {
  const fs::path socket_path = dir_ / "notify.sock";
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(socket_path.string().size(), sizeof addr.sun_path);
  std::strcpy(addr.sun_path, socket_path.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  // Every STATUS= the daemon sent, in order.
  std::vector<std::string> statuses;
  auto wait_status = [&](const std::string& wanted) {
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
      for (const auto& s : statuses) {
        if (s == wanted) return true;
      }
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) continue;
      std::string message(buf, static_cast<size_t>(n));
      for (size_t at = 0; at < message.size();) {
        size_t end = message.find('\n', at);
        if (end == std::string::npos) end = message.size();
        std::string line = message.substr(at, end - at);
        if (line.starts_with("STATUS=")) statuses.push_back(line.substr(7));
        at = end + 1;
      }
    }
    return false;
  };

  // One users broadcast an hour from now: queued, and its forecast is its send_at.
  const TimePoint now = std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
  const TimePoint send_at = std::chrono::floor<std::chrono::seconds>(now + 1h);
  dir_.Write("campaigns/ok.yaml",
             "id: ok\nbroadcasts:\n  - {name: later, target: users, send_at: \"" +
                 FormatRfc3339(send_at) + "\", message: {type: txt, msg: later}}\n");
  const std::string stamp = FormatRfc3339(send_at);
  const std::string when =
      stamp.substr(0, 10) == FormatRfc3339(now).substr(0, 10) ? stamp.substr(11) : stamp;
  ChildProcess daemon({kBinary, "--config", Config().string()}, dir_ / "daemon.log",
                      {"NOTIFY_SOCKET=" + socket_path.string(),
                       "CREDENTIALS_DIRECTORY=" + (dir_ / "credentials").string()});
  ASSERT_TRUE(daemon.started());
  EXPECT_TRUE(wait_status("1 queued; next main/users at " + when))
      << ::testing::PrintToString(statuses) << ReadFile(dir_ / "daemon.log");

  CommandResult pause = Run({"--pause", "main/users"});
  EXPECT_EQ(pause.exit_code, 0) << pause.output;
  EXPECT_TRUE(wait_status("1 queued; no send within 48 h; main/users paused"))
      << ::testing::PrintToString(statuses) << ReadFile(dir_ / "daemon.log");
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(20s), 0);
  ::close(fd);
}

std::string DatabaseBytes(const fs::path& db) {
  std::string bytes;
  for (const char* suffix : {"", "-wal"}) bytes += ReadFile(db.string() + suffix);
  return bytes;
}

// A secret pasted as the value of client_secret_file appears in no error, log
// line or database row.
TEST_F(CliBinaryTest, SecretPastedAsTheCredentialFileNameIsNeverEchoed) {
  // Long enough to look like a secret: refused when the config is read.
  const std::string pasted = "YXA6kP3mQzPastedSecret_0123456789";
  WriteConfig("database: " + Db().string() + "\n", "client_secret_file: " + pasted);
  CommandResult check = Run({"--check-config"});
  EXPECT_EQ(check.exit_code, 1) << check.output;
  EXPECT_NE(check.output.find("apps.main.client_secret_file: looks like a secret"),
            std::string::npos)
      << check.output;
  EXPECT_EQ(check.output.find("PastedSecret"), std::string::npos) << check.output;
  CommandResult daemon = Run({});
  EXPECT_EQ(daemon.exit_code, 1) << daemon.output;
  EXPECT_EQ(daemon.output.find("PastedSecret"), std::string::npos) << daemon.output;

  // A short one passes as a file name: the send that cannot read it says which
  // key is wrong, never its value, in the log and in the database.
  const std::string short_secret = "hunter2Pasted";
  WriteConfig("database: " + Db().string() + "\n", "client_secret_file: " + short_secret);
  CommandResult short_check = Run({"--check-config"});
  EXPECT_NE(short_check.output.find("apps.main.client_secret_file: no such file"),
            std::string::npos)
      << short_check.output;
  EXPECT_EQ(short_check.output.find(short_secret), std::string::npos) << short_check.output;
  const fs::path log = dir_ / "daemon.log";
  ChildProcess p({kBinary, "--config", Config().string()}, log,
                 {"CREDENTIALS_DIRECTORY=" + (dir_ / "credentials").string()});
  ASSERT_TRUE(p.started());
  EXPECT_TRUE(
      WaitFor([&] { return ReadFile(log).find("client_secret_file") != std::string::npos; }, 20s))
      << ReadFile(log);
  p.Signal(SIGTERM);
  EXPECT_EQ(p.Wait(20s), 0);
  const std::string text = ReadFile(log);
  EXPECT_EQ(text.find(short_secret), std::string::npos) << text;
  const std::string bytes = DatabaseBytes(Db());
  EXPECT_FALSE(bytes.empty());
  EXPECT_NE(bytes.find("client_secret_file"), std::string::npos);  // the error is recorded
  EXPECT_EQ(bytes.find(short_secret), std::string::npos);
}

}  // namespace
}  // namespace broadcastd
