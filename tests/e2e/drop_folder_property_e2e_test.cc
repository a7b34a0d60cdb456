// A property of the drop folder, on the real binary and the real simulator:
// whatever an operator does to the campaign files (create, edit, reorder,
// insert, delete, rename, move a campaign to another file, remove and restore,
// write a file slowly in place) interleaved with sends and restarts (SIGTERM
// and SIGKILL), the request log shows
//   - no (campaign, broadcast) POSTed twice, and
//   - every broadcast present in the final files sent (or left unknown by a
//     kill mid-request), or still queued when it is scheduled for later.
// The checker reads only the simulator's request log and the final --status;
// it knows nothing of the daemon's tables.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <random>

#include "e2e/daemon_fixture.h"

namespace broadcastd {
namespace {

namespace fs = std::filesystem;

struct ModelBroadcast {
  std::string name;
  int version = 0;
  bool later = false;  // send_at in 2099: stays queued
};

struct ModelCampaign {
  std::string id;
  std::string file;  // empty: no file carries it now
  std::vector<ModelBroadcast> broadcasts;
};

std::string Render(const ModelCampaign& c) {
  std::string y = "id: " + c.id + "\nbroadcasts:\n";
  for (const auto& b : c.broadcasts) {
    y += "  - name: " + b.name + "\n    target: chatrooms\n";
    if (b.later) y += "    send_at: \"2099-01-01T00:00:00Z\"\n";
    y += "    message: {type: txt, msg: \"" + c.id + "/" + b.name + "/v" +
         std::to_string(b.version) + "\"}\n";
  }
  return y;
}

class DropFolderPropertyTest : public DaemonE2ETest {
 protected:
  // The simulator's and the daemon's chatroom window shortened to 1 per second
  // (the daily budget of 100 stays), so a run takes seconds per send.
  void UseShortWindows() {
    sim_.reset();
    std::filesystem::remove(dir_ / "sim.port");
    sim_.emplace(
        std::vector<std::string>{kSimulator, "--port", "0", "--port-file",
                                 (dir_ / "sim.port").string(), "--org", "org", "--app", "app",
                                 "--client-id", "cid", "--client-secret-file",
                                 (dir_ / "credentials/main.secret").string(), "--log",
                                 (dir_ / "sim.jsonl").string(), "--window", "chatrooms=1/1"},
        dir_ / "sim.log");
    ASSERT_TRUE(sim_->started());
    ASSERT_TRUE(WaitFor([&] { return !ReadFile(dir_ / "sim.port").empty(); }, 10s));
    std::string port = ReadFile(dir_ / "sim.port");
    while (!port.empty() && (port.back() == '\n' || port.back() == ' ')) port.pop_back();
    dir_.Write("broadcastd.yaml",
               "database: " + (dir_ / "state/queue.db").string() +
                   "\ncampaigns_dir: " + (dir_ / "campaigns").string() +
                   "\nsafety_margin_ms: 200\n" + "on_new_queue: send\n" +
                   "limits:\n  chatrooms: {windows: [{count: 1, seconds: 1}], daily: 100}\n" +
                   "apps:\n  main:\n    host: http://127.0.0.1:" + port +
                   "\n    org: org\n    app: app\n    client_id: cid\n"
                   "    client_secret_file: main.secret\n");
  }

  fs::path CampaignPath(const std::string& file) { return dir_ / "campaigns" / file; }

  // Written aside and renamed in, as the README asks of writers.
  void Publish(const ModelCampaign& c) {
    const fs::path tmp = dir_ / "campaigns" / ("." + c.file + ".tmp");
    dir_.Write(("campaigns/." + c.file + ".tmp"), Render(c));
    fs::rename(tmp, CampaignPath(c.file));
  }

  // Written in place, slowly: the first half, a pause, the rest.
  void WriteSlowlyInPlace(const ModelCampaign& c, std::mt19937& rng) {
    const std::string text = Render(c);
    const int fd = ::open(CampaignPath(c.file).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd, 0);
    const size_t half = text.size() / 2;
    ASSERT_EQ(::write(fd, text.data(), half), static_cast<ssize_t>(half));
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 700));
    ASSERT_EQ(::write(fd, text.data() + half, text.size() - half),
              static_cast<ssize_t>(text.size() - half));
    ::close(fd);
  }

  // (campaign/broadcast) -> how many POSTs, from the request log alone.
  std::map<std::string, int> PostsByBroadcast() {
    std::map<std::string, int> posts;
    for (const auto& b : Broadcasts()) {
      auto body = nlohmann::json::parse(b["body"].get<std::string>(), nullptr, false);
      if (body.is_discarded()) continue;
      std::string msg = body["msg"]["msg"].get<std::string>();
      ++posts[msg.substr(0, msg.rfind('/'))];
    }
    return posts;
  }
};

TEST_F(DropFolderPropertyTest, RandomFileOperationsNeverSendTwiceAndLoseNothing) {
  UseShortWindows();
  // A new seed each run (printed on failure); BROADCASTD_PROPERTY_SEED replays one.
  const char* fixed = std::getenv("BROADCASTD_PROPERTY_SEED");
  const uint32_t seed = fixed ? static_cast<uint32_t>(std::stoul(fixed)) : std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };

  std::vector<ModelCampaign> campaigns;
  std::vector<ModelBroadcast> removed_broadcasts;  // per campaign index, for restore
  int next_name = 0, next_file = 0;
  auto fresh_broadcast = [&] {
    return ModelBroadcast{"b" + std::to_string(next_name++), 0, rng() % 2 == 0};
  };
  auto fresh_file = [&] { return "f" + std::to_string(next_file++) + ".yaml"; };
  for (int i = 0; i < 3; ++i) {
    ModelCampaign c{"camp" + std::to_string(i), fresh_file(), {}};
    for (int k = 0; k < 2; ++k) c.broadcasts.push_back(fresh_broadcast());
    Publish(c);
    campaigns.push_back(c);
  }

  auto daemon = StartDaemon();
  int restarts = 0, kills = 0, ops = 0;
  std::map<std::string, int> op_counts;
  for (int step = 0; step < 40; ++step) {
    ModelCampaign& c = campaigns[pick(campaigns.size())];
    const int op = static_cast<int>(pick(11));
    ++ops;
    if (c.file.empty() && op != 7) {
      // Removed: the only thing to do with it is to bring it back.
      c.file = fresh_file();
      Publish(c);
      ++op_counts["restore"];
    } else {
      switch (op) {
        case 0:  // edit a text
          if (!c.broadcasts.empty()) ++c.broadcasts[pick(c.broadcasts.size())].version;
          Publish(c);
          ++op_counts["edit"];
          break;
        case 1:  // insert at the top
          c.broadcasts.insert(c.broadcasts.begin(), fresh_broadcast());
          Publish(c);
          ++op_counts["insert"];
          break;
        case 2:  // reorder
          std::shuffle(c.broadcasts.begin(), c.broadcasts.end(), rng);
          Publish(c);
          ++op_counts["reorder"];
          break;
        case 3:  // delete one (kept aside to restore later)
          if (c.broadcasts.size() > 1) {
            size_t k = pick(c.broadcasts.size());
            removed_broadcasts.push_back(c.broadcasts[k]);
            c.broadcasts.erase(c.broadcasts.begin() + static_cast<ptrdiff_t>(k));
            Publish(c);
          }
          ++op_counts["delete"];
          break;
        case 4:  // restore a deleted broadcast (same name, same or newer text)
          if (!removed_broadcasts.empty()) {
            size_t k = pick(removed_broadcasts.size());
            ModelBroadcast b = removed_broadcasts[k];
            removed_broadcasts.erase(removed_broadcasts.begin() + static_cast<ptrdiff_t>(k));
            if (std::none_of(c.broadcasts.begin(), c.broadcasts.end(),
                             [&](const ModelBroadcast& x) { return x.name == b.name; })) {
              b.version += static_cast<int>(pick(2));
              c.broadcasts.push_back(b);
              Publish(c);
            }
          }
          ++op_counts["restore_broadcast"];
          break;
        case 5: {  // rename the file
          std::string to = fresh_file();
          fs::rename(CampaignPath(c.file), CampaignPath(to));
          c.file = to;
          ++op_counts["rename"];
          break;
        }
        case 6: {  // move the campaign to another file: new one first, then the old one goes
          std::string from = c.file;
          c.file = fresh_file();
          Publish(c);
          std::this_thread::sleep_for(std::chrono::milliseconds(pick(300)));
          fs::remove(CampaignPath(from));
          ++op_counts["move"];
          break;
        }
        case 7:  // remove the file (restored by a later step)
          if (!c.file.empty()) {
            fs::remove(CampaignPath(c.file));
            c.file.clear();
          }
          ++op_counts["remove"];
          break;
        case 8:  // a slow writer, in place
          if (!c.broadcasts.empty()) ++c.broadcasts[pick(c.broadcasts.size())].version;
          WriteSlowlyInPlace(c, rng);
          ++op_counts["slow_write"];
          break;
        case 9: {  // restart: SIGTERM or SIGKILL
          const bool kill = rng() % 2 == 0;
          daemon->Signal(kill ? SIGKILL : SIGTERM);
          ASSERT_TRUE(daemon->Wait(30s).has_value());
          daemon = StartDaemon("daemon" + std::to_string(++restarts) + ".log");
          kills += kill ? 1 : 0;
          break;
        }
        default:  // let it send for a while
          std::this_thread::sleep_for(std::chrono::milliseconds(500 + pick(1000)));
          ++op_counts["pause"];
          break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + pick(350)));
    // Invariant at every step: nothing POSTed twice.
    for (const auto& [key, n] : PostsByBroadcast()) {
      ASSERT_EQ(n, 1) << key << " POSTed " << n << " times after step " << step;
    }
  }
  // Every campaign ends with a file, so that the final state says what must be sent.
  for (ModelCampaign& c : campaigns) {
    if (c.file.empty()) {
      c.file = fresh_file();
      Publish(c);
    }
  }

  // Settle: every due broadcast of the final files is sent (or unknown after a
  // kill); every later one is queued.
  auto settled = [&] {
    std::map<std::string, std::string> state;
    for (const auto& j : AllJobs()) {
      state[j["campaign"].get<std::string>() + "/" + j["broadcast"].get<std::string>()] =
          j["state"].get<std::string>();
    }
    const auto posts = PostsByBroadcast();
    for (const auto& c : campaigns) {
      for (const auto& b : c.broadcasts) {
        const std::string key = c.id + "/" + b.name;
        const std::string s = state.count(key) ? state[key] : "missing";
        if (b.later) {
          // Queued unless an earlier, due version of it was already sent.
          if (s != "scheduled" && !posts.count(key)) return false;
        } else if (!posts.count(key) && s != "unknown") {
          return false;
        }
      }
    }
    return true;
  };
  const bool done = WaitFor(settled, 120s);
  std::string summary = "ops=" + std::to_string(ops) + " restarts=" + std::to_string(restarts) +
                        " kills=" + std::to_string(kills);
  for (const auto& [name, n] : op_counts) summary += " " + name + "=" + std::to_string(n);
  ASSERT_TRUE(done) << summary << "\n" << Status().dump(1) << "\n" << ReadFile(dir_ / "sim.jsonl");
  for (const auto& [key, n] : PostsByBroadcast()) EXPECT_EQ(n, 1) << key;
  int too_fast = 0;
  for (const auto& b : Broadcasts()) too_fast += b["status"] == 429 ? 1 : 0;
  EXPECT_EQ(too_fast, 0);
  std::cout << "[ figures  ] " << summary << " posts=" << Broadcasts().size() << "\n";
  daemon->Signal(SIGTERM);
  ASSERT_TRUE(daemon->Wait(30s).has_value());
}

}  // namespace
}  // namespace broadcastd
