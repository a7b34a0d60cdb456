// A broadcast is (campaign id, broadcast name, occurrence), whatever file carries it:
// the real broadcastd against the real simulator, whose request log proves how many
// times each broadcast was POSTed.

#include "e2e/daemon_fixture.h"

namespace broadcastd {
namespace {

namespace fs = std::filesystem;

class CampaignIdentityE2ETest : public DaemonE2ETest {
 protected:
  // Writes the file elsewhere and renames it in, as the README tells writers to.
  void Drop(const std::string& name, const std::string& content) {
    auto staged = dir_.Write("staging/" + name, content);
    fs::rename(staged, dir_ / "campaigns" / name);
  }

  // Shorter windows than the vendor's, so that retries come within seconds.
  void ShortWindows() {
    std::string config = ReadFile(dir_ / "broadcastd.yaml");
    dir_.Write("broadcastd.yaml", config +
                                      "limits:\n"
                                      "  users: {windows: [{count: 1, seconds: 3}], daily: 3}\n"
                                      "  chatrooms: {windows: [{count: 1, seconds: 3}], daily: "
                                      "100}\n");
  }

  // POSTs whose body holds `text`.
  size_t Posts(const std::string& text) {
    size_t n = 0;
    for (const auto& b : Broadcasts()) n += b.value("body", "").find(text) != std::string::npos;
    return n;
  }

  // --status --json's job of this broadcast name, or null.
  nlohmann::json JobOf(const std::string& broadcast) {
    for (const auto& job : AllJobs()) {
      if (job["broadcast"] == broadcast) return job;
    }
    return nullptr;
  }

  std::string FileStatus(const std::string& file) {
    for (const auto& c : Status().value("campaigns", nlohmann::json::array())) {
      if (c["file"] == file) return c["status"].get<std::string>();
    }
    return "";
  }

  std::string JobState(const std::string& broadcast) {
    nlohmann::json job = JobOf(broadcast);
    return job.is_null() ? "" : job["state"].get<std::string>();
  }

  bool Ready(const std::string& log) {
    return ReadFile(dir_ / log).find("daemon.ready") != std::string::npos;
  }

  void Stop(std::unique_ptr<ChildProcess>& daemon) {
    daemon->Signal(SIGTERM);
    EXPECT_TRUE(daemon->Wait(20s).has_value());
  }
};

// Case 1: a campaign [A due now, B in 2099]. Broadcasts are keyed by name, not by
// position: a file without names is rejected; after A is sent, C inserted at the top
// is sent, A is not POSTed again and B stays scheduled.
TEST_F(CampaignIdentityE2ETest, InsertingABroadcastAtTheTopSendsItAndNothingElse) {
  auto daemon = StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return Ready("daemon.log"); }, 20s));
  Drop("promo.yaml", R"(id: promo
broadcasts:
  - {target: chatrooms, message: {type: txt, msg: text-A}}
  - {target: chatrooms, send_at: "2099-01-01T00:00:00Z", message: {type: txt, msg: text-B}}
)");
  ASSERT_TRUE(WaitFor([&] { return FileStatus("promo.yaml") == "rejected"; }, 20s))
      << ReadFile(dir_ / "daemon.log");
  EXPECT_TRUE(Broadcasts().empty());

  Drop("promo.yaml", R"(id: promo
broadcasts:
  - {name: a, target: chatrooms, message: {type: txt, msg: text-A}}
  - {name: b, target: chatrooms, send_at: "2099-01-01T00:00:00Z", message: {type: txt, msg: text-B}}
)");
  ASSERT_TRUE(WaitFor([&] { return Posts("text-A") == 1; }, 20s)) << ReadFile(dir_ / "daemon.log");
  ASSERT_TRUE(WaitFor([&] { return JobState("a") == "sent"; }, 10s));

  Drop("promo.yaml", R"(id: promo
broadcasts:
  - {name: c, target: chatrooms, message: {type: txt, msg: text-C}}
  - {name: a, target: chatrooms, message: {type: txt, msg: text-A}}
  - {name: b, target: chatrooms, send_at: "2099-01-01T00:00:00Z", message: {type: txt, msg: text-B}}
)");
  ASSERT_TRUE(WaitFor([&] { return Posts("text-C") == 1; }, 20s)) << ReadFile(dir_ / "daemon.log");
  // Chatrooms allow one request a second: a second POST of A would be there by now.
  EXPECT_FALSE(WaitFor([&] { return Broadcasts().size() > 2; }, 2500ms));
  EXPECT_EQ(Posts("text-A"), 1u);
  EXPECT_EQ(Posts("text-B"), 0u);
  EXPECT_EQ(JobState("b"), "scheduled");
  EXPECT_EQ(JobStates()["sent"], 2);
  Stop(daemon);
}

// Case 2: `mv a.yaml b.yaml` while the daemon runs, and again while it is stopped:
// the campaign moves with its file; nothing is POSTed twice and its pending job stays.
TEST_F(CampaignIdentityE2ETest, RenamingTheFileWhileRunningAndAcrossARestartResendsNothing) {
  auto daemon = StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return Ready("daemon.log"); }, 20s));
  Drop("a.yaml", R"(id: promo
broadcasts:
  - {name: now, target: chatrooms, message: {type: txt, msg: text-now}}
  - {name: later, target: chatrooms, send_at: "2099-01-01T00:00:00Z", message: {type: txt, msg: x}}
)");
  ASSERT_TRUE(WaitFor([&] { return JobState("now") == "sent"; }, 20s))
      << ReadFile(dir_ / "daemon.log");

  fs::rename(dir_ / "campaigns/a.yaml", dir_ / "campaigns/b.yaml");
  ASSERT_TRUE(WaitFor([&] { return FileStatus("b.yaml") == "ok"; }, 20s))
      << ReadFile(dir_ / "daemon.log") << Status().dump(1);
  EXPECT_EQ(FileStatus("a.yaml"), "removed");
  EXPECT_EQ(JobState("later"), "scheduled");
  EXPECT_NE(ReadFile(dir_ / "daemon.log").find("campaign.moved file=b.yaml from=a.yaml id=promo"),
            std::string::npos)
      << ReadFile(dir_ / "daemon.log");
  Stop(daemon);

  fs::rename(dir_ / "campaigns/b.yaml", dir_ / "campaigns/c.yaml");
  auto again = StartDaemon("daemon2.log");
  ASSERT_TRUE(WaitFor([&] { return Ready("daemon2.log"); }, 20s));
  ASSERT_TRUE(WaitFor([&] { return FileStatus("c.yaml") == "ok"; }, 20s)) << Status().dump(1);
  EXPECT_FALSE(WaitFor([&] { return Broadcasts().size() > 1; }, 1500ms));
  EXPECT_EQ(Posts("text-now"), 1u);
  EXPECT_EQ(JobState("now"), "sent");
  EXPECT_EQ(JobState("later"), "scheduled");
  EXPECT_EQ(AllJobs().size(), 2u);
  Stop(again);
}

// Case 9: a 429 proves the request was not applied. The job retried after it takes
// the file's edit (the new text is POSTed), and one whose file is removed is
// cancelled and never POSTed again.
TEST_F(CampaignIdentityE2ETest, AfterA429EditsReachTheJobAndRemovalCancelsIt) {
  ShortWindows();
  dir_.Write("faults.json", R"({"next": ["429", "429"]})");
  auto daemon = StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return Ready("daemon.log"); }, 20s));
  Drop("edited.yaml", R"(id: edited
broadcasts:
  - {name: news, target: chatrooms, message: {type: txt, msg: old-text}}
)");
  Drop("doomed.yaml", R"(id: doomed
broadcasts:
  - {name: gone, target: users, message: {type: txt, msg: doomed-text}}
)");
  ASSERT_TRUE(WaitFor([&] { return Broadcasts().size() == 2; }, 20s))
      << ReadFile(dir_ / "daemon.log");
  for (const auto& b : Broadcasts()) ASSERT_EQ(b["status"], 429) << b.dump();

  // Both wait at least the 3 s window before they may go again.
  Drop("edited.yaml", R"(id: edited
broadcasts:
  - {name: news, target: chatrooms, message: {type: txt, msg: new-text}}
)");
  fs::remove(dir_ / "campaigns/doomed.yaml");

  ASSERT_TRUE(WaitFor([&] { return Posts("new-text") == 1; }, 20s))
      << ReadFile(dir_ / "daemon.log") << Status().dump(1);
  EXPECT_EQ(Posts("old-text"), 1u);
  ASSERT_TRUE(WaitFor([&] { return JobState("news") == "sent"; }, 10s));
  EXPECT_EQ(JobState("gone"), "cancelled");
  // The users window (3 s) has passed by now: a retry of the removed job would show.
  EXPECT_FALSE(WaitFor([&] { return Posts("doomed-text") > 1; }, 2s));
  EXPECT_EQ(Posts("doomed-text"), 1u);
  Stop(daemon);
}

}  // namespace
}  // namespace broadcastd
