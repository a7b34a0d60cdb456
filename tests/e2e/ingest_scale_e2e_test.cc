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
  // The campaigns.scanned line that created `created` campaigns: when the scan ended
  // and began (by the daemon's clock, ms), and in how many slices it ran.
  struct ScanTimes {
    int64_t begin_ms = 0;
    int64_t end_ms = 0;
    int slices = 0;
  };
  std::optional<ScanTimes> ScanThatCreated(int created) {
    std::istringstream log(ReadFile(dir_ / "daemon.log"));
    const std::regex line("^(\\S+) info campaigns\\.scanned .*created=" + std::to_string(created) +
                          " .*slices=(\\d+) duration_ms=(\\d+)");
    for (std::string text; std::getline(log, text);) {
      std::smatch m;
      if (!std::regex_search(text, m, line)) continue;
      auto end = ParseRfc3339(m[1].str());
      if (!end) continue;
      ScanTimes t;
      t.end_ms = ToMillis(*end);
      t.begin_ms = t.end_ms - std::stoll(m[3].str());
      t.slices = std::stoi(m[2].str());
      return t;
    }
    return std::nullopt;
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

  // 400 files, 10 broadcasts each, written aside and renamed in at once.
  constexpr int kFiles = 400;
  fs::create_directories(dir_ / "aside");
  for (int f = 0; f < kFiles; ++f) {
    std::string yaml = "id: later" + std::to_string(f) + "\nbroadcasts:\n";
    for (int b = 0; b < 10; ++b) {
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

  std::optional<ScanTimes> scan;
  ASSERT_TRUE(WaitFor([&] { return (scan = ScanThatCreated(kFiles)).has_value(); }, 60s))
      << ReadFile(dir_ / "daemon.log");
  EXPECT_GT(scan->slices, 1);
  // Requests the simulator received while the scan ran, after its first slice.
  int during = 0;
  for (const nlohmann::json& request : Broadcasts()) {
    const int64_t at = request["time_ms"].get<int64_t>();
    during += at > scan->begin_ms && at < scan->end_ms;
  }
  EXPECT_GE(during, 1) << "scan from " << scan->begin_ms << " to " << scan->end_ms << " ms, in "
                       << scan->slices << " slices";
  EXPECT_EQ(JobStates()["scheduled"], kFiles * 10);

  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(20s), 0);
}

}  // namespace
}  // namespace broadcastd
