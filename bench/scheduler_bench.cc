// Decide, and the Begin + Finish + Upsert cycle, with 1k, 100k and 1M queued jobs over
// nine endpoints (three apps, all targets). Each should grow no faster than log n.
//
//   cmake -S . -B build-rel -G Ninja -DCMAKE_BUILD_TYPE=Release -DBROADCASTD_TESTS=OFF
//   cmake --build build-rel --target scheduler_bench && build-rel/bench/scheduler_bench

#include <benchmark/benchmark.h>

#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include "scheduler/scheduler.h"

namespace broadcastd {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::seconds;

const TimePoint kStart = FromMillis(1'803'859'200'000);

struct Fixture {
  std::unique_ptr<Scheduler> scheduler;
  std::vector<EndpointKey> endpoints;
  std::mt19937_64 rng{42};
  int64_t oldest = 1;   // the lowest id still queued (the cycle sends in id order)
  int64_t next_id = 1;  // the next id to give out
  TimePoint now = kStart;

  QueuedJob NewJob() {
    QueuedJob job;
    job.id = next_id++;
    job.endpoint = endpoints[rng() % endpoints.size()];
    job.priority = static_cast<int64_t>(rng() % 8);
    // Half already due (a backlog), half due within the next day.
    job.due = now + Duration{static_cast<int64_t>(rng() % 172'800'000) - 86'400'000};
    if (rng() % 2 == 0) job.expires = job.due + days(30);
    return job;
  }

  // What the daemon does per request: Begin and Finish a job that succeeded, and
  // take in a new one so the queue keeps its size.
  void SendAndRefill(int64_t id) {
    const AttemptResult ok{OutcomeClass::kSent, 200, std::nullopt};
    const QueuedJob job = *scheduler->Find(id);
    scheduler->Begin(id, Instant(now));
    scheduler->Finish(job, Instant(now), ok);
    scheduler->Upsert(NewJob());
  }
};

// Built once per size: a million-job queue takes a while to fill.
Fixture& FixtureOf(size_t n) {
  static std::map<size_t, std::unique_ptr<Fixture>> fixtures;
  auto& f = fixtures[n];
  if (!f) {
    f = std::make_unique<Fixture>();
    f->scheduler = std::make_unique<Scheduler>(LimiterOptions{});
    for (int app = 0; app < 3; ++app) {
      for (BroadcastTarget target : kAllTargets) {
        f->endpoints.push_back({"app" + std::to_string(app), target});
      }
    }
    for (size_t i = 0; i < n; ++i) f->scheduler->Upsert(f->NewJob());
    f->scheduler->Decide(Instant(f->now));
  }
  return *f;
}

void BM_Decide(benchmark::State& state) {
  Fixture& f = FixtureOf(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    Decision d = f.scheduler->Decide(Instant(f.now));
    benchmark::DoNotOptimize(d);
  }
  state.SetComplexityN(state.range(0));
}

// What the daemon does per request: Begin, Finish, and a new job taken in.
void BM_BeginFinishUpsert(benchmark::State& state) {
  Fixture& f = FixtureOf(static_cast<size_t>(state.range(0)));
  for (auto _ : state) f.SendAndRefill(f.oldest++);
  state.SetComplexityN(state.range(0));
}

// The same on the job just taken in: the tree paths stay in cache, so what remains is
// the algorithm's own growth, without the memory latency of a random job in a 1M queue.
void BM_BeginFinishUpsertRecent(benchmark::State& state) {
  Fixture& f = FixtureOf(static_cast<size_t>(state.range(0)));
  f.scheduler->Upsert(f.NewJob());
  for (auto _ : state) f.SendAndRefill(f.next_id - 1);
  state.SetComplexityN(state.range(0));
}

// A full turn of the daemon's loop a second later each time: Decide, send what it says,
// take in as many new jobs, so the queue keeps its size.
void BM_DaemonTurn(benchmark::State& state) {
  Fixture& f = FixtureOf(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    f.now += seconds(1);
    const Decision d = f.scheduler->Decide(Instant(f.now));
    for (int64_t id : d.send) f.SendAndRefill(id);
  }
  state.SetComplexityN(state.range(0));
}

// The yardstick: one erase and one insert in a plain std::set of n keys, at random
// places. A balanced tree's operation is O(log n) in comparisons; its time in a large
// tree grows faster because each level is a cache miss. The scheduler's cycle should
// stay a constant multiple of this at every size.
void BM_StdSetEraseInsert(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  std::mt19937_64 rng{7};
  std::set<std::pair<int64_t, int64_t>> set;
  std::vector<std::pair<int64_t, int64_t>> keys;
  for (size_t i = 0; i < n; ++i)
    keys.push_back({static_cast<int64_t>(rng()), static_cast<int64_t>(i)});
  set.insert(keys.begin(), keys.end());
  size_t next = 0;
  for (auto _ : state) {
    set.erase(keys[next]);
    keys[next].first = static_cast<int64_t>(rng());
    set.insert(keys[next]);
    next = (next + 1) % n;
  }
  state.SetComplexityN(state.range(0));
}

BENCHMARK(BM_StdSetEraseInsert)
    ->Arg(1'000)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Complexity(benchmark::oLogN);
BENCHMARK(BM_Decide)->Arg(1'000)->Arg(100'000)->Arg(1'000'000)->Complexity(benchmark::oLogN);
BENCHMARK(BM_BeginFinishUpsert)
    ->Arg(1'000)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Complexity(benchmark::oLogN);
BENCHMARK(BM_BeginFinishUpsertRecent)
    ->Arg(1'000)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Complexity(benchmark::oLogN);
BENCHMARK(BM_DaemonTurn)->Arg(1'000)->Arg(100'000)->Arg(1'000'000)->Complexity(benchmark::oLogN);

}  // namespace
}  // namespace broadcastd

BENCHMARK_MAIN();
