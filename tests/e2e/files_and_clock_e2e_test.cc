// The database is what it seems, and time steps do not break windows (issue 8, cases
// 6 to 9): the real binary against the real simulator.

#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <regex>

#include "e2e/daemon_fixture.h"

namespace broadcastd {
namespace {

// libfaketime is preloaded into the daemon; a binary built with AddressSanitizer refuses
// to start unless ASan's runtime comes first. The plain build runs these tests.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kUnderAddressSanitizer = true;
#else
constexpr bool kUnderAddressSanitizer = false;
#endif

namespace fs = std::filesystem;

const char* const kFakeTime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

// A systemd notify socket: what the daemon sends with sd_notify arrives here.
class NotifySocket {
 public:
  explicit NotifySocket(const fs::path& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~NotifySocket() { ::close(fd_); }
  bool bound() const { return bound_; }
  std::string env() const { return "NOTIFY_SOCKET=" + path_.string(); }
  // Everything received so far.
  std::string Received() {
    char buffer[4096];
    ssize_t n;
    while ((n = ::recv(fd_, buffer, sizeof buffer, 0)) > 0) received_.append(buffer, n);
    return received_;
  }

 private:
  fs::path path_;
  int fd_ = -1;
  bool bound_ = false;
  std::string received_;
};

std::string UserName() { return ::getpwuid(::geteuid())->pw_name; }

// Root writes read-only files: run the daemon without the capabilities that let it,
// so that it meets the permissions an ordinary service user would.
std::vector<std::string> AsOrdinaryUser() {
  if (::geteuid() != 0) return {};
  return {"/usr/bin/setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"};
}

class FilesE2ETest : public DaemonE2ETest {
 protected:
  fs::path Db() { return dir_ / "state/queue.db"; }

  // Starts a daemon once so that the database exists, then stops it.
  void CreateDatabase() {
    auto daemon = StartDaemon("create.log");
    ASSERT_TRUE(WaitFor([&] { return LogHas("create.log", "daemon.ready"); }, 20s));
    daemon->Signal(SIGTERM);
    ASSERT_EQ(daemon->Wait(20s), 0);
  }

  // Starts a daemon that must refuse: returns its log; checks the exit and no READY.
  std::string ExpectRefusal(const std::string& log) {
    NotifySocket notify(dir_ / (log + ".sock"));
    EXPECT_TRUE(notify.bound());
    auto daemon = StartDaemonWith(log, {notify.env()}, AsOrdinaryUser());
    auto code = daemon->Wait(10s);
    EXPECT_TRUE(code.has_value()) << "still running: " << ReadFile(dir_ / log);
    if (code) {
      EXPECT_NE(*code, 0);
    }
    EXPECT_EQ(notify.Received().find("READY=1"), std::string::npos);
    const std::string text = ReadFile(dir_ / log);
    EXPECT_EQ(text.find("daemon.ready"), std::string::npos) << text;
    EXPECT_NE(text.find("daemon.start_failed"), std::string::npos) << text;
    EXPECT_NE(text.find(Db().string()), std::string::npos) << text;
    EXPECT_NE(text.find("user " + UserName()), std::string::npos) << text;
    return text;
  }
};

// Case 6: a database the daemon cannot write is refused at start, clearly.
TEST_F(FilesE2ETest, ReadOnlyDatabaseFileRefusesToStart) {
  CreateDatabase();
  fs::permissions(Db(), fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  const std::string log = ExpectRefusal("readonly.log");
  EXPECT_NE(log.find("the file is read-only for user " + UserName()), std::string::npos) << log;
  EXPECT_EQ(log.find("store.error"), std::string::npos) << log;
}

TEST_F(FilesE2ETest, ReadOnlyDatabaseFolderRefusesToStart) {
  CreateDatabase();
  fs::permissions(dir_ / "state", fs::perms::owner_read | fs::perms::owner_exec);
  const std::string log = ExpectRefusal("readonly-folder.log");
  fs::permissions(dir_ / "state", fs::perms::owner_all);
  EXPECT_NE(log.find("its folder " + (dir_ / "state").string() + " is read-only"),
            std::string::npos)
      << log;
}

// Case 7: the WAL deleted under a running daemon. It stops before the next claim
// (a claim committed into the unlinked WAL would vanish) and exits non-zero; after a
// restart nothing is sent twice.
TEST_F(FilesE2ETest, DeletedWalStopsSendingAndNothingIsSentTwice) {
  std::string yaml = "id: c\nbroadcasts:\n";
  for (int i = 0; i < 6; ++i) {
    yaml += "  - {name: b" + std::to_string(i) +
            ", target: chatrooms, message: {type: txt, msg: m" + std::to_string(i) + "}}\n";
  }
  dir_.Write("campaigns/rooms.yaml", yaml);
  auto daemon = StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return Broadcasts().size() >= 2; }, 30s))
      << ReadFile(dir_ / "daemon.log");
  fs::path wal = Db();
  wal += "-wal";
  ASSERT_TRUE(fs::remove(wal));
  const size_t at_removal = Broadcasts().size();
  auto code = daemon->Wait(10s);
  ASSERT_TRUE(code.has_value()) << ReadFile(dir_ / "daemon.log");
  EXPECT_NE(*code, 0);
  EXPECT_TRUE(LogHas("daemon.log", "store.files_changed")) << ReadFile(dir_ / "daemon.log");
  EXPECT_LE(Broadcasts().size(), at_removal + 1);  // at most the request then in flight

  auto again = StartDaemon("daemon2.log");
  ASSERT_TRUE(WaitFor(
      [&] {
        auto states = JobStates();
        return states["sent"] + states["unknown"] == 6;
      },
      30s))
      << ReadFile(dir_ / "daemon2.log") << Status().dump(1);
  again->Signal(SIGTERM);
  EXPECT_EQ(again->Wait(20s), 0);
  std::set<std::string> bodies;
  for (const auto& b : Broadcasts()) {
    EXPECT_TRUE(bodies.insert(b["body"].get<std::string>()).second) << "sent twice: " << b.dump();
  }
  EXPECT_EQ(bodies.size(), 6u - static_cast<size_t>(JobStates()["unknown"]));
}

// Case 8: the lock is on the database itself; removing the pid file changes nothing.
TEST_F(FilesE2ETest, RemovingTheLockFileDoesNotLetASecondDaemonRun) {
  auto first = StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return LogHas("daemon.log", "daemon.ready"); }, 20s))
      << ReadFile(dir_ / "daemon.log");
  fs::path lock = Db();
  lock += ".lock";
  fs::remove(lock);
  auto second = StartDaemon("second.log");
  auto code = second->Wait(20s);
  ASSERT_TRUE(code.has_value()) << ReadFile(dir_ / "second.log");
  EXPECT_NE(*code, 0);
  EXPECT_TRUE(LogHas("second.log",
                     "in use by another broadcastd (pid " + std::to_string(first->pid()) + ")"))
      << ReadFile(dir_ / "second.log");
  EXPECT_FALSE(first->Wait(100ms).has_value());
  // --status still names the running daemon.
  const nlohmann::json status = Status();
  EXPECT_EQ(status["daemon"]["pid"], first->pid()) << status.dump(1);
  first->Signal(SIGTERM);
  EXPECT_EQ(first->Wait(20s), 0);
}

// Case 9: a restart under a wall clock set back two hours still sends within a window
// (the attempts stored under the right time now lie two hours "ahead").
TEST_F(FilesE2ETest, RestartUnderAClockSetBackTwoHoursSendsWithinAWindow) {
  if (kUnderAddressSanitizer) {
    GTEST_SKIP() << "libfaketime cannot be preloaded ahead of AddressSanitizer's runtime";
  }
  ASSERT_TRUE(fs::exists(kFakeTime)) << "install the faketime package";
  StartSimulator({"--window", "chatrooms=1/3"},
                 "limits:\n  chatrooms:\n    windows: [{count: 1, seconds: 3}]\n"
                 "    daily: 100\n");
  dir_.Write("campaigns/rooms.yaml", R"(id: rooms
broadcasts:
  - {name: first, target: chatrooms, message: {type: txt, msg: one}}
  - {name: second, target: chatrooms, message: {type: txt, msg: two}}
)");
  auto daemon = StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return Broadcasts().size() == 1; }, 20s))
      << ReadFile(dir_ / "daemon.log");
  daemon->Signal(SIGKILL);
  daemon->Wait(5s);
  ASSERT_EQ(Broadcasts().size(), 1u) << "the test needs the second one still queued";

  // The wall clock goes back; the monotonic clock, as on a real machine, does not.
  auto later = StartDaemonWith("daemon2.log",
                               {std::string("LD_PRELOAD=") + kFakeTime, "FAKETIME=-2h",
                                "FAKETIME_DONT_FAKE_MONOTONIC=1", "FAKETIME_NO_CACHE=1"},
                               {});
  ASSERT_TRUE(WaitFor([&] { return Broadcasts().size() == 2; }, 60s))
      << ReadFile(dir_ / "daemon2.log");
  const auto sent = Broadcasts();
  for (const auto& b : sent) EXPECT_EQ(b["status"], 200) << b.dump();  // no 429
  const int64_t gap = sent[1]["time_ms"].get<int64_t>() - sent[0]["time_ms"].get<int64_t>();
  EXPECT_GE(gap, 3000);
  // Not held back by the two hours the stored attempt now lies ahead: whatever the
  // restart cost on this machine, the gap is far from the step.
  EXPECT_LT(gap, 2 * 3600 * 1000 - 3000);
  later->Signal(SIGTERM);
  EXPECT_EQ(later->Wait(20s), 0);
}

// Case 9, live: the wall clock goes back two hours under a running daemon. It logs the
// step and goes on sending a window apart.
TEST_F(FilesE2ETest, ALiveStepBackIsLoggedAndSendingGoesOn) {
  if (kUnderAddressSanitizer) {
    GTEST_SKIP() << "libfaketime cannot be preloaded ahead of AddressSanitizer's runtime";
  }
  ASSERT_TRUE(fs::exists(kFakeTime)) << "install the faketime package";
  StartSimulator({"--window", "chatrooms=1/2"},
                 "limits:\n  chatrooms:\n    windows: [{count: 1, seconds: 2}]\n"
                 "    daily: 100\n");
  dir_.Write("campaigns/rooms.yaml", R"(id: rooms
broadcasts:
  - {name: first, target: chatrooms, message: {type: txt, msg: one}}
  - {name: second, target: chatrooms, message: {type: txt, msg: two}}
  - {name: third, target: chatrooms, message: {type: txt, msg: three}}
)");
  dir_.Write("faketime.rc", "+0\n");
  auto daemon = StartDaemonWith("daemon.log",
                                {std::string("LD_PRELOAD=") + kFakeTime,
                                 "FAKETIME_TIMESTAMP_FILE=" + (dir_ / "faketime.rc").string(),
                                 "FAKETIME_DONT_FAKE_MONOTONIC=1", "FAKETIME_NO_CACHE=1"},
                                {});
  ASSERT_TRUE(WaitFor([&] { return Broadcasts().size() == 1; }, 20s))
      << ReadFile(dir_ / "daemon.log");
  dir_.Write("faketime.rc", "-2h\n");
  ASSERT_TRUE(WaitFor([&] { return Broadcasts().size() == 3; }, 60s))
      << ReadFile(dir_ / "daemon.log");
  // The step is measured between two readings of both clocks: -2 h give or take
  // the time between the readings.
  const std::string log = ReadFile(dir_ / "daemon.log");
  std::smatch step;
  ASSERT_TRUE(std::regex_search(log, step, std::regex("clock\\.step delta_ms=(-?[0-9]+)"))) << log;
  EXPECT_NEAR(std::stod(step[1].str()), -7200000.0, 1000.0) << log;
  const auto sent = Broadcasts();
  for (const auto& b : sent) EXPECT_EQ(b["status"], 200) << b.dump();  // no 429
  for (size_t i = 1; i < sent.size(); ++i) {
    const int64_t gap = sent[i]["time_ms"].get<int64_t>() - sent[i - 1]["time_ms"].get<int64_t>();
    EXPECT_GE(gap, 2000);
    EXPECT_LT(gap, 2 * 3600 * 1000 - 2000);  // not held back by the step, however slow
  }
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(20s), 0);
}

}  // namespace
}  // namespace broadcastd
