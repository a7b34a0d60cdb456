// One request in flight per endpoint, each on its own worker: the real binary
// against the real simulator, whose fault file delays chosen requests.

#include "e2e/daemon_fixture.h"

namespace broadcastd {
namespace {

// The broadcast requests whose path ends with `suffix` in the simulator's log.
std::vector<nlohmann::json> On(const std::vector<nlohmann::json>& lines,
                               const std::string& suffix) {
  std::vector<nlohmann::json> out;
  for (const auto& line : lines) {
    if (line["path"].get<std::string>().ends_with(suffix)) out.push_back(line);
  }
  return out;
}

size_t TokenRequests(const std::string& sim_log) {
  size_t n = 0;
  for (size_t at = sim_log.find("/token\""); at != std::string::npos;
       at = sim_log.find("/token\"", at + 1)) {
    ++n;
  }
  return n;
}

class EndpointWorkersE2ETest : public DaemonE2ETest {
 protected:
  std::string DaemonLog() { return ReadFile(dir_ / "daemon.log"); }
};

// A slow users endpoint: its request is held 4 s by the server. The chatrooms
// requests arrive at the server meanwhile, at their own window's pace.
TEST_F(EndpointWorkersE2ETest, ASlowEndpointDoesNotDelayAnother) {
  dir_.Write("faults.json", R"({"next": ["delay:4000"]})");
  dir_.Write("campaigns/slow.yaml", R"(id: slow
broadcasts:
  - {name: all, target: users, message: {type: txt, msg: everyone}}
)");
  auto daemon = StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return FaultsTaken(); }, 20s)) << DaemonLog();
  // The users request is now held at the server.
  dir_.Write("campaigns/rooms.yaml", R"(id: rooms
broadcasts:
  - {name: r1, target: chatrooms, message: {type: txt, msg: one}}
  - {name: r2, target: chatrooms, message: {type: txt, msg: two}}
  - {name: r3, target: chatrooms, message: {type: txt, msg: three}}
)");
  ASSERT_TRUE(WaitFor([&] { return Broadcasts().size() >= 4; }, 20s)) << DaemonLog();

  const auto sent = Broadcasts();
  const auto users = On(sent, "/app/messages/broadcast");
  const auto rooms = On(sent, "/messages/chatrooms/broadcast");
  ASSERT_EQ(users.size(), 1u);
  ASSERT_EQ(rooms.size(), 3u);
  // The simulator logs a request once it answers it: the users one 4 s after it came.
  const int64_t users_answered = users[0]["time_ms"].get<int64_t>();
  const int64_t users_arrived = users_answered - 4000;
  int during = 0;
  for (const auto& room : rooms) {
    EXPECT_EQ(room["status"], 200) << room.dump();
    const int64_t at = room["time_ms"].get<int64_t>();
    if (at > users_arrived && at < users_answered) ++during;
  }
  // 1 per second plus the margin: two or three in 4 s; with one request in flight
  // for the whole daemon, none.
  EXPECT_GE(during, 2) << DaemonLog();
  ASSERT_TRUE(WaitFor([&] { return JobStates()["sent"] == 4; }, 10s)) << Status().dump(1);
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(20s), 0);
}

// SIGTERM with two endpoints' requests held by the server: the one answered within
// the grace is committed, the other is recorded unknown; neither is sent again after
// a restart.
TEST_F(EndpointWorkersE2ETest, SigtermWithSeveralInFlightCommitsTheAnswersAndLeavesTheRestUnknown) {
  dir_.Write("faults.json", R"({"next": ["delay:25000"]})");
  dir_.Write("campaigns/slow.yaml", R"(id: slow
broadcasts:
  - {name: all, target: users, message: {type: txt, msg: everyone}}
)");
  auto daemon = StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return FaultsTaken(); }, 20s)) << DaemonLog();
  dir_.Write("faults.json", R"({"next": ["delay:3000"]})");
  dir_.Write("campaigns/rooms.yaml", R"(id: rooms
broadcasts:
  - {name: r1, target: chatrooms, message: {type: txt, msg: one}}
)");
  ASSERT_TRUE(WaitFor([&] { return FaultsTaken(); }, 20s)) << DaemonLog();
  // Both requests are held at the server now.
  EXPECT_EQ(JobStates()["sending"], 2) << Status().dump(1);
  daemon->Signal(SIGTERM);
  auto code = daemon->Wait(22s);  // the grace is 15 s, for both together
  ASSERT_TRUE(code.has_value()) << DaemonLog();
  EXPECT_EQ(*code, 0);
  const std::string log = DaemonLog();
  EXPECT_NE(log.find("in_flight=abandoned abandoned=1"), std::string::npos) << log;
  auto states = JobStates();
  EXPECT_EQ(states["sent"], 1) << Status().dump(1);
  EXPECT_EQ(states["unknown"], 1) << Status().dump(1);
  for (const auto& job : AllJobs()) {
    const std::string state = job["state"].get<std::string>();
    if (job["target"] == "users") {
      EXPECT_EQ(state, "unknown") << job.dump();
    } else {
      EXPECT_EQ(state, "sent") << job.dump();
    }
  }

  // After a restart nothing is claimed again.
  auto again = StartDaemon("daemon2.log");
  ASSERT_TRUE(WaitFor([&] { return LogHas("daemon2.log", "daemon.ready"); }, 20s))
      << ReadFile(dir_ / "daemon2.log");
  // A reload is read from the signal descriptor only after the loop's first dispatch,
  // which claims every job the engine would send (broadcast.start is logged at the
  // claim): config.reloaded comes after the decision that would have sent it again.
  again->Signal(SIGHUP);
  ASSERT_TRUE(WaitFor([&] { return LogHas("daemon2.log", "config.reloaded"); }, 20s))
      << ReadFile(dir_ / "daemon2.log");
  EXPECT_FALSE(LogHas("daemon2.log", "broadcast.start")) << ReadFile(dir_ / "daemon2.log");
  states = JobStates();
  EXPECT_EQ(states["sent"], 1);
  EXPECT_EQ(states["unknown"], 1);
  again->Signal(SIGTERM);
  EXPECT_EQ(again->Wait(20s), 0);
}

// Two endpoints of one app start together while the token endpoint is slow: one
// token request serves both.
TEST_F(EndpointWorkersE2ETest, OneTokenFetchPerAppForEndpointsStartingTogether) {
  StartSimulator({"--token-delay-ms", "1500"});
  dir_.Write("campaigns/both.yaml", R"(id: both
broadcasts:
  - {name: all, target: users, message: {type: txt, msg: everyone}}
  - {name: r1, target: chatrooms, message: {type: txt, msg: one}}
  - {name: o1, target: online_users, message: {type: txt, msg: online}}
)");
  auto daemon = StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return Broadcasts().size() >= 3; }, 20s)) << DaemonLog();
  EXPECT_EQ(TokenRequests(ReadFile(dir_ / "sim.jsonl")), 1u) << ReadFile(dir_ / "sim.jsonl");
  for (const auto& b : Broadcasts()) EXPECT_EQ(b["status"], 200) << b.dump();
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(20s), 0);
}

}  // namespace
}  // namespace broadcastd
