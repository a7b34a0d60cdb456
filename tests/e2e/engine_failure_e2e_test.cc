// The engine's failure paths with the real binary against the real simulator:
// token failures spend no budget and show in --status, a reload with the right
// secret sends the same day, a 401 is one attempt per POST, and a config naming
// one vendor app twice is refused. Real clock: bounded waits for events.

#include "core/clock.h"
#include "core/time_format.h"
#include "e2e/daemon_fixture.h"

namespace broadcastd {
namespace {

namespace fs = std::filesystem;

class EngineFailureE2ETest : public DaemonE2ETest {
 protected:
  // The daemon reads its secret from `file` (under the credentials folder); the
  // simulator keeps checking against main.secret.
  void DaemonSecretFile(const std::string& file) {
    std::string config = ReadFile(dir_ / "broadcastd.yaml");
    config.replace(config.find("client_secret_file: main.secret"), 31,
                   "client_secret_file: " + file);
    dir_.Write("broadcastd.yaml", config);
  }

  nlohmann::json Endpoint(const nlohmann::json& status, const std::string& target) {
    for (const auto& e : status.value("endpoints", nlohmann::json::array())) {
      if (e["target"] == target) return e;
    }
    return nlohmann::json::object();
  }

  std::string StatusText() {
    return RunCommand({kBinary, "--status", "--config", (dir_ / "broadcastd.yaml").string()},
                      dir_.path())
        .output;
  }

  size_t Count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  }
};

// Case 3: a wrong secret. Token failures are no attempts: the budget stays whole,
// --status says "no token", and after the secret is fixed a SIGHUP sends the same day.
TEST_F(EngineFailureE2ETest, WrongSecretSpendsNoBudgetAndAReloadSendsTheSameDay) {
  dir_.Write("credentials/daemon.secret", "not-the-secret\n");
  DaemonSecretFile("daemon.secret");
  dir_.Write("campaigns/all.yaml", R"(id: all
broadcasts:
  - {name: all, target: users, message: {type: txt, msg: everyone}}
)");
  auto daemon = StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return !Endpoint(Status(), "users")["no_token"].is_null(); }, 20s))
      << ReadFile(dir_ / "daemon.log");
  // Let it fail a few more times (backoff 1 s, 2 s).
  ASSERT_TRUE(WaitFor([&] { return Count(ReadFile(dir_ / "sim.jsonl"), "/token") >= 3; }, 20s));

  const nlohmann::json status = Status();
  EXPECT_EQ(Endpoint(status, "users")["used_today"], 0);
  EXPECT_EQ(Endpoint(status, "users")["left_today"], 3);
  EXPECT_TRUE(Broadcasts().empty());
  EXPECT_EQ(JobStates()["ready"], 1);
  const std::string text = StatusText();
  EXPECT_NE(text.find("NO TOKEN"), std::string::npos) << text;
  EXPECT_NE(text.find("no token since"), std::string::npos) << text;
  const std::string log = ReadFile(dir_ / "daemon.log");
  EXPECT_EQ(Count(log, "token.unavailable"), 1u) << log;  // once per change of reason
  EXPECT_EQ(log.find("not-the-secret"), std::string::npos);

  dir_.Write("credentials/daemon.secret", std::string(kSecret) + "\n");
  daemon->Signal(SIGHUP);
  ASSERT_TRUE(WaitFor([&] { return JobStates()["sent"] == 1; }, 20s))
      << ReadFile(dir_ / "daemon.log");
  EXPECT_EQ(Broadcasts().size(), 1u);
  const nlohmann::json after = Status();
  EXPECT_EQ(Endpoint(after, "users")["used_today"], 1);
  EXPECT_TRUE(Endpoint(after, "users")["no_token"].is_null());
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(20s), 0);
}

TEST_F(EngineFailureE2ETest, MissingSecretFileIsShownByStatusAndAsksNothing) {
  DaemonSecretFile("absent.secret");
  dir_.Write("campaigns/rooms.yaml", R"(id: rooms
broadcasts:
  - {name: r1, target: chatrooms, message: {type: txt, msg: one}}
)");
  auto daemon = StartDaemon();
  ASSERT_TRUE(WaitFor(
      [&] {
        auto why = Endpoint(Status(), "chatrooms")["no_token"];
        return why.is_string() &&
               why.get<std::string>().find("client_secret_file") != std::string::npos;
      },
      20s))
      << ReadFile(dir_ / "daemon.log");
  EXPECT_EQ(ReadFile(dir_ / "sim.jsonl").find("/token"), std::string::npos);  // no request
  EXPECT_TRUE(Broadcasts().empty());
  EXPECT_EQ(Endpoint(Status(), "chatrooms")["used_today"], 0);
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(20s), 0);
}

// Case 1: the token endpoint takes 1.5 s. The attempt's time is the POST's, so the
// windows, measured at the server, hold: no 429, a second between chatroom POSTs.
TEST_F(EngineFailureE2ETest, SlowTokenEndpointKeepsTheWindowsAtTheServer) {
  StartSimulator({"--token-delay-ms", "1500"});
  dir_.Write("campaigns/rooms.yaml", R"(id: rooms
broadcasts:
  - {name: r1, target: chatrooms, message: {type: txt, msg: one}}
  - {name: r2, target: chatrooms, message: {type: txt, msg: two}}
  - {name: r3, target: chatrooms, message: {type: txt, msg: three}}
)");
  auto daemon = StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return JobStates()["sent"] == 3; }, 30s))
      << ReadFile(dir_ / "daemon.log") << Status().dump(1);
  auto posts = Broadcasts();
  ASSERT_EQ(posts.size(), 3u);
  for (size_t i = 0; i < posts.size(); ++i) {
    EXPECT_EQ(posts[i]["status"], 200) << posts[i].dump();
    if (i > 0) {
      EXPECT_GE(posts[i]["time_ms"].get<int64_t>() - posts[i - 1]["time_ms"].get<int64_t>(), 1000);
    }
  }
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(20s), 0);
}

// Case 2: the server answers 401. The attempt ends there; the resend is a new
// attempt that waits for the window: one attempt row per POST.
TEST_F(EngineFailureE2ETest, A401IsOneAttemptAndTheResendWaitsForTheWindow) {
  dir_.Write("faults.json", R"({"next": ["401"]})");
  dir_.Write("campaigns/rooms.yaml", R"(id: rooms
broadcasts:
  - {name: r1, target: chatrooms, message: {type: txt, msg: one}}
  - {name: r2, target: chatrooms, message: {type: txt, msg: two}}
)");
  auto daemon = StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return JobStates()["sent"] == 2; }, 30s))
      << ReadFile(dir_ / "daemon.log");
  auto posts = Broadcasts();
  ASSERT_EQ(posts.size(), 3u);
  EXPECT_EQ(posts[0]["status"], 401);
  for (size_t i = 1; i < posts.size(); ++i) {
    EXPECT_GE(posts[i]["time_ms"].get<int64_t>() - posts[i - 1]["time_ms"].get<int64_t>(), 1000)
        << posts[i - 1].dump() << "\n"
        << posts[i].dump();
  }
  int attempts = 0;
  for (const auto& job : AllJobs()) attempts += job["attempts"].get<int>();
  EXPECT_EQ(attempts, 3);  // exactly one attempt per POST
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(20s), 0);
}

// Case 10: a reload that renames the app holds its jobs (never claimed, never
// failed, shown by --status); renaming it back sends them.
TEST_F(EngineFailureE2ETest, ReloadRenamingTheAppHoldsItsJobsUntilItComesBack) {
  const TimePoint due = SystemClock().Now() + 4s;
  dir_.Write(
      "campaigns/later.yaml",
      "id: later\napp: main\nbroadcasts:\n  - name: r1\n    target: chatrooms\n    send_at: \"" +
          FormatRfc3339(due) + "\"\n    message: {type: txt, msg: later}\n");
  const std::string original = ReadFile(dir_ / "broadcastd.yaml");
  auto daemon = StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return JobStates()["scheduled"] == 1; }, 20s))
      << ReadFile(dir_ / "daemon.log");

  std::string renamed = original;
  renamed.replace(renamed.find("  main:"), 7, "  primary:");
  dir_.Write("broadcastd.yaml", renamed);
  daemon->Signal(SIGHUP);
  ASSERT_TRUE(WaitFor(
      [&] { return ReadFile(dir_ / "daemon.log").find("config.reloaded") != std::string::npos; },
      20s));
  // Well past its due time: held, not failed, not sent.
  ASSERT_TRUE(WaitFor(
      [&] { return ReadFile(dir_ / "daemon.log").find("job.held app=main") != std::string::npos; },
      20s))
      << ReadFile(dir_ / "daemon.log");
  ASSERT_TRUE(WaitFor([&] { return SystemClock().Now() > due + 2s; }, 20s));
  EXPECT_TRUE(Broadcasts().empty());
  EXPECT_EQ(JobStates()["ready"], 1) << Status().dump(1);
  EXPECT_EQ(JobStates()["failed"], 0);
  EXPECT_NE(StatusText().find("is held: app main is not in the config"), std::string::npos);

  dir_.Write("broadcastd.yaml", original);
  daemon->Signal(SIGHUP);
  ASSERT_TRUE(WaitFor([&] { return JobStates()["sent"] == 1; }, 20s))
      << ReadFile(dir_ / "daemon.log");
  EXPECT_EQ(Broadcasts().size(), 1u);
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(20s), 0);
}

// Case 10: a reload whose scan fails (the new campaigns folder cannot be read) keeps
// the old config in force: the old folder is still the one watched and sent from.
TEST_F(EngineFailureE2ETest, ReloadWithAFailingScanKeepsTheOldConfigInForce) {
  auto daemon = StartDaemon();
  ASSERT_TRUE(WaitFor(
      [&] { return ReadFile(dir_ / "daemon.log").find("daemon.ready") != std::string::npos; },
      20s));
  std::string config = ReadFile(dir_ / "broadcastd.yaml");
  const std::string old_dir = (dir_ / "campaigns").string();
  config.replace(config.find(old_dir), old_dir.size(), (dir_ / "missing").string());
  dir_.Write("broadcastd.yaml", config);
  daemon->Signal(SIGHUP);
  ASSERT_TRUE(WaitFor(
      [&] {
        return ReadFile(dir_ / "daemon.log").find("config.reload_failed") != std::string::npos;
      },
      20s))
      << ReadFile(dir_ / "daemon.log");
  EXPECT_EQ(ReadFile(dir_ / "daemon.log").find("config.reloaded"), std::string::npos);
  dir_.Write("campaigns/.tmp", R"(id: c
broadcasts:
  - {name: r1, target: chatrooms, message: {type: txt, msg: still here}}
)");
  fs::rename(dir_ / "campaigns/.tmp", dir_ / "campaigns/late.yaml");
  ASSERT_TRUE(WaitFor([&] { return Broadcasts().size() == 1; }, 20s))
      << ReadFile(dir_ / "daemon.log");
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(20s), 0);
}

// Case 10: two config apps naming one vendor app would each spend the vendor's one
// budget: the config is refused, naming both.
TEST_F(EngineFailureE2ETest, TwoAppsNamingOneVendorAppAreRefused) {
  std::string config = ReadFile(dir_ / "broadcastd.yaml");
  const size_t apps = config.find("  main:");
  std::string twin = config.substr(apps);
  twin.replace(0, 7, "  twin:");
  dir_.Write("broadcastd.yaml", config + twin);
  auto check = RunCommand({kBinary, "--check", "--config", (dir_ / "broadcastd.yaml").string()},
                          dir_.path());
  EXPECT_NE(check.exit_code, 0);
  EXPECT_NE(check.output.find("apps \"main\" and \"twin\" both name"), std::string::npos)
      << check.output;
  auto daemon = StartDaemon();
  auto code = daemon->Wait(20s);
  ASSERT_TRUE(code.has_value());
  EXPECT_NE(*code, 0);
  EXPECT_TRUE(fs::exists(dir_ / "daemon.log"));
}

}  // namespace
}  // namespace broadcastd
