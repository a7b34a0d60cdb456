#pragma once
// The fixture of the end-to-end tests: a temporary folder with credentials, a
// campaigns folder and a config, the real simulator on loopback, and helpers to
// start the real broadcastd binary, read the simulator's request log and
// --status --json. Tests run on the real clock: they wait for events (bounded).

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "e2e/child_process.h"
#include "fakes/temp_dir.h"

namespace broadcastd {

using namespace std::chrono_literals;

inline const std::string kBinary = std::string(BROADCASTD_BINARY_DIR) + "/broadcastd";
inline const std::string kSimulator =
    std::string(BROADCASTD_BINARY_DIR) + "/tools/easemob-sim/easemob-sim";
inline constexpr const char* kSecret = "s3cr3t-never-printed";

class DaemonE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.Write("credentials/main.secret", std::string(kSecret) + "\n");
    std::filesystem::create_directories(dir_ / "campaigns");
    dir_.Write("faults.json", "{\"next\": []}");
    StartSimulator();
  }

  // `extra_args` go to the simulator (e.g. "--window", "chatrooms=1/2"); `extra_config`
  // is appended to broadcastd.yaml (e.g. a limits: section).
  void StartSimulator(const std::vector<std::string>& extra_args = {},
                      const std::string& extra_config = "") {
    std::filesystem::remove(dir_ / "sim.port");
    std::vector<std::string> args{kSimulator,
                                  "--port",
                                  "0",
                                  "--port-file",
                                  (dir_ / "sim.port").string(),
                                  "--org",
                                  "org",
                                  "--app",
                                  "app",
                                  "--client-id",
                                  "cid",
                                  "--client-secret-file",
                                  (dir_ / "credentials/main.secret").string(),
                                  "--log",
                                  (dir_ / "sim.jsonl").string(),
                                  "--fault-file",
                                  (dir_ / "faults.json").string()};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    sim_.reset();
    sim_.emplace(args, dir_ / "sim.log");
    ASSERT_TRUE(sim_->started());
    ASSERT_TRUE(WaitFor([&] { return !ReadFile(dir_ / "sim.port").empty(); }, 10s))
        << ReadFile(dir_ / "sim.log");
    std::string port = ReadFile(dir_ / "sim.port");
    while (!port.empty() && (port.back() == '\n' || port.back() == ' ')) port.pop_back();
    // A margin wider than the default unless the test sets its own: these tests assert
    // that no window is ever exceeded (no 429) on a machine busy with parallel and
    // sanitizer builds, where a thread may be scheduled late. The default is measured in
    // docs/BENCHMARKS.md.
    const std::string margin = extra_config.find("safety_margin_ms:") == std::string::npos
                                   ? "safety_margin_ms: 500\n"
                                   : "";
    // Tests start on a new database with files already in the folder, and mean them sent
    // unless the test says otherwise.
    const std::string new_queue =
        extra_config.find("on_new_queue:") == std::string::npos ? "on_new_queue: send\n" : "";
    dir_.Write("broadcastd.yaml", "database: " + (dir_ / "state/queue.db").string() +
                                      "\ncampaigns_dir: " + (dir_ / "campaigns").string() + "\n" +
                                      margin + new_queue +
                                      "apps:\n  main:\n    host: http://127.0.0.1:" + port +
                                      "\n    org: org\n    app: app\n    client_id: cid\n"
                                      "    client_secret_file: main.secret\n" +
                                      extra_config);
  }

  std::unique_ptr<ChildProcess> StartDaemon(const std::string& log = "daemon.log") {
    return StartDaemonWith(log, {}, {});
  }

  // The daemon with more environment (e.g. LD_PRELOAD) and run through `prefix` (e.g.
  // setpriv); the log gets "daemon.ready" once it serves.
  std::unique_ptr<ChildProcess> StartDaemonWith(const std::string& log,
                                                const std::vector<std::string>& extra_env,
                                                const std::vector<std::string>& prefix) {
    std::vector<std::string> argv = prefix;
    for (const std::string& a :
         {kBinary, std::string("--config"), (dir_ / "broadcastd.yaml").string()}) {
      argv.push_back(a);
    }
    std::vector<std::string> env{"CREDENTIALS_DIRECTORY=" + (dir_ / "credentials").string()};
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    auto p = std::make_unique<ChildProcess>(argv, dir_ / log, env);
    EXPECT_TRUE(p->started());
    return p;
  }

  // The simulator has taken every fault of its file (the request that took the last
  // one has arrived and is being held).
  bool FaultsTaken() {
    auto j = nlohmann::json::parse(ReadFile(dir_ / "faults.json"), nullptr, false);
    return !j.is_discarded() && j.contains("next") && j["next"].empty();
  }

  bool LogHas(const std::string& log, const std::string& text) {
    return ReadFile(dir_ / log).find(text) != std::string::npos;
  }

  // Broadcast requests the simulator received (token requests left out).
  std::vector<nlohmann::json> Broadcasts() {
    std::vector<nlohmann::json> lines;
    std::istringstream in(ReadFile(dir_ / "sim.jsonl"));
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded() && !j["path"].get<std::string>().ends_with("/token")) {
        lines.push_back(j);
      }
    }
    return lines;
  }

  // --status --json; an empty object while the daemon has not created the database yet.
  // `--status --json` with `extra` flags (a filter of the job listing).
  nlohmann::json Status(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {kBinary, "--status", "--json", "--config",
                                     (dir_ / "broadcastd.yaml").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = RunCommand(args, dir_.path());
    if (r.exit_code != 0) return nlohmann::json::object();
    auto j = nlohmann::json::parse(r.output, nullptr, false);
    return j.is_discarded() ? nlohmann::json::object() : j;
  }

  // Every job in the database, whatever its state (--status lists one page of one
  // listing at a time: ask for each state in turn, with room for all).
  nlohmann::json AllJobs() {
    nlohmann::json jobs = nlohmann::json::array();
    for (const char* state :
         {"scheduled", "ready", "sending", "sent", "failed", "unknown", "expired", "cancelled"}) {
      const nlohmann::json page = Status({"--state", state, "--limit", "1000000"});
      for (const auto& job : page.value("jobs", nlohmann::json::array())) jobs.push_back(job);
    }
    return jobs;
  }

  std::map<std::string, int> JobStates() {
    std::map<std::string, int> n;
    const nlohmann::json status = Status();
    if (!status.contains("jobs_by_state")) return n;
    const nlohmann::json& counts = status["jobs_by_state"];
    for (auto it = counts.begin(); it != counts.end(); ++it) n[it.key()] = it.value().get<int>();
    return n;
  }

  TempDir dir_;
  std::optional<ChildProcess> sim_;
};

}  // namespace broadcastd
