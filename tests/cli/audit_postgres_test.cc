// --audit on PostgreSQL: the command on a config whose database is a PostgreSQL URI, an
// audit larger than a cursor batch in time order, the filters, both formats parsed back.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "cli/csv_reader.h"
#include "core/time_format.h"
#include "fakes/fake_clock.h"
#include "fakes/temp_dir.h"
#include "store/pg_test_db.h"
#include "store/store.h"

namespace broadcastd {
namespace {

using namespace std::chrono_literals;

class AuditPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::OpenPostgres(pg_.uri(), Store::Mode::kReadWrite);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    Store::JobSpec spec;
    spec.occurrence = "once";
    spec.app = "main";
    spec.body = "{}";
    spec.due = t0_;
    for (const char* campaign : {"a", "b"}) {
      spec.broadcast = std::string("in-") + campaign;
      ASSERT_TRUE(store->ApplyCampaign(
          {std::string(campaign) + ".yaml", campaign, campaign, "main", 0}, {spec}, t0_, t0_));
    }
    ASSERT_TRUE(store->Pause("main", BroadcastTarget::kUsers, "quiet, \"please\"", t0_ + 5s));
    ASSERT_TRUE(store->CancelCampaign("b", t0_ + 10s).has_value());
    // Attempts written straight in (a sender needs the lease): 5,000 of campaign a's job,
    // their times running backwards against their ids, two to a millisecond.
    pg_.Connect()->Exec(
        "INSERT INTO attempts (job_id, app, target, started_at, outcome, http_status, "
        "broadcast_id, vendor_error) SELECT j.id, 'main', 'users', " +
        std::to_string(ToMillis(t0_)) +
        " + (5000 - g) / 2, 'sent', 200, (1000 + g)::text, CASE WHEN g = 1 THEN 'a, \"b\"' "
        "ELSE '' END FROM generate_series(1, 5000) g, jobs j WHERE j.campaign_id = 'a'");
    dir_.Write("broadcastd.yaml", "database: " + pg_.uri() +
                                      "\ncampaigns_dir: " + (dir_ / "campaigns").string() +
                                      "\napps:\n  main:\n    host: http://127.0.0.1:9\n"
                                      "    org: org\n    app: app\n    client_id: cid\n"
                                      "    token_file: main.token\n");
  }

  int Audit(AuditOptions options) {
    out_.str("");
    err_.str("");
    CommandContext ctx{dir_ / "broadcastd.yaml", clock_, out_, err_};
    return RunAudit(ctx, options);
  }

  std::vector<nlohmann::json> Lines() {
    std::vector<nlohmann::json> lines;
    std::istringstream in(out_.str());
    for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
    return lines;
  }

  PgTestDb pg_;
  TempDir dir_;
  const TimePoint t0_ = *ParseRfc3339("2027-03-01T08:00:00Z");
  FakeClock clock_{t0_ + 1h};
  std::ostringstream out_, err_;
};

TEST_F(AuditPostgresTest, EveryEntryInTimeOrderInBothFormats) {
  ASSERT_EQ(Audit({}), 0) << err_.str();
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 5002u);
  std::string last_time;
  int64_t last_id = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string time = lines[i]["time"];
    const int64_t id = lines[i]["id"];
    if (lines[i]["kind"] == "attempt") {
      EXPECT_TRUE(time > last_time || (time == last_time && id > last_id)) << "line " << i;
      last_id = id;
    }
    EXPECT_GE(time, last_time) << "line " << i;
    last_time = time;
  }
  // The pause at +5 s comes after the attempts of that millisecond; the cancel at +10 s
  // is last (the attempts end at +2.5 s).
  EXPECT_EQ(lines[5000]["action"], "pause");
  EXPECT_EQ(lines[5000]["endpoint"], "main/users");
  EXPECT_EQ(lines[5001]["action"], "cancel_campaign");
  EXPECT_EQ(lines[5001]["campaign"], "b");
  // The first attempt inserted shares the last millisecond with the second: before it.
  EXPECT_EQ(lines[4998]["error"], "a, \"b\"");
  EXPECT_TRUE(lines[4999]["error"].is_null());

  ASSERT_EQ(Audit({.format = "csv"}), 0) << err_.str();
  auto records = ParseCsv(out_.str());
  ASSERT_EQ(records.size(), 5003u);
  const auto& header = records[0];
  for (size_t r = 0; r < lines.size(); ++r) {
    ASSERT_EQ(records[r + 1].size(), header.size());
    for (size_t f = 0; f < header.size(); ++f) {
      const nlohmann::json& value = lines[r][header[f]];
      const std::string expected = value.is_null()     ? ""
                                   : value.is_string() ? value.get<std::string>()
                                                       : value.dump();
      ASSERT_EQ(records[r + 1][f], expected) << "record " << r << " field " << header[f];
    }
  }
}

TEST_F(AuditPostgresTest, FiltersSelectOnTheServer) {
  ASSERT_EQ(Audit({.since = "2027-03-01T08:00:02Z", .until = "2027-03-01T08:00:06Z"}), 0)
      << err_.str();
  auto lines = Lines();
  // +2.000 s to +2.499 s: two attempts a millisecond (the last one alone), then the pause.
  ASSERT_EQ(lines.size(), 1000u + 1u);
  EXPECT_EQ(lines.front()["time"], "2027-03-01T08:00:02.000Z");
  EXPECT_EQ(lines.back()["action"], "pause");
  ASSERT_EQ(Audit({.campaign = "b"}), 0) << err_.str();
  lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["action"], "cancel_campaign");
  ASSERT_EQ(Audit({.app = "main", .format = "csv"}), 0) << err_.str();
  EXPECT_EQ(ParseCsv(out_.str()).size(), 1u + 5000u + 1u);  // header, attempts, pause
}

}  // namespace
}  // namespace broadcastd
