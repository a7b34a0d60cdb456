// Smoke test of tools/easemob-sim, driven through the real client and the
// curl transport over loopback.

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "easemob/broadcast_client.h"
#include "easemob/curl_transport.h"
#include "easemob/request_body.h"
#include "fakes/fake_clock.h"
#include "fakes/temp_dir.h"
#include "outcome_printer.h"

extern char** environ;

namespace broadcastd {
namespace {

constexpr char kSecret[] = "sim-secret-3f9a";

class Simulator {
 public:
  Simulator(const TempDir& dir, std::vector<std::string> extra) {
    dir.Write("sim.secret", std::string(kSecret) + "\n");
    std::vector<std::string> args = {
        std::string(BROADCASTD_BINARY_DIR) + "/tools/easemob-sim/easemob-sim",
        "--port",
        "0",
        "--port-file",
        (dir.path() / "port").string(),
        "--org",
        "org1",
        "--app",
        "app1",
        "--client-id",
        "client-1",
        "--client-secret-file",
        (dir.path() / "sim.secret").string(),
        "--log",
        (dir.path() / "requests.jsonl").string(),
        "--fault-file",
        (dir.path() / "faults.json").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);

    int out[2];
    if (pipe(out) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);

    // The first line says where it listens; reading it waits for start-up.
    std::string line;
    char c;
    while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
    close(out[0]);
    const std::string prefix = "listening on 127.0.0.1:";
    if (line.starts_with(prefix)) port_ = std::stoi(line.substr(prefix.size()));
  }

  ~Simulator() {
    if (pid_ > 0) Stop();
  }

  int Stop() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

std::string Read(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<nlohmann::json> LogLines(const TempDir& dir) {
  std::vector<nlohmann::json> lines;
  std::istringstream log(Read(dir.path() / "requests.jsonl"));
  for (std::string line; std::getline(log, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

void WriteFaults(const TempDir& dir, const std::vector<std::string>& next) {
  dir.Write("faults.json.new", nlohmann::json{{"next", next}}.dump());
  std::filesystem::rename(dir.path() / "faults.json.new", dir.path() / "faults.json");
}

std::string Body(BroadcastTarget target) {
  Broadcast broadcast;
  broadcast.target = target;
  broadcast.from = "admin";
  broadcast.message = {{"type", "txt"}, {"msg", "smoke"}};
  broadcast.ext = nlohmann::json{{"k", "v"}};
  return BuildRequestBody(broadcast);
}

// One attempt as the daemon makes it: the token first, then one POST.
BroadcastAnswer Attempt(BroadcastClient& client, BroadcastTarget target, const std::string& body) {
  auto token = client.Token();
  if (!token) {
    ADD_FAILURE() << token.error().message;
    return {};
  }
  return client.Send(target, body, *token);
}

AppConfig App(int port) {
  AppConfig app;
  app.name = "main";
  app.host = "http://127.0.0.1:" + std::to_string(port);
  app.org = "org1";
  app.app = "app1";
  app.client_id = "client-1";
  app.client_secret_file = "sim.secret";
  return app;
}

TEST(SimulatorSmokeTest, TokenExactIdThenWindowRefusal) {
  TempDir dir;
  Simulator sim(dir, {});
  ASSERT_GT(sim.port(), 0);
  EXPECT_EQ(std::stoi(Read(dir.path() / "port")), sim.port());

  CurlTransport transport;
  FakeClock clock(FromMillis(1'800'000'000'000));
  BroadcastClient client(App(sim.port()), dir.path(), transport, clock);

  BroadcastAnswer first = Attempt(client, BroadcastTarget::kUsers, Body(BroadcastTarget::kUsers));
  EXPECT_EQ(first.outcome, OutcomeClass::kSent) << first.detail;
  EXPECT_EQ(first.broadcast_id, "1365344904091349007");  // above 2^53, every digit kept

  BroadcastAnswer second = Attempt(client, BroadcastTarget::kUsers, Body(BroadcastTarget::kUsers));
  EXPECT_EQ(second.outcome, OutcomeClass::kRetry) << second.detail;
  EXPECT_EQ(second.http_status, 429);
  EXPECT_EQ(second.error_description, "This request has reached api limit");

  // Another endpoint has its own windows.
  BroadcastAnswer rooms =
      Attempt(client, BroadcastTarget::kChatrooms, Body(BroadcastTarget::kChatrooms));
  EXPECT_EQ(rooms.outcome, OutcomeClass::kSent) << rooms.detail;
  EXPECT_EQ(rooms.broadcast_id, "1365344904091349008");

  EXPECT_EQ(sim.Stop(), 0);
  const std::vector<nlohmann::json> log = LogLines(dir);
  ASSERT_EQ(log.size(), 4u);
  EXPECT_EQ(log[0]["path"], "/org1/app1/token");
  EXPECT_EQ(log[1]["status"], 200);
  EXPECT_EQ(log[1]["id"], "1365344904091349007");
  EXPECT_EQ(nlohmann::json::parse(log[1]["body"].get<std::string>()),
            nlohmann::json::parse(Body(BroadcastTarget::kUsers)));
  EXPECT_EQ(log[2]["status"], 429);
  EXPECT_EQ(Read(dir.path() / "requests.jsonl").find(kSecret), std::string::npos);
}

TEST(SimulatorSmokeTest, ScriptedFaultsAndDailyBudget) {
  TempDir dir;
  Simulator sim(dir, {"--window", "chatrooms=1000/60", "--window", "online_users=1000/60",
                      "--daily-online-users", "1"});
  ASSERT_GT(sim.port(), 0);
  CurlOptions options;
  options.total_timeout = std::chrono::milliseconds(5000);
  CurlTransport transport(options);
  FakeClock clock(FromMillis(1'800'000'000'000));
  BroadcastClient client(App(sim.port()), dir.path(), transport, clock);
  const std::string rooms = Body(BroadcastTarget::kChatrooms);

  WriteFaults(dir, {"drop", "unopened", "500", "401"});
  EXPECT_EQ(Attempt(client, BroadcastTarget::kChatrooms, rooms).outcome, OutcomeClass::kUnknown);
  EXPECT_EQ(Attempt(client, BroadcastTarget::kChatrooms, rooms).outcome, OutcomeClass::kUnopened);
  EXPECT_EQ(Attempt(client, BroadcastTarget::kChatrooms, rooms).outcome, OutcomeClass::kUnknown);
  // The 401 ends that attempt and drops the token; the next attempt fetches a new one.
  EXPECT_EQ(Attempt(client, BroadcastTarget::kChatrooms, rooms).outcome, OutcomeClass::kRetry);
  BroadcastAnswer refreshed = Attempt(client, BroadcastTarget::kChatrooms, rooms);
  EXPECT_EQ(refreshed.outcome, OutcomeClass::kSent) << refreshed.detail;
  // Faults can be changed while the simulator runs.
  WriteFaults(dir, {"noid"});
  EXPECT_EQ(Attempt(client, BroadcastTarget::kChatrooms, rooms).outcome, OutcomeClass::kUnknown);
  EXPECT_EQ(Attempt(client, BroadcastTarget::kChatrooms, rooms).outcome, OutcomeClass::kSent);

  const std::string online = Body(BroadcastTarget::kOnlineUsers);
  EXPECT_EQ(Attempt(client, BroadcastTarget::kOnlineUsers, online).outcome, OutcomeClass::kSent);
  BroadcastAnswer spent = Attempt(client, BroadcastTarget::kOnlineUsers, online);
  EXPECT_EQ(spent.outcome, OutcomeClass::kNextDay) << spent.detail;
  EXPECT_EQ(spent.error_description, "online user broadcast limit exceeded");

  // A body the vendor rejects.
  BroadcastAnswer invalid =
      Attempt(client, BroadcastTarget::kChatrooms, R"({"from":"","msg":{"type":"txt","msg":"x"}})");
  EXPECT_EQ(invalid.outcome, OutcomeClass::kPermanent);
  EXPECT_EQ(invalid.error_description, "from can't be empty");

  EXPECT_EQ(sim.Stop(), 0);
  size_t tokens = 0;
  size_t dropped = 0;
  for (const nlohmann::json& line : LogLines(dir)) {
    tokens += line["path"] == "/org1/app1/token" ? 1 : 0;
    dropped += line.contains("dropped") ? 1 : 0;
  }
  EXPECT_EQ(tokens, 2u);
  EXPECT_EQ(dropped, 1u);
}

TEST(SimulatorSmokeTest, PerTargetDelayAndArrivalMicroseconds) {
  TempDir dir;
  Simulator sim(dir, {"--delay-ms", "users=400", "--window", "chatrooms=1/0.2"});
  ASSERT_GT(sim.port(), 0);
  CurlTransport transport;
  FakeClock clock(FromMillis(1'800'000'000'000));
  BroadcastClient client(App(sim.port()), dir.path(), transport, clock);
  auto token = client.Token();
  ASSERT_TRUE(token) << token.error().message;

  // The delayed endpoint answers late (a lower bound: a slow machine only adds to it).
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(client.Send(BroadcastTarget::kUsers, Body(BroadcastTarget::kUsers), *token).outcome,
            OutcomeClass::kSent);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(400));
  const std::string rooms = Body(BroadcastTarget::kChatrooms);
  EXPECT_EQ(client.Send(BroadcastTarget::kChatrooms, rooms, *token).outcome, OutcomeClass::kSent);
  // A window of a fraction of a second: the second request at once is refused.
  EXPECT_EQ(client.Send(BroadcastTarget::kChatrooms, rooms, *token).http_status, 429);

  EXPECT_EQ(sim.Stop(), 0);
  const std::vector<nlohmann::json> log = LogLines(dir);
  ASSERT_EQ(log.size(), 4u);
  for (const nlohmann::json& line : log) {
    ASSERT_TRUE(line.contains("time_us")) << line.dump();
    // Two readings: time_us when the request arrived, time_ms when it was handled (a
    // moment later; under a sanitizer, across a millisecond boundary).
    const int64_t arrived_ms = line["time_us"].get<int64_t>() / 1000;
    EXPECT_GE(line["time_ms"].get<int64_t>(), arrived_ms) << line.dump();
  }
  // The users request is stamped, on arrival and when handled, before its 400 ms wait:
  // the chatrooms request, sent once the users answer came, arrived 400 ms after both.
  EXPECT_GE(log[2]["time_us"].get<int64_t>() - log[1]["time_us"].get<int64_t>(), 400'000);
  EXPECT_GE(log[2]["time_us"].get<int64_t>() / 1000 - log[1]["time_ms"].get<int64_t>(), 400);
}

// The other endpoints do not wait for a delayed one. Users answer only after ten
// minutes here; a chatrooms request delayed as well would outlast the transport's
// 30 s limit and not be sent. No bound on this machine's speed is needed.
TEST(SimulatorSmokeTest, ADelayedEndpointDoesNotDelayTheOthers) {
  TempDir dir;
  Simulator sim(dir, {"--delay-ms", "users=600000"});
  ASSERT_GT(sim.port(), 0);
  CurlTransport transport;
  FakeClock clock(FromMillis(1'800'000'000'000));
  BroadcastClient client(App(sim.port()), dir.path(), transport, clock);
  auto token = client.Token();
  ASSERT_TRUE(token) << token.error().message;
  EXPECT_EQ(
      client.Send(BroadcastTarget::kChatrooms, Body(BroadcastTarget::kChatrooms), *token).outcome,
      OutcomeClass::kSent);
  EXPECT_EQ(sim.Stop(), 0);
}

}  // namespace
}  // namespace broadcastd
