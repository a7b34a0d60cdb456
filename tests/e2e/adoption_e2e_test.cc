// Issue 18, case 4: a new or lost queue never re-sends. A queue created at this start
// (a first start, `rm queue.db` under a restarting daemon, a purge and reinstall) holds
// the campaigns its first scan finds until an operator confirms them; on_new_queue: send
// opts out. Real binary, real simulator; the simulator counts the requests.
//
// "Nothing was sent" is never a wait for time to pass: after the daemon is ready a new
// file is dropped into the folder, for the same endpoint, due later than every file the
// folder held. The scheduler sends an endpoint's due jobs earliest first, so by the time
// the new file's broadcast reaches the simulator, anything held by mistake would have
// reached it before.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "e2e/folder_fixture.h"

namespace broadcastd {
namespace {

namespace fs = std::filesystem;

class AdoptionE2ETest : public FolderE2ETest {
 protected:
  // The fixture's config sends what a new queue finds; these tests choose.
  void NewQueue(const std::string& policy) {
    std::string config = ReadFile(dir_ / "broadcastd.yaml");
    const std::string line = "on_new_queue: send\n";
    ASSERT_NE(config.find(line), std::string::npos);
    config.replace(config.find(line), line.size(),
                   policy.empty() ? std::string() : "on_new_queue: " + policy + "\n");
    dir_.Write("broadcastd.yaml", config);
  }

  void Drop(const std::string& id) {
    dir_.Write("campaigns/" + id + ".yaml", RoomCampaign(id, "text-of-" + id));
  }
  size_t Sent(const std::string& id) { return Posted("text-of-" + id); }

  // Waits until the daemon logged `log` has read each of `ids` (at a start, the files the
  // folder holds wait for the settle time).
  void WaitRead(std::initializer_list<const char*> ids, const std::string& log) {
    for (const char* id : ids) {
      const std::string read = std::string("campaign.accepted file=") + id + ".yaml";
      ASSERT_TRUE(WaitFor([&] { return LogHas(read, log); }, 20s)) << read << "\n" << Log(log);
    }
  }

  // Drops `id` and waits until the simulator has its broadcast: every job due earlier on
  // the endpoint that could go out has gone out by then.
  void DropAndWaitSent(const std::string& id, const std::string& log = "daemon.log") {
    Drop(id);
    ASSERT_TRUE(WaitFor([&] { return Sent(id) == 1; }, 30s)) << Log(log);
  }

  CommandResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), {kBinary, "--config", (dir_ / "broadcastd.yaml").string()});
    return RunCommand(args, dir_.path());
  }

  std::set<std::string> AdoptedIds() {
    std::set<std::string> ids;
    for (const auto& c : Status().value("adopted", nlohmann::json::array())) {
      ids.insert(c["id"].get<std::string>());
    }
    return ids;
  }

  size_t Count(const std::string& text, const std::string& log) {
    const std::string all = Log(log);
    size_t n = 0;
    for (size_t at = all.find(text); at != std::string::npos; at = all.find(text, at + 1)) ++n;
    return n;
  }
};

// (a) A folder with campaigns and a new database: nothing is sent, --status shows the
// hold; --confirm releases them and each goes out once.
TEST_F(AdoptionE2ETest, ANewQueueHoldsWhatTheFolderHoldsUntilConfirmed) {
  NewQueue("");  // the default: hold
  Drop("a");
  Drop("b");
  auto daemon = StartDaemon();
  WaitReady();
  // Read once settled (just written, they wait the settle time), then adopted.
  EXPECT_TRUE(WaitFor([&] { return LogHas("campaign.adopted campaign=b "); }, 20s)) << Log();

  const nlohmann::json status = Status();
  EXPECT_EQ(AdoptedIds(), (std::set<std::string>{"a", "b"})) << status.dump(2);
  for (const auto& c : status["adopted"]) {
    EXPECT_EQ(c["queued_jobs"], 1);
    EXPECT_NE(
        c["reason"].get<std::string>().find("broadcastd --confirm " + c["id"].get<std::string>()),
        std::string::npos);
  }
  for (const auto& j : status["jobs"]) {
    EXPECT_TRUE(j["forecast"].is_object() && j["forecast"]["kind"] == "held") << j.dump();
  }
  const CommandResult text = Run({"--status"});
  EXPECT_NE(text.output.find("ADOPTED"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("broadcastd --confirm a"), std::string::npos) << text.output;
  EXPECT_EQ(Count("campaign.adopted campaign=a ", "daemon.log"), 1u) << Log();
  EXPECT_EQ(Count("campaign.adopted campaign=b ", "daemon.log"), 1u) << Log();

  // A file dropped after the first scan is new: it goes out, and the held ones did not.
  DropAndWaitSent("c");
  EXPECT_EQ(Sent("a"), 0u) << Log();
  EXPECT_EQ(Sent("b"), 0u);

  const CommandResult confirm = Run({"--confirm", "a"});
  ASSERT_EQ(confirm.exit_code, 0) << confirm.output;
  ASSERT_TRUE(WaitFor([&] { return Sent("a") == 1; }, 30s)) << Log();
  EXPECT_EQ(AdoptedIds(), (std::set<std::string>{"b"}));
  const CommandResult all = Run({"--confirm-all"});
  ASSERT_EQ(all.exit_code, 0) << all.output;
  EXPECT_NE(all.output.find("campaign b: confirmed"), std::string::npos) << all.output;
  ASSERT_TRUE(WaitFor([&] { return Sent("b") == 1; }, 30s)) << Log();
  EXPECT_TRUE(AdoptedIds().empty());

  // --history shows the confirmation as an operator action on the job's campaign.
  const nlohmann::json sent = Status({"--state", "sent", "--campaign", "a"});
  ASSERT_EQ(sent["jobs"].size(), 1u) << sent.dump(2);
  const CommandResult history =
      Run({"--history", std::to_string(sent["jobs"][0]["id"].get<int64_t>()), "--json"});
  ASSERT_EQ(history.exit_code, 0) << history.output;
  const auto actions = nlohmann::json::parse(history.output)["operator_actions"];
  ASSERT_EQ(actions.size(), 1u) << history.output;
  EXPECT_EQ(actions[0]["action"], "confirm");
  EXPECT_EQ(actions[0]["scope"], "campaign");

  // Once: a later start on the same queue holds nothing and sends nothing again.
  StopDaemon(*daemon);
  auto again = StartDaemon("again.log");
  ASSERT_TRUE(WaitFor([&] { return LogHas("daemon.ready", "again.log"); }, 20s))
      << Log("again.log");
  DropAndWaitSent("d", "again.log");
  EXPECT_EQ(Sent("a"), 1u);
  EXPECT_EQ(Sent("b"), 1u);
  EXPECT_EQ(Sent("c"), 1u);
  EXPECT_EQ(Count("campaign.adopted", "again.log"), 0u);
  StopDaemon(*again);
}

// (b) `rm queue.db` while the daemon runs: it exits; started again (Restart=on-failure)
// on a new, empty database, it sends nothing that went out already.
TEST_F(AdoptionE2ETest, ALostDatabaseUnderARestartingDaemonResendsNothing) {
  NewQueue("hold");
  auto daemon = StartDaemon();
  WaitReady();
  DropAndWaitSent("a");
  DropAndWaitSent("b");
  ASSERT_TRUE(WaitFor([&] { return JobStates()["sent"] == 2; }, 20s));

  fs::remove(dir_ / "state/queue.db");
  Drop("c");  // the daemon looks at its files before it claims anything: it stops
  auto code = daemon->Wait(20s);
  ASSERT_TRUE(code.has_value()) << Log();
  EXPECT_NE(*code, 0) << Log();
  ASSERT_TRUE(LogHas("store.files_changed")) << Log();

  auto again = StartDaemon("again.log");
  WaitRead({"a", "b", "c"}, "again.log");
  DropAndWaitSent("d", "again.log");
  EXPECT_EQ(Sent("a"), 1u) << Log("again.log");
  EXPECT_EQ(Sent("b"), 1u);
  EXPECT_EQ(Sent("c"), 0u);
  EXPECT_EQ(AdoptedIds(), (std::set<std::string>{"a", "b", "c"}));
  StopDaemon(*again);
}

// (c) "apt-get purge" then "apt-get install", emulated: the state directory goes, the
// campaign files stay (dpkg did not install them); the next start sends nothing again.
TEST_F(AdoptionE2ETest, APurgeAndReinstallResendsNothing) {
  NewQueue("hold");
  auto daemon = StartDaemon();
  WaitReady();
  DropAndWaitSent("a");
  DropAndWaitSent("b");
  StopDaemon(*daemon);

  fs::remove_all(dir_ / "state");
  auto again = StartDaemon("again.log");
  WaitRead({"a", "b"}, "again.log");
  DropAndWaitSent("d", "again.log");
  EXPECT_EQ(Sent("a"), 1u) << Log("again.log");
  EXPECT_EQ(Sent("b"), 1u);
  EXPECT_EQ(AdoptedIds(), (std::set<std::string>{"a", "b"}));
  StopDaemon(*again);
}

// (d) on_new_queue: send (a first installation whose folder is meant to go out): the
// first start sends what it finds, and holds nothing.
TEST_F(AdoptionE2ETest, TheOptOutSendsAtTheFirstStart) {
  NewQueue("send");
  Drop("a");
  Drop("b");
  auto daemon = StartDaemon();
  WaitReady();
  ASSERT_TRUE(WaitFor([&] { return Sent("a") == 1 && Sent("b") == 1; }, 30s)) << Log();
  EXPECT_TRUE(AdoptedIds().empty());
  EXPECT_FALSE(LogHas("campaign.adopted"));
  StopDaemon(*daemon);
}

}  // namespace
}  // namespace broadcastd
