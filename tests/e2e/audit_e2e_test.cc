// --audit on the queue the real daemon fills by sending to the simulator, read while the
// daemon runs: every request it made, with the answers the simulator gave, and the
// operator's action, in time order.

#include <nlohmann/json.hpp>
#include <set>

#include "e2e/daemon_fixture.h"

namespace broadcastd {
namespace {

class AuditE2ETest : public DaemonE2ETest {
 protected:
  CommandResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), {kBinary, "--config", (dir_ / "broadcastd.yaml").string()});
    return RunCommand(args, dir_.path());
  }
};

TEST_F(AuditE2ETest, TheAuditOfARunningDaemonShowsEveryRequestAndAction) {
  // The first request is dropped after its body was sent: that job is unknown.
  dir_.Write("faults.json", R"({"next": ["drop"]})");
  dir_.Write("campaigns/mixed.yaml", R"(id: mixed
broadcasts:
  - {name: all, target: users, message: {type: txt, msg: everyone}}
  - {name: online, target: online_users, message: {type: txt, msg: "online, \"now\""}}
  - {name: room, target: chatrooms, message: {type: txt, msg: rooms}}
)");
  auto daemon = StartDaemon();
  ASSERT_TRUE(WaitFor(
      [&] {
        auto states = JobStates();
        return states["sent"] == 2 && states["unknown"] == 1;
      },
      30s))
      << ReadFile(dir_ / "daemon.log");
  CommandResult pause = Run({"--pause", "main/chatrooms", "--reason", "audit, \"check\""});
  ASSERT_EQ(pause.exit_code, 0) << pause.output;

  CommandResult audit = Run({"--audit"});
  ASSERT_EQ(audit.exit_code, 0) << audit.output;
  std::vector<nlohmann::json> lines;
  std::istringstream in(audit.output);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 4u) << audit.output;
  std::set<std::string> sent_ids, classes;
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(lines[i]["kind"], "attempt");
    EXPECT_EQ(lines[i]["campaign"], "mixed");
    classes.insert(lines[i]["class"].get<std::string>());
    if (lines[i]["class"] == "sent") sent_ids.insert(lines[i]["broadcast_id"].get<std::string>());
    if (i > 0) {
      EXPECT_GE(lines[i]["time"], lines[i - 1]["time"]);
    }
  }
  EXPECT_EQ(classes, (std::set<std::string>{"sent", "unknown"}));
  // The IDs the simulator answered, digit for digit.
  std::set<std::string> answered;
  for (const auto& b : Broadcasts()) {
    if (b["status"] == 200 && b.contains("id")) answered.insert(b["id"].get<std::string>());
  }
  EXPECT_EQ(sent_ids, answered);
  EXPECT_EQ(lines[3]["kind"], "operator_action");
  EXPECT_EQ(lines[3]["action"], "pause");
  EXPECT_EQ(lines[3]["endpoint"], "main/chatrooms");
  EXPECT_GE(lines[3]["time"], lines[2]["time"]);

  // The CSV of the same, read by Python's csv module.
  CommandResult csv = Run({"--audit", "--format", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.output;
  dir_.Write("audit.csv", csv.output);
  dir_.Write("check.py", R"PY(
import csv, sys
with open(sys.argv[1], newline='', encoding='utf-8') as f:
    rows = list(csv.DictReader(f, strict=True))
assert [r['kind'] for r in rows] == ['attempt'] * 3 + ['operator_action'], rows
assert rows[3]['detail'].endswith('audit, "check"'), rows[3]
)PY");
  CommandResult check =
      RunCommand({"/usr/bin/python3", (dir_ / "check.py").string(), (dir_ / "audit.csv").string()},
                 dir_.path());
  EXPECT_EQ(check.exit_code, 0) << check.output << csv.output;

  // The export only read: the daemon runs on.
  EXPECT_FALSE(daemon->Wait(std::chrono::milliseconds(0)).has_value());
  daemon->Signal(SIGTERM);
  ASSERT_EQ(daemon->Wait(20s), 0);
}

}  // namespace
}  // namespace broadcastd
