// Ingestion at scale on the real binary and the real simulator: hundreds of campaign
// files dropped at once while jobs are due. The scan runs in slices and the daemon
// sends between them: requests reach the simulator while the scan is still going, not
// only after it ended. The scan is made long by the test (it drops more files until one
// scan lasts long enough), so the verdict does not rest on the machine's speed.

#include <algorithm>
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
  // Chatrooms with a window wide enough never to bind and a simulator that takes 100 ms
  // over each broadcast: the daemon sends without pause, one request after another, for
  // as long as due broadcasts last (300 of them: about 30 s). A loop that sends between
  // the scan's slices has a request reach the simulator every slice or two; a loop held
  // by the scan sends at most the one request it had started before.
  constexpr int kDue = 300;
  StartSimulator(
      {"--window", "chatrooms=1000/1", "--daily-chatrooms", "1000", "--delay-ms", "chatrooms=100"},
      "safety_margin_ms: 0\n"
      "limits:\n  chatrooms: {windows: [{count: 1000, seconds: 1}], daily: 1000}\n");
  for (int file = 0; file < kDue / 100; ++file) {
    std::string due = "id: due" + std::to_string(file) + "\nbroadcasts:\n";
    for (int i = 0; i < 100; ++i) {
      due += "  - {name: d" + std::to_string(i) +
             ", target: chatrooms, message: {type: txt, msg: due}}\n";
    }
    dir_.Write("campaigns/due" + std::to_string(file) + ".yaml", due);
  }
  auto daemon = StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return Broadcasts().size() >= 2; }, 30s))
      << ReadFile(dir_ / "daemon.log");

  // The premise is a scan longer than a few requests, whatever the machine's speed: the
  // test drops files of 40 broadcasts each, written aside and renamed in at once, and
  // drops twice as many again while the longest scan so far was shorter than 1.5 s
  // (800 files take about 0.8 s on two cores).
  constexpr int kBroadcasts = 40;
  constexpr int64_t kLongEnoughMs = 1'500;
  fs::create_directories(dir_ / "aside");
  int files = 0;
  int expected_created = kDue / 100;
  ScanTimes longest;
  for (int batch = 800; longest.end_ms - longest.begin_ms < kLongEnoughMs; batch *= 2) {
    ASSERT_LE(files + batch, 12'800) << "no scan lasted " << kLongEnoughMs << " ms";
    for (int f = files; f < files + batch; ++f) {
      std::string yaml = "id: later" + std::to_string(f) + "\nbroadcasts:\n";
      for (int b = 0; b < kBroadcasts; ++b) {
        yaml += "  - {name: b" + std::to_string(b) +
                ", target: users, send_at: \"2099-01-01T00:00:00Z\", message: {type: txt, "
                "msg: \"later " +
                std::to_string(f) + "/" + std::to_string(b) + "\"}}\n";
      }
      dir_.Write("aside/later" + std::to_string(f) + ".yaml", yaml);
    }
    for (int f = files; f < files + batch; ++f) {
      const std::string name = "later" + std::to_string(f) + ".yaml";
      fs::rename(dir_ / "aside" / name, dir_ / "campaigns" / name);
    }
    files += batch;
    expected_created += batch;
    // The renames may reach the daemon over more than one scan; the one that took in
    // most of the files ran in slices.
    ASSERT_TRUE(WaitFor([&] { return JobStates()["scheduled"] == files * kBroadcasts; }, 120s))
        << ReadFile(dir_ / "daemon.log");
    int created = 0;
    for (const ScanTimes& scan : Scans()) {
      created += scan.created;
      if (scan.end_ms - scan.begin_ms > longest.end_ms - longest.begin_ms) longest = scan;
    }
    EXPECT_EQ(created, expected_created);
  }
  ASSERT_LT(Broadcasts().size(), static_cast<size_t>(kDue))
      << "the due broadcasts ran out before the scans ended: the loop had nothing to send";
  EXPECT_GT(longest.slices, 1);

  // Between two slices the loop records the answer that came in and claims the next job;
  // a request takes 100 ms, a slice at least 50 ms (much more under a sanitizer, where one
  // batch of files outlasts it). So about one request per two or three slices when the
  // loop sends between them: at least one per four slices, and two. A loop held by the
  // scan gives 1 at most.
  int during = 0;
  for (const nlohmann::json& request : Broadcasts()) {
    const int64_t at = request["time_us"].get<int64_t>() / 1000;
    during += at > longest.begin_ms && at < longest.end_ms;
  }
  const int64_t duration_ms = longest.end_ms - longest.begin_ms;
  std::printf("the longest scan: %d files in %lld ms, %d slices; %d requests meanwhile\n",
              longest.created, static_cast<long long>(duration_ms), longest.slices, during);
  EXPECT_GE(during, std::max(2, longest.slices / 4))
      << "scan of " << longest.created << " files from " << longest.begin_ms << " to "
      << longest.end_ms << " ms, in " << longest.slices << " slices";

  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(20s), 0);
}

}  // namespace
}  // namespace broadcastd
