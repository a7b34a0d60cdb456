// The scheduler kept in line with the store through the job change log: an incremental
// refresh must leave exactly the scheduler a rebuild from scratch would build, whoever
// wrote (ingestion, operator commands in another connection, the daemon's own claims).

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "engine_fixture.h"
#include "rebuild/scheduler_state.h"

namespace broadcastd {
namespace {

using namespace std::chrono_literals;

constexpr const char* kThree = R"(id: c
broadcasts:
  - {name: a, target: users, message: {type: txt, msg: one}}
  - {name: b, target: users, message: {type: txt, msg: two}}
  - {name: c, target: chatrooms, message: {type: txt, msg: three}}
)";

TEST_F(EngineTest, OperatorActionInAnotherProcessIsRefreshedNotReloaded) {
  Campaign("c.yaml", kThree);
  auto engine = Start();
  auto jobs = engine->store().Jobs().value();
  ASSERT_EQ(jobs.size(), 3u);
  ASSERT_EQ(engine->scheduler().size(), 3u);
  const int64_t loads = engine->full_queue_loads();
  const int64_t position = engine->queue_position().job_change;

  auto other = Store::Open(config_.database, Store::Mode::kReadWriteExisting);
  ASSERT_TRUE(other.has_value());
  ASSERT_TRUE(other->CancelJob(jobs[0].id, clock_.Now()));
  ASSERT_TRUE(other->Pause("main", BroadcastTarget::kChatrooms, "by hand", clock_.Now()));
  ASSERT_TRUE(engine->ReloadQueue());

  EXPECT_EQ(engine->full_queue_loads(), loads);
  EXPECT_EQ(engine->queue_position().job_change, position + 1);
  EXPECT_EQ(engine->scheduler().Find(jobs[0].id), std::nullopt);
  EXPECT_NE(engine->scheduler().Find(jobs[1].id), std::nullopt);
  EXPECT_EQ(engine->scheduler().size(), 2u);
  EXPECT_TRUE(engine->scheduler().IsPaused({"main", BroadcastTarget::kChatrooms}));
  // What the refresh consumed is pruned.
  EXPECT_EQ(engine->store().CountJobChangesSince(0).value(), 0);

  // The data version tells the rescan that another process wrote: also incremental.
  ASSERT_TRUE(other->Resume("main", BroadcastTarget::kChatrooms, clock_.Now()));
  ASSERT_TRUE(engine->Rescan());
  EXPECT_FALSE(engine->scheduler().IsPaused({"main", BroadcastTarget::kChatrooms}));
  EXPECT_EQ(engine->full_queue_loads(), loads);
}

TEST_F(EngineTest, RefreshNeverQueuesAJobInFlightAgain) {
  Campaign("c.yaml", kThree);
  auto engine = Start();
  auto jobs = engine->store().Jobs().value();
  std::optional<PendingSend> send = Claim(*engine);
  ASSERT_TRUE(send.has_value());
  auto other = Store::Open(config_.database, Store::Mode::kReadWriteExisting);
  ASSERT_TRUE(other.has_value());
  ASSERT_TRUE(other->CancelJob(jobs[2].id, clock_.Now()));
  ASSERT_TRUE(engine->ReloadQueue());
  // The claim is logged too; the job is `sending`, so the refresh keeps it out.
  EXPECT_EQ(engine->scheduler().Find(send->job.id), std::nullopt);
  EXPECT_EQ(engine->scheduler().size(), 1u);

  transport_.PushHttp(200, Ok("7"));
  ASSERT_TRUE(engine->Complete(*send, Engine::Perform(*send)));
  ASSERT_TRUE(engine->ReloadQueue());
  EXPECT_EQ(Job(*engine, send->job.id).state, JobState::kSent);
  EXPECT_EQ(engine->scheduler().Find(send->job.id), std::nullopt);
  EXPECT_EQ(engine->scheduler().size(), 1u);
}

// ---------------------------------------------------------------- the property

const TimePoint kStart = T("2027-03-01T00:00:00Z");
const MonoTime kMonoStart = MonoTime(std::chrono::hours(1000));

Instant At(TimePoint t) { return Instant(t, kMonoStart + (t - kStart)); }

Store::JobSpec RandomSpec(std::mt19937& rng, const std::string& name, TimePoint now) {
  std::uniform_int_distribution<int> pick(0, 99);
  Store::JobSpec spec;
  spec.broadcast = name;
  spec.occurrence = "once";
  spec.app = pick(rng) < 80 ? "main" : "gone";  // an app not in the config too
  spec.target = kAllTargets[pick(rng) % kAllTargets.size()];
  spec.priority = pick(rng) % 3;
  spec.body = R"({"msg":")" + name + R"("})";
  spec.due = now + std::chrono::minutes(pick(rng) - 30);
  if (pick(rng) < 30) spec.expires = spec.due + std::chrono::minutes(1 + pick(rng));
  return spec;
}

void ExpectSame(const Scheduler& refreshed, const Scheduler& rebuilt, const Instant& now,
                int step) {
  SCOPED_TRACE("step " + std::to_string(step));
  ASSERT_EQ(refreshed.JobIds(), rebuilt.JobIds());
  for (int64_t id : rebuilt.JobIds()) {
    const QueuedJob a = *refreshed.Find(id);
    const QueuedJob b = *rebuilt.Find(id);
    EXPECT_EQ(a.endpoint, b.endpoint) << id;
    EXPECT_EQ(a.priority, b.priority) << id;
    EXPECT_EQ(a.due, b.due) << id;
    EXPECT_EQ(a.expires, b.expires) << id;
    EXPECT_EQ(a.not_before, b.not_before) << id;
  }
  for (const char* app : {"main", "gone"}) {
    for (BroadcastTarget t : kAllTargets) {
      EXPECT_EQ(refreshed.IsPaused({app, t}), rebuilt.IsPaused({app, t}));
    }
  }
  // The same decisions from here on, an hour ahead.
  for (Duration ahead : {0min, 1min, 10min, 60min}) {
    const Decision x = refreshed.Decide(At(now.wall + ahead));
    const Decision y = rebuilt.Decide(At(now.wall + ahead));
    EXPECT_EQ(x.send, y.send);
    EXPECT_EQ(x.expire, y.expire);
    EXPECT_EQ(x.next, y.next);
  }
  refreshed.Decide(now);
  rebuilt.Decide(now);
}

TEST(QueueRefreshProperty, IncrementalRefreshEqualsRebuildFromScratch) {
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> pick(0, 999);
    TempDir dir;
    const Config config = TestConfig(dir.path());
    auto daemon = Store::Open(config.database, Store::Mode::kReadWrite);
    ASSERT_TRUE(daemon.has_value());
    auto operator_store = Store::Open(config.database, Store::Mode::kReadWriteExisting);
    ASSERT_TRUE(operator_store.has_value());

    TimePoint now = kStart;
    std::map<std::string, std::vector<Store::JobSpec>> campaigns;  // by campaign id
    int names = 0;
    auto apply = [&](const std::string& id) {
      ASSERT_TRUE(daemon->ApplyCampaign(
          Store::CampaignFile{id + ".yaml", id, "h" + std::to_string(names), "main", 0},
          campaigns[id], now, now));
    };

    QueuePosition position;
    auto loaded = LoadSchedulerState(config, *daemon, At(now), "boot", &position);
    ASSERT_TRUE(loaded.has_value());
    Scheduler refreshed = std::move(*loaded);
    std::vector<std::pair<int64_t, int64_t>> in_flight;  // job, attempt

    for (int step = 0; step < 120; ++step) {
      now += std::chrono::seconds(pick(rng) % 90);
      const int action = pick(rng) % 10;
      auto queued = daemon->Jobs().value();
      std::vector<int64_t> ids;
      for (const JobRow& row : queued) {
        if (IsQueued(row.state)) ids.push_back(row.id);
      }
      const int64_t any = ids.empty() ? 0 : ids[pick(rng) % ids.size()];
      // The daemon claims only jobs that are due (a clock step back, which makes a ready
      // job's due lie ahead, rebuilds instead of refreshing).
      std::vector<int64_t> due_ids;
      for (const JobRow& row : queued) {
        if (IsQueued(row.state) && row.due <= now) due_ids.push_back(row.id);
      }
      const int64_t due = due_ids.empty() ? 0 : due_ids[pick(rng) % due_ids.size()];
      if (action <= 2 || ids.empty()) {  // a file adds, drops or changes jobs
        const std::string id = "c" + std::to_string(pick(rng) % 3);
        auto& specs = campaigns[id];
        ++names;
        if (specs.empty() || pick(rng) < 600) {
          specs.push_back(RandomSpec(rng, "b" + std::to_string(names), now));
        } else if (pick(rng) < 500) {
          specs.erase(specs.begin() + pick(rng) % specs.size());
        } else {
          auto& spec = specs[pick(rng) % specs.size()];
          spec.due = now + std::chrono::minutes(pick(rng) % 60 - 20);
          spec.priority = pick(rng) % 3;
        }
        apply(id);
      } else if (action == 3) {
        (void)operator_store->CancelJob(any, now);
      } else if (action == 4) {
        const BroadcastTarget t = kAllTargets[pick(rng) % kAllTargets.size()];
        if (pick(rng) < 500) {
          (void)operator_store->Pause("main", t, "by hand", now);
        } else {
          (void)operator_store->Resume("main", t, now);
        }
      } else if (action == 5 || action == 6) {  // the daemon claims; the answer comes later
        auto attempt = daemon->ClaimForSending(due, At(now));
        if (attempt) {
          refreshed.Begin(due, At(now));
          in_flight.emplace_back(due, *attempt);
        }
      } else if (action == 7 && !in_flight.empty()) {  // an answer: sent, retry or lost
        const auto [job_id, attempt] = in_flight.back();
        in_flight.pop_back();
        const QueuedJob job = ToQueuedJob(daemon->Job(job_id).value().value());
        const int kind = pick(rng) % 3;
        Store::AttemptOutcome outcome;
        AttemptResult result{OutcomeClass::kSent, 200, std::nullopt};
        if (kind == 1) {
          outcome.outcome = OutcomeClass::kRetry;
          outcome.http_status = 429;
          result = {OutcomeClass::kRetry, 429, std::nullopt};
        } else if (kind == 2) {
          outcome.outcome = OutcomeClass::kUnknown;
          result = {OutcomeClass::kUnknown, std::nullopt, std::nullopt};
        } else {
          outcome.http_status = 200;
          outcome.broadcast_id = std::to_string(job_id);
        }
        // A retry may go at once as far as the job is concerned (the limiter holds the
        // endpoint). A not_before ahead of now is clamped by the limiter at the time the
        // job is read, so a refresh and a later rebuild may clamp it differently when
        // the endpoint made attempts in between; the daemon rebuilds at start-up only.
        if (kind == 1) outcome.retry_not_before = now;
        ASSERT_TRUE(daemon->RecordOutcome(job_id, attempt, outcome, At(now)));
        refreshed.Finish(job, At(now), result);
      } else if (action == 8) {  // the operator resolves an unknown job: queued again
        for (const JobRow& row : queued) {
          if (row.state == JobState::kUnknown) {
            ASSERT_TRUE(operator_store->ResolveNotSent(row.id, now));
            break;
          }
        }
      } else {
        (void)daemon->ExpireJob(any, now);
        (void)daemon->PromoteDue(now);
      }

      if (pick(rng) < 700) {
        auto refresh = RefreshSchedulerState(config, *daemon, refreshed, At(now), "boot", position);
        ASSERT_TRUE(refresh.has_value()) << refresh.error().message;
        if (pick(rng) < 500) {
          ASSERT_TRUE(daemon->PruneJobChanges(position.job_change, 5));
        }
        auto rebuilt = LoadSchedulerState(config, *daemon, At(now), "boot");
        ASSERT_TRUE(rebuilt.has_value());
        ExpectSame(refreshed, *rebuilt, At(now), step);
        if (::testing::Test::HasFailure()) return;
      }
    }
  }
}

}  // namespace
}  // namespace broadcastd
