// --audit run as an operator runs it: the real binary, its CSV read back by Python's csv
// module and its JSON lines by Python's json, and a reader that stops after one line.

#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/time_format.h"
#include "e2e/child_process.h"
#include "fakes/temp_dir.h"
#include "store/store.h"

namespace broadcastd {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string kBinary = std::string(BROADCASTD_BINARY_DIR) + "/broadcastd";

class AuditBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.Write("broadcastd.yaml", "database: " + Db().string() +
                                      "\ncampaigns_dir: " + (dir_ / "campaigns").string() +
                                      "\napps:\n  main:\n    host: http://127.0.0.1:9\n"
                                      "    org: org\n    app: app\n    client_id: cid\n"
                                      "    token_file: main.token\n");
    fs::create_directories(dir_ / "campaigns");
    auto store = Store::Open(Db(), Store::Mode::kReadWrite);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    const TimePoint t0 = *ParseRfc3339("2027-03-01T08:00:00Z");
    Store::JobSpec spec;
    spec.broadcast = "hello";
    spec.occurrence = "once";
    spec.app = "main";
    spec.body = "{}";
    spec.due = t0;
    ASSERT_TRUE(store->ApplyCampaign({"c.yaml", "c", "h", "main", 0}, {spec}, t0, t0));
    ASSERT_TRUE(store->PromoteDue(t0).has_value());
    job_ = store->Jobs().value().at(0).id;
    auto attempt = store->ClaimForSending(job_, Instant(t0));
    ASSERT_TRUE(attempt.has_value()) << attempt.error().message;
    Store::AttemptOutcome answer;
    answer.outcome = OutcomeClass::kUnknown;
    answer.http_status = 502;
    answer.vendor_error = "bad \"gateway\", upstream";
    answer.error_description = "first line\r\nsecond line \xF0\x9F\x93\xA3 \xC0\xAF done";
    ASSERT_TRUE(store->RecordOutcome(job_, *attempt, answer, Instant(t0 + 1s)));
    ASSERT_TRUE(store->ResolveNotSent(job_, t0 + 1min).has_value());
  }

  // `n` more attempts of the job, a millisecond apart after the first ones.
  void AddAttempts(int n) {
    SQLite::Database db(Db(), SQLite::OPEN_READWRITE);
    db.exec("WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < " +
            std::to_string(n) +
            ") INSERT INTO attempts (job_id, app, target, started_at, outcome, http_status, "
            "broadcast_id) SELECT " +
            std::to_string(job_) + ", 'main', 'users', " +
            std::to_string(ToMillis(*ParseRfc3339("2027-03-01T09:00:00Z"))) +
            " + g, 'sent', 200, CAST(1000000000 + g AS TEXT) FROM s");
  }

  fs::path Db() const { return dir_ / "state/queue.db"; }

  // Runs `script` under bash in the test's folder, with $BROADCASTD and $CONFIG set; its
  // exit code.
  int Bash(const std::string& script) {
    return RunCommand({"/bin/bash", "-c", "cd \"$WORK\" && " + script}, dir_.path(),
                      {"BROADCASTD=" + kBinary, "CONFIG=" + (dir_ / "broadcastd.yaml").string(),
                       "WORK=" + dir_.path().string()})
        .exit_code;
  }

  TempDir dir_;
  int64_t job_ = 0;
};

TEST_F(AuditBinaryTest, PythonReadsBackTheCsvAndTheJsonLinesByteForByte) {
  const fs::path csv = dir_ / "audit.csv", jsonl = dir_ / "audit.jsonl";
  ASSERT_EQ(Bash("\"$BROADCASTD\" -c \"$CONFIG\" --audit --format csv > " + csv.string()), 0);
  ASSERT_EQ(Bash("\"$BROADCASTD\" -c \"$CONFIG\" --audit > " + jsonl.string()), 0);
  // Python's readers, strict UTF-8: each must see the same two entries, the awkward error
  // whole (its byte that is not UTF-8, 0xC0 0xAF, replaced), the action after it.
  const std::string check = R"PY(
import csv, json, sys
with open(sys.argv[1], newline='', encoding='utf-8', errors='strict') as f:
    rows = list(csv.DictReader(f, strict=True))
with open(sys.argv[2], encoding='utf-8', errors='strict') as f:
    lines = [json.loads(line) for line in f]
assert len(rows) == 2 and len(lines) == 2, (rows, lines)
error = 'bad "gateway", upstream: first line\r\nsecond line \U0001F4E3 \ufffd\ufffd done'
assert rows[0]['error'] == error, repr(rows[0]['error'])
assert lines[0]['error'] == error, repr(lines[0]['error'])
assert rows[0]['class'] == lines[0]['class'] == 'unknown'
assert rows[0]['http_status'] == '502' and lines[0]['http_status'] == 502
assert rows[1]['action'] == lines[1]['action'] == 'resolve_not_sent'
assert rows[1]['kind'] == lines[1]['kind'] == 'operator_action'
for row, line in zip(rows, lines):
    for key, value in row.items():
        want = line[key]
        assert value == ('' if want is None else str(want)), (key, value, want)
)PY";
  dir_.Write("check.py", check);
  EXPECT_EQ(Bash("python3 check.py " + csv.string() + " " + jsonl.string() + " 2> py.err"), 0)
      << ReadFile(dir_ / "py.err");
}

TEST_F(AuditBinaryTest, AReaderThatStopsEarlyEndsTheExportQuietly) {
  AddAttempts(50'000);  // megabytes: far more than the pipe holds
  for (const char* format : {"jsonl", "csv"}) {
    ASSERT_EQ(Bash(std::string("\"$BROADCASTD\" -c \"$CONFIG\" --audit --format ") + format +
                   " 2> err | head -1 > first; echo \"${PIPESTATUS[0]}\" > status"),
              0);
    EXPECT_EQ(ReadFile(dir_ / "status"), "0\n") << format;
    EXPECT_EQ(ReadFile(dir_ / "err"), "") << format;
    const std::string first = ReadFile(dir_ / "first");
    EXPECT_TRUE(first.starts_with(std::string(format) == "csv" ? "kind,time," : "{\"kind\":"))
        << first;
  }
}

}  // namespace
}  // namespace broadcastd
