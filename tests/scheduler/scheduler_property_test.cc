// Random workloads driven through the real engine as the daemon's loop drives it
// (engine_run.h), each judged by the independent checker in attempt_log_checker.cc.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "attempt_log_checker.h"
#include "engine_run.h"

namespace broadcastd {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;

constexpr uint64_t kWorkloads = 300;

std::string Describe(const std::vector<std::string>& violations) {
  std::string text;
  for (size_t i = 0; i < violations.size() && i < 5; ++i) text += "\n  " + violations[i];
  return text;
}

TEST(SchedulerPropertyTest, RandomWorkloadsKeepEveryGuarantee) {
  int64_t attempts = 0, restarts = 0, paused_runs = 0;
  Duration simulated{0};
  for (uint64_t seed = 1; seed <= kWorkloads; ++seed) {
    const Workload workload = RandomWorkload(seed);
    LoopOptions options;
    options.seed = seed;
    options.restart_chance = seed % 2 == 0 ? 0.05 : 0.0;
    const LoopResult run = RunEngine(workload, RandomServer(seed * 7919), options);
    ASSERT_FALSE(run.gave_up) << "seed " << seed << ": work left pending with no end in sight";
    ASSERT_TRUE(run.faults.empty()) << "seed " << seed << ":" << Describe(run.faults);
    const auto violations = CheckRun(run.record);
    ASSERT_TRUE(violations.empty()) << "seed " << seed << ":" << Describe(violations);
    attempts += static_cast<int64_t>(run.record.attempts.size());
    restarts += run.restarts;
    for (const LoggedAttempt& a : run.record.attempts) {
      if (a.result.outcome == OutcomeClass::kUnopened) {
        ++paused_runs;
        break;
      }
    }
    if (!run.record.attempts.empty()) simulated += run.record.attempts.back().at - workload.start;
  }
  std::printf(
      "%llu workloads, %lld attempts, %lld restarts, %lld with a paused endpoint, "
      "%.0f days of fake time\n",
      static_cast<unsigned long long>(kWorkloads), static_cast<long long>(attempts),
      static_cast<long long>(restarts), static_cast<long long>(paused_runs),
      static_cast<double>(simulated.count()) / 86'400'000.0);
}

// The checker must be able to fail: doctored logs of a correct run are caught.
TEST(SchedulerPropertyTest, CheckerCatchesDoctoredLogs) {
  int doctored = 0;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    const LoopResult run = RunEngine(RandomWorkload(seed), SuccessServer(), LoopOptions{});
    const RunRecord& good = run.record;
    ASSERT_TRUE(run.faults.empty()) << "seed " << seed << ":" << Describe(run.faults);
    ASSERT_TRUE(CheckRun(good).empty()) << "seed " << seed << ":" << Describe(CheckRun(good));
    if (good.attempts.size() < 2) continue;
    ++doctored;
    for (size_t i = 1; i < good.attempts.size(); ++i) {
      RunRecord early = good;  // one attempt a millisecond sooner
      early.attempts[i].at -= Duration{1};
      EXPECT_FALSE(CheckRun(early).empty()) << "seed " << seed << " attempt " << i << " early";
      RunRecord late = good;  // one a millisecond later: a wasted opening
      late.attempts[i].at += Duration{1};
      if (i + 1 == good.attempts.size() || late.attempts[i + 1].at >= late.attempts[i].at) {
        EXPECT_FALSE(CheckRun(late).empty()) << "seed " << seed << " attempt " << i << " late";
      }
    }
    RunRecord dropped = good;  // a job never sent
    dropped.attempts.pop_back();
    EXPECT_FALSE(CheckRun(dropped).empty()) << "seed " << seed << " dropped";
  }
  EXPECT_GT(doctored, 100);
}

TEST(SchedulerPropertyTest, CheckerCatchesAWrongChoice) {
  Workload w;
  w.start = FromMillis(1'803'859'200'000);
  const EndpointKey key{"a", BroadcastTarget::kOnlineUsers};
  w.limits[key] = DefaultLimits(key.target);
  w.jobs = {{1, key, 0, w.start, w.start, std::nullopt},
            {2, key, 5, w.start, w.start, std::nullopt}};
  RunRecord record = RunEngine(w, SuccessServer(), LoopOptions{}).record;
  ASSERT_TRUE(CheckRun(record).empty());
  ASSERT_EQ(record.attempts.size(), 2u);
  std::swap(record.attempts[0].job, record.attempts[1].job);
  EXPECT_FALSE(CheckRun(record).empty());
}

// The forecast, made at the start, is what then happens when every request succeeds.
TEST(SchedulerPropertyTest, ForecastEqualsWhatHappens) {
  int compared = 0;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    Workload w = RandomWorkload(seed);
    for (SubmittedJob& job : w.jobs) {
      job.arrival = w.start;  // all known when forecasting
      if (job.expires && *job.expires <= job.due) job.due = job.arrival;  // no send_at
    }
    // Some history before the start, so the forecast starts from spent windows and days.
    for (const auto& [key, limits] : w.limits) {
      if (seed % 3 == 0) w.history.push_back({w.start - minutes(20), 0, key, {}});
      if (seed % 5 == 0 && key.target == BroadcastTarget::kChatrooms) w.paused.insert(key);
    }
    const Duration horizon = seed % 4 == 0 ? days(1) : days(200);
    LoopOptions options;
    options.forecast_horizon = horizon;
    const LoopResult run = RunEngine(w, SuccessServer(), options);
    ASSERT_TRUE(run.faults.empty()) << "seed " << seed << ":" << Describe(run.faults);
    const auto& forecast = run.forecast;
    ASSERT_FALSE(run.gave_up);
    ASSERT_EQ(forecast.size(), w.jobs.size()) << "seed " << seed;
    for (const SubmittedJob& job : w.jobs) {
      const auto& entry = forecast.at(job.id);
      const auto sent = run.sent.find(job.id);
      const auto expired = run.record.expired.find(job.id);
      switch (entry.kind) {
        case Scheduler::ForecastEntry::kSend:
          ASSERT_NE(sent, run.sent.end()) << "seed " << seed << " job " << job.id;
          EXPECT_EQ(ToMillis(entry.at), ToMillis(sent->second))
              << "seed " << seed << " job " << job.id;
          break;
        case Scheduler::ForecastEntry::kExpires:
          ASSERT_NE(expired, run.record.expired.end()) << "seed " << seed << " job " << job.id;
          EXPECT_EQ(ToMillis(entry.at), ToMillis(*job.expires)) << "seed " << seed;
          EXPECT_EQ(ToMillis(std::max(entry.at, w.start)), ToMillis(expired->second))
              << "seed " << seed << " job " << job.id;
          break;
        case Scheduler::ForecastEntry::kBeyondHorizon: {
          EXPECT_EQ(entry.at, w.start + horizon);
          const bool later = (sent != run.sent.end() && sent->second > entry.at) ||
                             (expired != run.record.expired.end() && expired->second > entry.at);
          EXPECT_TRUE(later) << "seed " << seed << " job " << job.id;
          break;
        }
        case Scheduler::ForecastEntry::kPaused:
          EXPECT_TRUE(w.paused.contains(job.endpoint));
          EXPECT_EQ(sent, run.sent.end());
          if (expired != run.record.expired.end()) {
            EXPECT_GT(expired->second, w.start + horizon);
          }
          break;
        case Scheduler::ForecastEntry::kHeld:
          ADD_FAILURE() << "seed " << seed << " job " << job.id << ": no job here is held";
          break;
      }
      ++compared;
    }
  }
  std::printf("%d forecast entries compared\n", compared);
}

}  // namespace
}  // namespace broadcastd
