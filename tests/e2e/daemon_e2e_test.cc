// The real broadcastd binary against the real simulator over loopback HTTP.
// These run on the real clock: they wait for events (bounded), never for a time.

#include "e2e/daemon_fixture.h"

namespace broadcastd {
namespace {

namespace fs = std::filesystem;

TEST_F(DaemonE2ETest, SendsEveryTargetKeepsExactIdsAndStopsOnSigterm) {
  dir_.Write("campaigns/mixed.yaml", R"(id: mixed
broadcasts:
  - {name: all, target: users, message: {type: txt, msg: everyone}}
  - {name: online, target: online_users, from: ops, message: {type: cmd, action: refresh}}
  - {name: r1, target: chatrooms, chatroom_msg_level: high, message: {type: txt, msg: one}}
  - {name: r2, target: chatrooms, ext: {k: v}, message: {type: custom, customEvent: ev}}
  - {name: r3, target: chatrooms, message: {type: loc, lat: "39.9", lng: "116.3", addr: here}}
)");
  auto daemon = StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return Broadcasts().size() >= 5; }, 30s))
      << ReadFile(dir_ / "daemon.log");

  auto sent = Broadcasts();
  ASSERT_EQ(sent.size(), 5u);
  for (const auto& b : sent) EXPECT_EQ(b["status"], 200) << b.dump();
  // Chatrooms: 1 per second, so the three are at least a second apart.
  std::vector<int64_t> room_times;
  for (const auto& b : sent) {
    if (b["path"].get<std::string>().find("/chatrooms/") != std::string::npos) {
      room_times.push_back(b["time_ms"].get<int64_t>());
    }
  }
  ASSERT_EQ(room_times.size(), 3u);
  EXPECT_GE(room_times[1] - room_times[0], 1000);
  EXPECT_GE(room_times[2] - room_times[1], 1000);

  ASSERT_TRUE(WaitFor([&] { return JobStates()["sent"] == 5; }, 10s)) << Status().dump(1);
  std::set<std::string> ids_sent, ids_stored;
  for (const auto& b : sent) ids_sent.insert(b["id"].get<std::string>());
  for (const auto& job : AllJobs()) ids_stored.insert(job["broadcast_id"].get<std::string>());
  EXPECT_EQ(ids_sent, ids_stored);  // exact digits, above 2^53

  daemon->Signal(SIGTERM);
  auto code = daemon->Wait(20s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
  const std::string log = ReadFile(dir_ / "daemon.log");
  EXPECT_EQ(log.find(kSecret), std::string::npos);
  EXPECT_NE(log.find("broadcast.sent"), std::string::npos);
}

TEST_F(DaemonE2ETest, SecondDaemonOnTheSameDatabaseRefusesToStart) {
  auto first = StartDaemon();
  ASSERT_TRUE(WaitFor(
      [&] { return ReadFile(dir_ / "daemon.log").find("daemon.ready") != std::string::npos; }, 20s))
      << ReadFile(dir_ / "daemon.log");
  auto second = StartDaemon("second.log");
  auto code = second->Wait(20s);
  ASSERT_TRUE(code.has_value());
  EXPECT_NE(*code, 0);
  EXPECT_NE(ReadFile(dir_ / "second.log").find("in use by another broadcastd"), std::string::npos)
      << ReadFile(dir_ / "second.log");
  // The first one is unharmed and still serves.
  EXPECT_FALSE(first->Wait(100ms).has_value());
}

TEST_F(DaemonE2ETest, DroppedConnectionAfterTheBodyIsUnknownAndNeverResent) {
  dir_.Write("faults.json", R"({"next": ["drop"]})");
  dir_.Write("campaigns/one.yaml", R"(id: one
broadcasts:
  - {name: only, target: online_users, message: {type: txt, msg: once}}
)");
  auto daemon = StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return JobStates()["unknown"] == 1; }, 30s))
      << ReadFile(dir_ / "daemon.log") << Status().dump(1);
  daemon->Signal(SIGTERM);
  ASSERT_TRUE(daemon->Wait(20s).has_value());

  // A restart does not resend it either.
  auto again = StartDaemon("daemon2.log");
  ASSERT_TRUE(WaitFor(
      [&] { return ReadFile(dir_ / "daemon2.log").find("daemon.ready") != std::string::npos; },
      20s));
  again->Signal(SIGTERM);
  ASSERT_TRUE(again->Wait(20s).has_value());
  auto sent = Broadcasts();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0]["dropped"], true);
  EXPECT_EQ(JobStates()["unknown"], 1);

  // The operator checked: it did not arrive. It goes again.
  auto jobs = AllJobs();
  auto r = RunCommand({kBinary, "--resolve-not-sent", std::to_string(jobs[0]["id"].get<int64_t>()),
                       "--config", (dir_ / "broadcastd.yaml").string()},
                      dir_.path());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(JobStates()["ready"], 1);
}

// SIGTERM while the server has not answered: the daemon waits a bounded time,
// then stops and leaves the job unknown, never ready.
TEST_F(DaemonE2ETest, SigtermWithARequestInFlightLeavesTheJobUnknown) {
  dir_.Write("faults.json", R"({"next": ["delay:25000"]})");
  dir_.Write("campaigns/one.yaml", R"(id: one
broadcasts:
  - {name: slow, target: users, message: {type: txt, msg: slow answer}}
)");
  auto daemon = StartDaemon();
  ASSERT_TRUE(WaitFor(
      [&] { return ReadFile(dir_ / "daemon.log").find("broadcast.start") != std::string::npos; },
      20s))
      << ReadFile(dir_ / "daemon.log");
  daemon->Signal(SIGTERM);
  auto code = daemon->Wait(22s);  // the grace is 15 s
  ASSERT_TRUE(code.has_value()) << ReadFile(dir_ / "daemon.log");
  EXPECT_EQ(*code, 0);
  EXPECT_EQ(JobStates()["unknown"], 1);
  EXPECT_NE(ReadFile(dir_ / "daemon.log").find("in_flight=abandoned"), std::string::npos);
}

TEST_F(DaemonE2ETest, CampaignDroppedInWhileRunningIsPickedUpAndABadOneHarmsNothing) {
  auto daemon = StartDaemon();
  ASSERT_TRUE(WaitFor(
      [&] { return ReadFile(dir_ / "daemon.log").find("daemon.ready") != std::string::npos; },
      20s));
  dir_.Write("campaigns/bad.yaml", "broadcasts:\n  - target: users\n    mesage: {}\n");
  dir_.Write("campaigns/.tmp-good", R"(id: good
broadcasts:
  - {name: late, target: chatrooms, message: {type: txt, msg: late arrival}}
)");
  fs::rename(dir_ / "campaigns/.tmp-good", dir_ / "campaigns/good.yaml");
  ASSERT_TRUE(WaitFor([&] { return Broadcasts().size() == 1; }, 30s))
      << ReadFile(dir_ / "daemon.log");
  const std::string log = ReadFile(dir_ / "daemon.log");
  EXPECT_NE(log.find("campaign.rejected file=bad.yaml"), std::string::npos) << log;
  daemon->Signal(SIGTERM);
  EXPECT_TRUE(daemon->Wait(20s).has_value());
}

// Operator actions reach the running daemon without a restart.
TEST_F(DaemonE2ETest, PauseAndResumeTakeEffectWhileTheDaemonRuns) {
  auto daemon = StartDaemon();
  ASSERT_TRUE(WaitFor(
      [&] { return ReadFile(dir_ / "daemon.log").find("daemon.ready") != std::string::npos; },
      20s));
  const std::string config = (dir_ / "broadcastd.yaml").string();
  auto paused = RunCommand(
      {kBinary, "--pause", "main/chatrooms", "--reason", "maintenance", "--config", config},
      dir_.path());
  ASSERT_EQ(paused.exit_code, 0) << paused.output;
  dir_.Write("campaigns/rooms.yaml", R"(id: rooms
broadcasts:
  - {name: held, target: chatrooms, message: {type: txt, msg: held}}
)");
  ASSERT_TRUE(WaitFor([&] { return JobStates()["ready"] == 1; }, 20s));
  const nlohmann::json status = Status();
  bool shown = false;
  for (const auto& e : status["endpoints"]) {
    if (e["target"] == "chatrooms")
      shown = e["paused"] == true && e["pause_reason"] == "maintenance";
  }
  EXPECT_TRUE(shown) << status.dump(1);
  // Unpaused, a chatroom broadcast would go out at once; give it two seconds.
  EXPECT_FALSE(WaitFor([&] { return !Broadcasts().empty(); }, 2s));

  auto resumed =
      RunCommand({kBinary, "--resume", "main/chatrooms", "--config", config}, dir_.path());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_TRUE(WaitFor([&] { return Broadcasts().size() == 1; }, 20s))
      << ReadFile(dir_ / "daemon.log");
  daemon->Signal(SIGTERM);
  EXPECT_TRUE(daemon->Wait(20s).has_value());
}

// SIGHUP with a broken config keeps the old one; the daemon goes on sending.
TEST_F(DaemonE2ETest, ReloadWithABadConfigKeepsTheOldOne) {
  auto daemon = StartDaemon();
  ASSERT_TRUE(WaitFor(
      [&] { return ReadFile(dir_ / "daemon.log").find("daemon.ready") != std::string::npos; },
      20s));
  const std::string good = ReadFile(dir_ / "broadcastd.yaml");
  dir_.Write("broadcastd.yaml", good + "colour: blue\n");
  daemon->Signal(SIGHUP);
  ASSERT_TRUE(WaitFor(
      [&] {
        return ReadFile(dir_ / "daemon.log").find("config.reload_failed") != std::string::npos;
      },
      20s))
      << ReadFile(dir_ / "daemon.log");
  EXPECT_NE(ReadFile(dir_ / "daemon.log").find("colour: unknown key"), std::string::npos);
  dir_.Write("campaigns/after.yaml", R"(id: after
broadcasts:
  - {name: still, target: chatrooms, message: {type: txt, msg: still running}}
)");
  EXPECT_TRUE(WaitFor([&] { return Broadcasts().size() == 1; }, 30s))
      << ReadFile(dir_ / "daemon.log");
  daemon->Signal(SIGTERM);
  EXPECT_TRUE(daemon->Wait(20s).has_value());
}

TEST_F(DaemonE2ETest, CheckReportsEveryErrorWithPositionAndExitCode) {
  auto good = dir_.Write("campaigns/good.yaml", R"(id: good
broadcasts:
  - {name: ok, target: users, message: {type: txt, msg: ok}}
)");
  auto bad = dir_.Write("elsewhere/bad.yaml", R"(id: bad
broadcasts:
  - target: users
    message: {type: img}
    colour: blue
)");
  auto ok = RunCommand({kBinary, "--check", "--config", (dir_ / "broadcastd.yaml").string()},
                       dir_.path());
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  auto r = RunCommand({kBinary, "--check", "--config", (dir_ / "broadcastd.yaml").string(),
                       good.string(), bad.string()},
                      dir_.path());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("bad.yaml:3:"), std::string::npos) << r.output;  // no name
  EXPECT_NE(r.output.find("bad.yaml:4:"), std::string::npos) << r.output;  // img needs url
  EXPECT_NE(r.output.find("bad.yaml:5:"), std::string::npos) << r.output;  // unknown key
  EXPECT_NE(r.output.find("good.yaml: ok"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace broadcastd
