#include "daemon_loop.h"

#include <algorithm>
#include <memory>
#include <set>

namespace broadcastd {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

Duration Uniform(std::mt19937_64& rng, Duration lo, Duration hi) {
  return Duration{std::uniform_int_distribution<int64_t>(lo.count(), hi.count())(rng)};
}

template <class T>
T Pick(std::mt19937_64& rng, const std::vector<T>& from) {
  return from[std::uniform_int_distribution<size_t>(0, from.size() - 1)(rng)];
}

bool Chance(std::mt19937_64& rng, double p) { return std::bernoulli_distribution(p)(rng); }

}  // namespace

Workload RandomWorkload(uint64_t seed) {
  std::mt19937_64 rng(seed);
  Workload w;
  w.options.safety_margin = Pick<Duration>(rng, {Duration{0}, Duration{250}, Duration{500}});
  w.options.day_boundary =
      Pick<Duration>(rng, {Duration{0}, hours(8), -hours(5), hours(13) + minutes(30)});
  w.options.backoff_base = Pick<Duration>(rng, {seconds(1), Duration{250}, Duration{0}});
  w.options.backoff_cap = Pick<Duration>(rng, {minutes(15), seconds(10)});
  w.options.seed = rng();
  w.start = FromMillis(1'803'859'200'000) + Uniform(rng, Duration{0}, days(1));

  const int apps = 1 + static_cast<int>(rng() % 3);
  std::vector<EndpointKey> endpoints;
  for (int a = 0; a < apps; ++a) {
    for (BroadcastTarget target : kAllTargets) {
      EndpointKey key{"app" + std::to_string(a), target};
      endpoints.push_back(key);
      EndpointLimits limits = DefaultLimits(target);
      if (Chance(rng, 0.5)) {
        switch (target) {
          case BroadcastTarget::kUsers:
            limits.daily = 1 + static_cast<int>(rng() % 4);
            break;
          case BroadcastTarget::kOnlineUsers:
            limits.daily = 2 + static_cast<int>(rng() % 59);
            break;
          case BroadcastTarget::kChatrooms:
            limits.daily = 3 + static_cast<int>(rng() % 118);
            break;
        }
      }
      w.limits[key] = limits;
    }
  }

  const int jobs = Chance(rng, 0.1) ? 100 + static_cast<int>(rng() % 200)  // a big backlog
                                    : 1 + static_cast<int>(rng() % 40);
  for (int i = 1; i <= jobs; ++i) {
    SubmittedJob job;
    job.id = i;
    job.endpoint = Pick(rng, endpoints);
    job.priority = static_cast<int64_t>(rng() % 4);
    job.arrival = w.start + (Chance(rng, 0.3) ? Duration{0} : Uniform(rng, Duration{0}, days(2)));
    job.due = Chance(rng, 0.4) ? job.arrival - Uniform(rng, Duration{0}, hours(2))
                               : job.arrival + Uniform(rng, Duration{0}, days(3));
    if (Chance(rng, 0.5)) job.expires = job.due + Uniform(rng, -hours(1), days(2));
    w.jobs.push_back(job);
  }
  return w;
}

FakeServer RandomServer(uint64_t seed) {
  auto rng = std::make_shared<std::mt19937_64>(seed);
  return [rng](const QueuedJob&, TimePoint) -> AttemptResult {
    const int p = static_cast<int>((*rng)() % 1000);
    if (p < 750) return {OutcomeClass::kSent, 200, std::nullopt};
    if (p < 830) {
      std::optional<Duration> retry_after;
      if (Chance(*rng, 0.5)) {
        retry_after =
            Pick<Duration>(*rng, {-seconds(5), seconds(3), seconds(90), minutes(10), hours(5)});
      }
      return {OutcomeClass::kRetry, 429, retry_after};
    }
    if (p < 870) return {OutcomeClass::kNextDay, 403, std::nullopt};
    if (p < 900) {
      return {OutcomeClass::kUnknown, 503,
              Chance(*rng, 0.3) ? std::optional<Duration>(seconds(30)) : std::nullopt};
    }
    if (p < 930) return {OutcomeClass::kPermanent, 400, std::nullopt};
    if (p < 965) return {OutcomeClass::kRetry, std::nullopt, std::nullopt};  // refused
    if (p < 970) return {OutcomeClass::kUnopened, 403, std::nullopt};
    return {OutcomeClass::kSent, 200, std::nullopt};
  };
}

FakeServer SuccessServer() {
  return [](const QueuedJob&, TimePoint) -> AttemptResult {
    return {OutcomeClass::kSent, 200, std::nullopt};
  };
}

namespace {

// What the store would hold: enough to rebuild the scheduler after a restart.
struct Persisted {
  std::map<int64_t, QueuedJob> queued;
  std::set<EndpointKey> paused;
};

Scheduler Rebuild(const Workload& w, const Persisted& persisted,
                  const std::vector<LoggedAttempt>& audit, TimePoint now) {
  Scheduler scheduler(w.options);
  Duration reach{0};
  for (const auto& [key, limits] : w.limits) {
    scheduler.Configure(key, limits);
    for (const RateWindow& window : limits.windows) reach = std::max(reach, window.length);
  }
  reach += w.options.safety_margin;
  const int64_t day = days(1) / Duration{1};
  const Duration boundary{((w.options.day_boundary.count() % day) + day) % day};
  const TimePoint from = now - std::max<Duration>(reach, days(1) + boundary);
  for (const LoggedAttempt& row : audit) {
    if (row.at < from) continue;
    scheduler.limiter().RecordAttempt(row.endpoint, Instant(row.at));
    scheduler.limiter().RecordOutcome(row.endpoint, Instant(row.at), row.result);
  }
  for (const auto& [id, job] : persisted.queued) scheduler.Upsert(job);
  for (const EndpointKey& key : persisted.paused) scheduler.SetPaused(key, true);
  return scheduler;
}

}  // namespace

LoopResult RunDaemonLoop(const Workload& w, const FakeServer& server, const LoopOptions& options) {
  std::mt19937_64 rng(options.seed);
  LoopResult result;
  result.record.options = w.options;
  result.record.limits = w.limits;
  result.record.jobs = w.jobs;

  std::vector<SubmittedJob> arrivals = w.jobs;
  std::sort(arrivals.begin(), arrivals.end(), [](const SubmittedJob& a, const SubmittedJob& b) {
    return a.arrival != b.arrival ? a.arrival < b.arrival : a.id < b.id;
  });
  size_t next_arrival = 0;

  Persisted persisted;
  persisted.paused = w.paused;
  std::vector<LoggedAttempt> audit = w.history;
  Scheduler scheduler = Rebuild(w, persisted, audit, w.start);

  TimePoint now = w.start;
  while (true) {
    ++result.turns;
    for (; next_arrival < arrivals.size() && arrivals[next_arrival].arrival <= now;
         ++next_arrival) {
      const SubmittedJob& s = arrivals[next_arrival];
      QueuedJob job{s.id, s.endpoint, s.priority, s.due, s.expires, std::nullopt};
      persisted.queued[job.id] = job;
      scheduler.Upsert(job);
    }
    if (options.restart_chance > 0 && Chance(rng, options.restart_chance)) {
      scheduler = Rebuild(w, persisted, audit, now);
      ++result.restarts;
    }

    const Decision decision = scheduler.Decide(Instant(now));
    std::set<EndpointKey> sending;
    for (int64_t id : decision.send) {
      const std::optional<QueuedJob> job = scheduler.Find(id);
      if (!job) {
        result.faults.push_back("unknown job " + std::to_string(id) + " to send");
        return result;
      }
      if (!sending.insert(job->endpoint).second) {
        result.faults.push_back("two jobs at once on one endpoint");
      }
      if (std::find(decision.expire.begin(), decision.expire.end(), id) != decision.expire.end()) {
        result.faults.push_back("job " + std::to_string(id) + " both sent and expired");
      }
    }
    for (int64_t id : decision.expire) {
      result.record.expired[id] = now;
      persisted.queued.erase(id);
      scheduler.Remove(id);
    }
    for (int64_t id : decision.send) {
      const QueuedJob job = *scheduler.Find(id);
      scheduler.Begin(id, Instant(now));
      persisted.queued.erase(id);
      const AttemptResult answer = server(job, now);
      const LoggedAttempt row{now, id, job.endpoint, answer};
      audit.push_back(row);
      result.record.attempts.push_back(row);
      if (answer.outcome == OutcomeClass::kSent) result.sent[id] = now;
      if (answer.outcome == OutcomeClass::kUnopened) persisted.paused.insert(job.endpoint);
      if (scheduler.Finish(job, Instant(now), answer)) persisted.queued[id] = *scheduler.Find(id);
    }
    if (!decision.send.empty()) continue;

    std::optional<TimePoint> next = decision.next;
    if (next_arrival < arrivals.size()) {
      next = std::min(next.value_or(TimePoint::max()), arrivals[next_arrival].arrival);
    }
    if (!next) break;
    if (*next <= now || *next > w.start + options.give_up_after) {
      result.gave_up = true;
      break;
    }
    now = *next;
  }
  return result;
}

}  // namespace broadcastd
