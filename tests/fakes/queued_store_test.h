#pragma once
// A fixture of a SQLite queue with campaigns written straight into the store (no files):
// for the tests of what reads the queue (the status report, --history).

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/time_format.h"
#include "fakes/temp_dir.h"
#include "fakes/test_config.h"
#include "store/store.h"

namespace broadcastd {

class QueuedStoreTest : public ::testing::Test {
 protected:
  static TimePoint T(const char* text) { return *ParseRfc3339(text); }

  void SetUp() override {
    std::filesystem::create_directories(dir_ / "campaigns");
    config_ = TestConfig(dir_.path());
    config_.safety_margin = Duration(0);
    auto store = Store::Open(config_.database, Store::Mode::kReadWrite);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    rw_.emplace(std::move(*store));
  }

  // A campaign file `file` (id = file) with `n` broadcasts on `target`, the i-th due at
  // now + offset + i minutes.
  void AddCampaign(const std::string& file, int n, BroadcastTarget target,
                   Duration offset = Duration(0)) {
    std::vector<Store::JobSpec> specs;
    for (int i = 0; i < n; ++i) {
      Store::JobSpec spec;
      spec.broadcast = "b" + std::to_string(i);
      spec.occurrence = "once";
      spec.app = "main";
      spec.target = target;
      spec.body = R"({"msg":"a body the status never reads"})";
      spec.due = now_ + offset + std::chrono::minutes(i);
      specs.push_back(spec);
    }
    Store::CampaignFile cf{file, file, "hash-" + file, "main", 0};
    ASSERT_TRUE(rw_->ApplyCampaign(cf, specs, now_, now_).has_value());
  }

  std::vector<int64_t> IdsOf(const std::string& campaign) {
    auto jobs = rw_->Jobs({.campaign_id = campaign});
    std::vector<int64_t> ids;
    for (const JobRow& j : *jobs) ids.push_back(j.id);
    return ids;
  }

  // Claims job `id` now and records an answer that leaves it `unknown` a second later.
  void MakeUnknown(int64_t id) {
    auto attempt = rw_->ClaimForSending(id, Instant(now_));
    ASSERT_TRUE(attempt.has_value()) << attempt.error().message;
    Store::AttemptOutcome outcome;
    outcome.outcome = OutcomeClass::kUnknown;
    outcome.detail = "timed out";
    ASSERT_TRUE(rw_->RecordOutcome(id, *attempt, outcome, Instant(now_ + std::chrono::seconds(1)))
                    .has_value());
  }

  TempDir dir_;
  Config config_;
  std::optional<Store> rw_;
  const TimePoint now_ = T("2027-03-01T08:00:00Z");
};

}  // namespace broadcastd
