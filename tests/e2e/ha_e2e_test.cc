// Two daemons, one PostgreSQL database (the test cluster), the real binary and the
// simulator: one sender at a time, and no broadcast sent twice when the sender dies or
// stalls. Each daemon reads its own copy of the campaign files, as on two hosts.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "e2e/daemon_fixture.h"
#include "store/pg_test_db.h"

namespace broadcastd {
namespace {

using namespace std::chrono_literals;

// libfaketime is preloaded into the daemons of one test; a binary built with
// AddressSanitizer refuses to start unless ASan's runtime comes first, so the plain build
// runs it.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kUnderAddressSanitizer = true;
#else
constexpr bool kUnderAddressSanitizer = false;
#endif
const char* const kFakeTime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

constexpr const char* kRooms = R"(id: rooms
broadcasts:
  - {name: r1, target: chatrooms, message: {type: txt, msg: one}}
  - {name: r2, target: chatrooms, message: {type: txt, msg: two}}
  - {name: r3, target: chatrooms, message: {type: txt, msg: three}}
)";

class HaE2ETest : public DaemonE2ETest {
 protected:
  void SetUp() override {
    DaemonE2ETest::SetUp();
    pg_ = std::make_unique<PgTestDb>();
    // The simulator's config without its first two lines (database, campaigns_dir).
    rest_ = ReadFile(dir_ / "broadcastd.yaml");
    rest_ = rest_.substr(rest_.find('\n', rest_.find('\n') + 1) + 1);
    WriteConfigs(pg_->uri());
  }
  void TearDown() override {
    if (!own_cluster_.empty()) {
      RunCommand({kPgCluster, "stop", own_cluster_.string()}, dir_.path());
    }
  }

  // Both daemons' configs on the database `uri`.
  void WriteConfigs(const std::string& uri) {
    for (const std::string node : {"a", "b"}) {
      std::filesystem::create_directories(dir_ / ("campaigns-" + node));
      dir_.Write("node-" + node + ".yaml",
                 "database: \"" + uri + "\"\nnode_name: host-" + node +
                     "\nsender_lease_ttl_ms: " + std::to_string(kTtl.count()) +
                     "\ncampaigns_dir: " + (dir_ / ("campaigns-" + node)).string() + "\n" + rest_);
    }
    // --status (the fixture's Status()) reads the shared database through node a's config.
    dir_.Write("broadcastd.yaml", ReadFile(dir_ / "node-a.yaml"));
  }

  // A cluster of the test's own (it restarts it; the shared one serves other tests).
  std::string StartOwnCluster() {
    std::filesystem::permissions(dir_.path(), std::filesystem::perms::owner_all |
                                                  std::filesystem::perms::group_exec |
                                                  std::filesystem::perms::others_exec);
    own_cluster_ = dir_ / "pg";
    auto started = RunCommand({kPgCluster, "start", own_cluster_.string()}, dir_.path());
    EXPECT_EQ(started.exit_code, 0) << started.output;
    std::string uri = ReadFile(own_cluster_ / "uri");
    while (!uri.empty() && uri.back() == '\n') uri.pop_back();
    return uri;
  }

  std::unique_ptr<ChildProcess> StartNode(const std::string& node, bool verbose = false,
                                          std::vector<std::string> env = {}) {
    std::vector<std::string> args = {kBinary, "--config",
                                     (dir_ / ("node-" + node + ".yaml")).string()};
    if (verbose) args.push_back("--verbose");
    env.push_back("CREDENTIALS_DIRECTORY=" + (dir_ / "credentials").string());
    auto p = std::make_unique<ChildProcess>(args, dir_ / ("node-" + node + ".log"), env);
    EXPECT_TRUE(p->started());
    return p;
  }
  std::string NodeLog(const std::string& node) {
    return ReadFile(dir_ / ("node-" + node + ".log"));
  }
  bool NodeLogHas(const std::string& node, const std::string& text) {
    return NodeLog(node).find(text) != std::string::npos;
  }
  // The same file in both daemons' folders.
  void Drop(const std::string& name, const std::string& content) {
    dir_.Write("campaigns-a/" + name, content);
    dir_.Write("campaigns-b/" + name, content);
  }
  // How many requests carried each message text.
  std::map<std::string, int> Messages() {
    std::map<std::string, int> n;
    for (const auto& request : Broadcasts()) {
      auto body = nlohmann::json::parse(request["body"].get<std::string>(), nullptr, false);
      ++n[body.is_discarded() ? request["body"].get<std::string>() : body["msg"]["msg"].dump()];
    }
    return n;
  }
  // The broadcasts either daemon made, 1 s apart at least (chatrooms' window).
  void ExpectOnePerSecond() {
    std::vector<int64_t> arrivals;
    for (const auto& request : Broadcasts()) arrivals.push_back(request["time_us"].get<int64_t>());
    std::sort(arrivals.begin(), arrivals.end());
    for (size_t i = 1; i < arrivals.size(); ++i) {
      EXPECT_GE(arrivals[i] - arrivals[i - 1], 1'000'000) << "requests " << i - 1 << " and " << i;
    }
  }
  // How many lines of a node's log name `event`.
  size_t NodeLogCount(const std::string& node, std::string_view event) {
    const std::string log = NodeLog(node);
    size_t n = 0;
    for (size_t at = log.find(event); at != std::string::npos; at = log.find(event, at + 1)) ++n;
    return n;
  }
  // A daemon that took the lease and one that sees it held, both past their start-up
  // writes (daemon.ready): a test that stops one then stops it idle, not inside a write
  // transaction whose lock would hold the other's writes until it is continued.
  void StartPair(std::unique_ptr<ChildProcess>& a, std::unique_ptr<ChildProcess>& b) {
    a = StartNode("a");
    ASSERT_TRUE(WaitFor([&] { return NodeLogHas("a", "lease.acquired"); }, 20s)) << NodeLog("a");
    b = StartNode("b");
    ASSERT_TRUE(WaitFor([&] { return NodeLogHas("b", "lease.standby"); }, 20s)) << NodeLog("b");
    for (const char* node : {"a", "b"}) {
      ASSERT_TRUE(WaitFor([&] { return NodeLogHas(node, "daemon.ready"); }, 20s)) << NodeLog(node);
    }
  }

  static constexpr std::chrono::milliseconds kTtl{2000};
  static constexpr const char* kPgCluster = BROADCASTD_SOURCE_DIR "/scripts/pg-cluster.sh";
  std::unique_ptr<PgTestDb> pg_;
  std::string rest_;
  std::filesystem::path own_cluster_;
};

// The sender is killed with a request held at the server: the standby takes over, the
// request in flight is `unknown` (never resent), every other job is sent once.
TEST_F(HaE2ETest, KillNineOfTheSenderWithARequestInFlight) {
  dir_.Write("faults.json", R"({"next": ["delay:5000"]})");
  std::unique_ptr<ChildProcess> a, b;
  StartPair(a, b);
  // --status names the sender, since when, and every daemon seen.
  nlohmann::json lease = Status()["sender_lease"];
  EXPECT_EQ(lease["holder"], "host-a") << lease.dump(1);
  EXPECT_TRUE(lease["since"].is_string()) << lease.dump(1);
  ASSERT_EQ(lease["nodes"].size(), 2u) << lease.dump(1);
  EXPECT_EQ(lease["nodes"][0]["node"], "host-a");
  EXPECT_EQ(lease["nodes"][0]["role"], "sender");
  EXPECT_EQ(lease["nodes"][1]["node"], "host-b");
  EXPECT_EQ(lease["nodes"][1]["role"], "standby");
  const auto text =
      RunCommand({kBinary, "--status", "--config", (dir_ / "node-b.yaml").string()}, dir_.path());
  EXPECT_NE(text.output.find("sender   host-a since"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("host-b (standby"), std::string::npos) << text.output;

  Drop("rooms.yaml", kRooms);
  ASSERT_TRUE(WaitFor([&] { return FaultsTaken(); }, 20s)) << NodeLog("a");
  ASSERT_EQ(JobStates()["sending"], 1) << Status().dump(1);

  // The lease as host-a last renewed it before the kill (the database's clock; these
  // ISO 8601 UTC times compare as text).
  const nlohmann::json held = Status()["sender_lease"];
  ASSERT_EQ(held["holder"], "host-a") << held.dump(1);
  a->Signal(SIGKILL);
  a->Wait(10s);
  ASSERT_TRUE(WaitFor([&] { return NodeLogHas("b", "lease.acquired"); }, 20s)) << NodeLog("b");
  // Taken over from host-a, in the next epoch, and not before host-a's lease ran out:
  // what happened, whatever the machine's speed (the wait above bounds the take-over).
  EXPECT_TRUE(NodeLogHas(
      "b", "epoch=" + std::to_string(held["epoch"].get<int64_t>() + 1) + " previous=host-a"))
      << NodeLog("b");
  const nlohmann::json taken = Status()["sender_lease"];
  EXPECT_EQ(taken["epoch"], held["epoch"].get<int64_t>() + 1) << taken.dump(1);
  EXPECT_GE(taken["since"].get<std::string>(), held["expires"].get<std::string>())
      << held.dump(1) << taken.dump(1);

  ASSERT_TRUE(WaitFor(
      [&] {
        auto states = JobStates();
        return states["sent"] == 2 && states["unknown"] == 1;
      },
      30s))
      << Status().dump(1) << NodeLog("b");
  EXPECT_TRUE(NodeLogHas("b", "it was sending when this daemon took the sender lease"));
  EXPECT_EQ(Status()["sender_lease"]["holder"], "host-b");
  // The held request is logged once the simulator answers it (to nobody).
  ASSERT_TRUE(WaitFor([&] { return Broadcasts().size() == 3; }, 15s));
  const std::map<std::string, int> expected = {{"\"one\"", 1}, {"\"two\"", 1}, {"\"three\"", 1}};
  EXPECT_EQ(Messages(), expected);

  // An operator on host b decides the unknown job: it did reach users.
  const nlohmann::json unknown = Status({"--state", "unknown"})["jobs"];
  ASSERT_EQ(unknown.size(), 1u);
  const auto resolved =
      RunCommand({kBinary, "--resolve-sent", unknown[0]["id"].dump(), "--broadcast-id", "777",
                  "--config", (dir_ / "node-b.yaml").string()},
                 dir_.path());
  EXPECT_EQ(resolved.exit_code, 0) << resolved.output;
  EXPECT_EQ(JobStates()["sent"], 3) << Status().dump(1);

  b->Signal(SIGTERM);
  EXPECT_EQ(b->Wait(20s), 0);
  EXPECT_EQ(Broadcasts().size(), 3u);
}

// A campaign only the standby's folder has yet (the hosts' copies are deployed one after
// the other): the standby ingests it, and the sender, told by a notification, sends it
// at once, long before its own next periodic rescan.
TEST_F(HaE2ETest, AJobTheStandbyIngestsIsSentByTheSenderAtOnce) {
  std::unique_ptr<ChildProcess> a, b;
  StartPair(a, b);
  dir_.Write("campaigns-b/one.yaml", R"(id: one
broadcasts:
  - {name: r1, target: chatrooms, message: {type: txt, msg: only-on-b}}
)");
  ASSERT_TRUE(WaitFor([&] { return Broadcasts().size() == 1; }, 10s))
      << Status().dump(1) << NodeLog("a");
  EXPECT_TRUE(NodeLogHas("a", "broadcast.start")) << NodeLog("a");
  EXPECT_FALSE(NodeLogHas("b", "broadcast.start")) << NodeLog("b");
  for (auto* p : {a.get(), b.get()}) {
    p->Signal(SIGTERM);
    EXPECT_EQ(p->Wait(20s), 0);
  }
}

// The connection to PostgreSQL dies at the claim's COMMIT (a deferred trigger ends the
// backend once, so the claim does not commit): no request goes out for that claim, the
// daemon settles it (nothing to undo) and sends the job once, on the next claim.
TEST_F(HaE2ETest, AConnectionLostAtTheClaimsCommitSendsTheJobOnce) {
  auto a = StartNode("a");
  ASSERT_TRUE(WaitFor([&] { return NodeLogHas("a", "lease.acquired"); }, 20s)) << NodeLog("a");
  {
    pg_->Connect()->Exec(
        "CREATE SEQUENCE claims_seen; "
        "CREATE FUNCTION end_first_claim() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF nextval('claims_seen') = 1 THEN PERFORM pg_terminate_backend(pg_backend_pid()); "
        "END IF; RETURN NULL; END $$; "
        "CREATE CONSTRAINT TRIGGER end_first_claim AFTER INSERT ON attempts "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION end_first_claim()");
  }
  dir_.Write("campaigns-a/one.yaml", R"(id: one
broadcasts:
  - {name: r1, target: chatrooms, message: {type: txt, msg: once}}
)");
  ASSERT_TRUE(WaitFor([&] { return JobStates()["sent"] == 1; }, 20s))
      << Status().dump(1) << NodeLog("a");
  EXPECT_EQ(Broadcasts().size(), 1u);
  EXPECT_TRUE(NodeLogHas("a", "claim job 1: connection lost")) << NodeLog("a");
  EXPECT_FALSE(NodeLogHas("a", "claim.settled")) << NodeLog("a");  // it had not committed
  EXPECT_EQ(NodeLogCount("a", "broadcast.start"), 1u) << NodeLog("a");
  a->Signal(SIGTERM);
  EXPECT_EQ(a->Wait(20s), 0);
}

// Each host keeps its own file stamps in memory: the other host's stamps in the shared
// rows do not make it read unchanged files at its rescans (only a restart reads them
// again, once).
TEST_F(HaE2ETest, RescansOnBothHostsReadNoUnchangedFile) {
  if (kUnderAddressSanitizer) {
    GTEST_SKIP() << "libfaketime cannot be preloaded ahead of AddressSanitizer's runtime";
  }
  ASSERT_TRUE(std::filesystem::exists(kFakeTime)) << "install the faketime package";
  constexpr int kFiles = 20;
  for (int i = 0; i < kFiles; ++i) {
    Drop("c" + std::to_string(i) + ".yaml",
         "id: c" + std::to_string(i) +
             "\nbroadcasts:\n  - {name: b, target: users, send_at: \"2099-01-01T00:00:00Z\", "
             "message: {type: txt, msg: later}}\n");
  }
  // Written an hour ago (settled at the second look). Their ctime is now, so the daemons'
  // wall clocks run an hour ahead (libfaketime; the monotonic clock and the file times
  // stat shows are left alone): the files' ctime is past the racy margin at the first
  // reads, whose stamps are kept.
  for (const std::string node : {"a", "b"}) {
    for (const auto& entry : std::filesystem::directory_iterator(dir_ / ("campaigns-" + node))) {
      std::filesystem::last_write_time(entry.path(),
                                       std::filesystem::file_time_type::clock::now() - 1h);
    }
  }
  const std::vector<std::string> an_hour_ahead = {std::string("LD_PRELOAD=") + kFakeTime,
                                                  "FAKETIME=+1h", "FAKETIME_DONT_FAKE_MONOTONIC=1",
                                                  "NO_FAKE_STAT=1"};
  // The `read=` of each campaigns.scanned line of a node's log (--verbose: a scan with no
  // news is a debug line).
  auto reads = [&](const std::string& node) {
    std::vector<int> n;
    const std::string log = NodeLog(node);
    const std::regex line("campaigns\\.scanned files=\\d+ read=(\\d+)");
    for (auto it = std::sregex_iterator(log.begin(), log.end(), line); it != std::sregex_iterator();
         ++it) {
      n.push_back(std::stoi((*it)[1].str()));
    }
    return n;
  };
  auto a = StartNode("a", /*verbose=*/true, an_hour_ahead);
  auto b = StartNode("b", /*verbose=*/true, an_hour_ahead);
  for (const std::string node : {"a", "b"}) {
    ASSERT_TRUE(WaitFor(
        [&] {
          const std::vector<int> n = reads(node);
          return std::count(n.begin(), n.end(), kFiles) == 1;
        },
        20s))
        << NodeLog(node);
  }
  // Rescans, in turn: each host's own stamps say every file is unchanged.
  for (int round = 0; round < 2; ++round) {
    for (const auto& [node, process] : {std::pair{"a", a.get()}, std::pair{"b", b.get()}}) {
      const size_t before = reads(node).size();
      process->Signal(SIGHUP);
      ASSERT_TRUE(WaitFor([&] { return reads(node).size() > before; }, 10s)) << NodeLog(node);
      EXPECT_EQ(reads(node).back(), 0) << NodeLog(node);
    }
  }
  // A restart of b: the shared rows hold the stamps of whichever host wrote last, so b
  // reads each file once at most, until a scan leaves nothing unsettled; its next rescan
  // reads none.
  b->Signal(SIGTERM);
  ASSERT_EQ(b->Wait(20s), 0);
  const std::string before = NodeLog("b");
  b = StartNode("b", /*verbose=*/true, an_hour_ahead);
  auto after_restart = [&] { return NodeLog("b").substr(before.size()); };
  ASSERT_TRUE(
      WaitFor([&] { return after_restart().find("unsettled=0 ") != std::string::npos; }, 20s))
      << NodeLog("b");
  const size_t restarted = reads("b").size();
  b->Signal(SIGHUP);
  ASSERT_TRUE(WaitFor([&] { return reads("b").size() > restarted; }, 10s)) << NodeLog("b");
  EXPECT_EQ(reads("b").back(), 0) << NodeLog("b");
  EXPECT_EQ(JobStates()["scheduled"], kFiles);
  for (auto* p : {a.get(), b.get()}) {
    p->Signal(SIGTERM);
    EXPECT_EQ(p->Wait(20s), 0);
  }
}

// PostgreSQL restarts under a running pair, while the sender works through a campaign:
// nothing is sent twice, and sending resumes once the server is back.
TEST_F(HaE2ETest, APostgresRestartUnderARunningPairSendsNothingTwice) {
  const std::string uri = StartOwnCluster();
  ASSERT_FALSE(uri.empty());
  WriteConfigs(uri);
  std::unique_ptr<ChildProcess> a, b;
  StartPair(a, b);
  Drop("rooms.yaml", R"(id: rooms
broadcasts:
  - {name: r1, target: chatrooms, message: {type: txt, msg: one}}
  - {name: r2, target: chatrooms, message: {type: txt, msg: two}}
  - {name: r3, target: chatrooms, message: {type: txt, msg: three}}
  - {name: r4, target: chatrooms, message: {type: txt, msg: four}}
  - {name: r5, target: chatrooms, message: {type: txt, msg: five}}
)");
  ASSERT_TRUE(WaitFor([&] { return !Broadcasts().empty(); }, 20s)) << NodeLog("a");
  auto restarted = RunCommand({kPgCluster, "restart", own_cluster_.string()}, dir_.path());
  ASSERT_EQ(restarted.exit_code, 0) << restarted.output;
  ASSERT_TRUE(WaitFor([&] { return JobStates()["sent"] + JobStates()["unknown"] == 5; }, 60s))
      << Status().dump(1) << NodeLog("a") << NodeLog("b");
  // Each message at most once; a claim whose commit the restart cut off may be left
  // `unknown` (then not sent at all), never sent twice.
  for (const auto& [message, n] : Messages()) EXPECT_EQ(n, 1) << message;
  EXPECT_EQ(static_cast<int>(Broadcasts().size()), JobStates()["sent"]);
  ExpectOnePerSecond();
  // While the server was away the daemons retried at their pace (a lost connection is
  // not a busy loop).
  for (const std::string node : {"a", "b"}) {
    EXPECT_LE(NodeLogCount(node, "store.error"), 20u) << NodeLog(node).substr(0, 4000);
  }
  std::cout << "after the restart: " << JobStates()["sent"] << " sent, " << JobStates()["unknown"]
            << " unknown\n";
  for (auto* p : {a.get(), b.get()}) {
    EXPECT_FALSE(p->Wait(0ms).has_value()) << "a daemon exited";
    p->Signal(SIGTERM);
    EXPECT_EQ(p->Wait(20s), 0);
  }
}

// A clean stop of the sender gives the lease up: the sender holds it no more once it is
// gone, and the standby takes it in the next epoch.
TEST_F(HaE2ETest, ACleanStopHandsTheLeaseOverAtOnce) {
  std::unique_ptr<ChildProcess> a, b;
  StartPair(a, b);
  const nlohmann::json held = Status()["sender_lease"];
  ASSERT_EQ(held["holder"], "host-a") << held.dump(1);
  a->Signal(SIGTERM);
  EXPECT_EQ(a->Wait(20s), 0);
  EXPECT_TRUE(NodeLogHas("a", "lease.released")) << NodeLog("a");
  // Given up, not left to expire: host-a no longer holds it (kept, it would hold it for
  // at least two thirds of the TTL more). The standby may have taken it already.
  const nlohmann::json after_stop = Status()["sender_lease"];
  EXPECT_NE(after_stop["holder"], "host-a") << after_stop.dump(1);
  ASSERT_TRUE(WaitFor([&] { return NodeLogHas("b", "lease.acquired"); }, 20s)) << NodeLog("b");
  // Taken over from host-a in the next epoch: what happened, not how fast (the wait
  // above bounds it; a release that did not happen is what the checks above catch).
  EXPECT_TRUE(NodeLogHas(
      "b", "epoch=" + std::to_string(held["epoch"].get<int64_t>() + 1) + " previous=host-a"))
      << NodeLog("b");
  EXPECT_EQ(Status()["sender_lease"]["holder"], "host-b");
  b->Signal(SIGTERM);
  EXPECT_EQ(b->Wait(20s), 0);
}

// The sender is stopped past its lease: the standby takes over and sends; the old sender,
// continued, claims nothing (fenced) and steps down. The chatrooms window (1 per second)
// holds over the whole request log, whoever sent.
TEST_F(HaE2ETest, ASenderStoppedPastItsLeaseSendsNothingAfterwards) {
  std::unique_ptr<ChildProcess> a, b;
  StartPair(a, b);
  a->Signal(SIGSTOP);
  ASSERT_TRUE(WaitFor([&] { return NodeLogHas("b", "lease.acquired"); }, 20s)) << NodeLog("b");
  Drop("rooms.yaml", kRooms);
  ASSERT_TRUE(WaitFor([&] { return JobStates()["sent"] == 3; }, 30s))
      << Status().dump(1) << NodeLog("a") << NodeLog("b");

  a->Signal(SIGCONT);
  ASSERT_TRUE(WaitFor([&] { return NodeLogHas("a", "lease.lost"); }, 20s)) << NodeLog("a");
  Drop("more.yaml", R"(id: more
broadcasts:
  - {name: m1, target: chatrooms, message: {type: txt, msg: four}}
  - {name: m2, target: chatrooms, message: {type: txt, msg: five}}
)");
  ASSERT_TRUE(WaitFor([&] { return JobStates()["sent"] == 5; }, 30s)) << Status().dump(1);

  const std::map<std::string, int> expected = {
      {"\"one\"", 1}, {"\"two\"", 1}, {"\"three\"", 1}, {"\"four\"", 1}, {"\"five\"", 1}};
  EXPECT_EQ(Messages(), expected);
  EXPECT_FALSE(NodeLogHas("a", "broadcast.start")) << NodeLog("a");
  ExpectOnePerSecond();
  for (auto* p : {a.get(), b.get()}) {
    p->Signal(SIGTERM);
    EXPECT_EQ(p->Wait(20s), 0);
  }
}

}  // namespace
}  // namespace broadcastd
