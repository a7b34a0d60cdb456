// Ingestion at scale on the real binary and the real simulator: hundreds of campaign
// files dropped at once while jobs are due. The scan runs in slices and the daemon
// sends between them: requests reach the simulator while the scan is still going, not
// only after it ended.

#include <chrono>
#include <cstdio>
#include <regex>
#include <sstream>

#include "core/time_format.h"
#include "e2e/daemon_fixture.h"

namespace broadcastd {
namespace {

namespace fs = std::filesystem;

class IngestScaleE2ETest : public DaemonE2ETest {
 protected:
  // Every campaigns.scanned line that created campaigns: when the scan ended and began
  // (by the daemon's clock, ms), in how many slices it ran, what it created.
  struct ScanTimes {
    int64_t begin_ms = 0;
    int64_t end_ms = 0;
    int slices = 0;
    int created = 0;
  };
  std::vector<ScanTimes> Scans() {
    std::vector<ScanTimes> scans;
    std::istringstream log(ReadFile(dir_ / "daemon.log"));
    const std::regex line(
        "^(\\S+) info campaigns\\.scanned .*created=(\\d+) .*slices=(\\d+) duration_ms=(\\d+)");
    for (std::string text; std::getline(log, text);) {
      std::smatch m;
      if (!std::regex_search(text, m, line)) continue;
      auto end = ParseRfc3339(m[1].str());
      if (!end) continue;
      ScanTimes t;
      t.end_ms = ToMillis(*end);
      t.begin_ms = t.end_ms - std::stoll(m[4].str());
      t.created = std::stoi(m[2].str());
      t.slices = std::stoi(m[3].str());
      scans.push_back(t);
    }
    return scans;
  }
};

TEST_F(IngestScaleE2ETest, SendsGoOnWhileHundredsOfDroppedFilesAreScanned) {
  // Chatrooms at 10 a second at both ends: 80 due broadcasts keep the daemon sending
  // for about 8 seconds.
  StartSimulator({"--window", "chatrooms=10/1"},
                 "safety_margin_ms: 20\n"
                 "limits:\n  chatrooms: {windows: [{count: 10, seconds: 1}], daily: 100}\n");
  std::string due = "id: due\nbroadcasts:\n";
  for (int i = 0; i < 80; ++i) {
    due += "  - {name: d" + std::to_string(i) +
           ", target: chatrooms, message: {type: txt, msg: due}}\n";
  }
  dir_.Write("campaigns/due.yaml", due);
  auto daemon = StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return Broadcasts().size() >= 2; }, 30s))
      << ReadFile(dir_ / "daemon.log");

  // 800 files of 40 broadcasts each (a scan of seconds, longer than the pauses of about
  // 1 s between the bursts of sends the window makes: 300 files took 0.85 s on two cores),
  // written aside and renamed in at once.
  constexpr int kFiles = 800;
  constexpr int kBroadcasts = 40;
  fs::create_directories(dir_ / "aside");
  for (int f = 0; f < kFiles; ++f) {
    std::string yaml = "id: later" + std::to_string(f) + "\nbroadcasts:\n";
    for (int b = 0; b < kBroadcasts; ++b) {
      yaml += "  - {name: b" + std::to_string(b) +
              ", target: users, send_at: \"2099-01-01T00:00:00Z\", message: {type: txt, msg: "
              "\"later " +
              std::to_string(f) + "/" + std::to_string(b) + "\"}}\n";
    }
    dir_.Write("aside/later" + std::to_string(f) + ".yaml", yaml);
  }
  for (int f = 0; f < kFiles; ++f) {
    const std::string name = "later" + std::to_string(f) + ".yaml";
    fs::rename(dir_ / "aside" / name, dir_ / "campaigns" / name);
  }

  // The renames may reach the daemon over more than one scan; the one that took in most
  // of the files ran in slices, and the daemon sent between them.
  ASSERT_TRUE(WaitFor([&] { return JobStates()["scheduled"] == kFiles * kBroadcasts; }, 60s))
      << ReadFile(dir_ / "daemon.log");
  ScanTimes longest;
  int created = 0;
  for (const ScanTimes& scan : Scans()) {
    created += scan.created;
    if (scan.created > longest.created) longest = scan;
  }
  EXPECT_EQ(created, kFiles + 1);  // and due.yaml
  EXPECT_GT(longest.slices, 1);
  // The premise: a scan shorter than the pause between two bursts could fall between them.
  ASSERT_GT(longest.end_ms - longest.begin_ms, 1'100)
      << "the scan took less than the pause between bursts of sends: give it more files";
  int during = 0;
  for (const nlohmann::json& request : Broadcasts()) {
    const int64_t at = request["time_ms"].get<int64_t>();
    during += at > longest.begin_ms && at < longest.end_ms;
  }
  EXPECT_GE(during, 1) << "scan of " << longest.created << " files from " << longest.begin_ms
                       << " to " << longest.end_ms << " ms, in " << longest.slices << " slices";

  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(20s), 0);
}

}  // namespace
}  // namespace broadcastd
