#pragma once
// Which queued job goes out next on each endpoint, and when (DESIGN.md, "Job states",
// "Guarantees" 1 and 7). Pure: no I/O, no clock; the daemon passes `now`, a reading
// of both clocks (core/clock.h), persists what comes back and performs the requests.
// Jobs' times (due, expires, not_before) and every time it returns are wall times;
// the limiter measures its intervals on the monotonic part of `now`:
//
//   Decision d = scheduler.Decide(now);
//   mark d.expire expired (and Remove them); for each id in d.send:
//     Begin(id, now); POST; Finish(job, answer_time, result);
//   if anything was sent, Decide again at once; else sleep until d.next (or new
//   input), then Decide again.
//
// Costs, n queued jobs, E endpoints: Upsert, Remove, Begin, Finish O(log n); Decide
// O(E log n) plus O(log n) per job that became eligible since the previous call and
// per job it lists. Not safe for concurrent use.
//
// Memory: per job, one record of its decision fields (the endpoint interned as a small
// index into a table of the endpoints seen) and the keys of the two orders it sits in;
// no strings, no bodies. About 140 bytes a job.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/limits.h"
#include "limiter/limiter.h"
#include "scheduler/endpoint_queue.h"
#include "scheduler/queued_job.h"

namespace broadcastd {

class Scheduler {
 public:
  explicit Scheduler(LimiterOptions options);

  // Forwards to the limiter.
  void Configure(const EndpointKey& key, const EndpointLimits& limits);

  // Adds a job or replaces the one with the same id.
  void Upsert(const QueuedJob& job);
  // Drops a job (cancelled, expired, done); unknown ids are ignored.
  void Remove(int64_t id);
  size_t size() const { return jobs_.size(); }
  // The job as last upserted, or nullopt when it is not queued. A copy: the scheduler
  // keeps its jobs in a compact form, not as QueuedJob.
  std::optional<QueuedJob> Find(int64_t id) const;
  // Every queued job's id, ascending.
  std::vector<int64_t> JobIds() const;
  // Makes room for `n` jobs in all (a loader that knows the count avoids rehashing).
  void Reserve(size_t n) { jobs_.reserve(n); }

  // A paused endpoint sends nothing; its jobs stay queued and still expire.
  void SetPaused(const EndpointKey& key, bool paused);
  bool IsPaused(const EndpointKey& key) const { return paused_.contains(key); }
  // Exactly these endpoints are paused from now on.
  void ReplacePauses(std::set<EndpointKey> paused) { paused_ = std::move(paused); }

  // Held jobs (of a campaign a new queue adopted and no operator confirmed yet) are never
  // sent; they stay queued and still expire. Exactly the queued jobs among `ids` are held
  // from now on, and a job upserted later while its id is among them. O(changed log n).
  void ReplaceHeld(const std::vector<int64_t>& ids);
  bool IsHeld(int64_t id) const { return held_.contains(id); }

  // What to do at `now`; does not change the queue or the limiter. Per endpoint, not
  // paused and allowed by the limiter at `now`, it sends the best job that is due
  // (due <= now, not_before <= now) and not expired: highest priority, then earliest
  // due, then lowest id. Every job with expires <= now is listed in `expire` (ordered
  // by expiry) and never in `send`. `next`, when set, is > now.
  // Internally it moves the watermark that sorts eligible from waiting jobs (hence the
  // mutable members); calls with `now` running backwards are correct but O(n).
  Decision Decide(const Instant& now) const;

  // Right before POSTing a job from Decision::send: removes it from the queue and
  // counts the attempt against its endpoint. Unknown ids are ignored.
  void Begin(int64_t id, const Instant& now);

  // After the answer to `job` (as it was when begun) arrived at `now`: records it with
  // the limiter, then
  // - kRetry, kNextDay: the job is queued again with not_before = the endpoint's next
  //   allowed time, which is returned so that the store can persist it;
  // - kUnopened: the endpoint is paused (the job itself is done);
  // - anything else: the job is done.
  std::optional<TimePoint> Finish(const QueuedJob& job, const Instant& now,
                                  const AttemptResult& result);

  Limiter& limiter() { return limiter_; }
  const Limiter& limiter() const { return limiter_; }

  // The next send if nothing else happens, as the status line shows it: per endpoint
  // not paused, its best job at its next allowed time (or its first waiting job, when
  // that is later), the earliest of them. O(E log n), no copy (Forecast is O(n)).
  struct NextSendAt {
    EndpointKey endpoint;
    TimePoint at;
  };
  std::optional<NextSendAt> NextSend(const Instant& now) const;

  // Runs Decide/Begin/Finish forward on a copy, on a simulated clock from `now` that
  // does not step, assuming every request succeeds at once, until the queue is empty or `horizon`
  // has passed. For each queued job: when it would be sent, or when it expires first,
  // or that it is still waiting at now + horizon (kBeyondHorizon, at = now + horizon),
  // or that its endpoint is paused (kPaused, at = now), or that it is held (kHeld, at =
  // now; also when it would expire while held).
  struct ForecastEntry {
    enum Kind { kSend, kExpires, kBeyondHorizon, kPaused, kHeld } kind;
    TimePoint at;
  };
  std::unordered_map<int64_t, ForecastEntry> Forecast(const Instant& now, Duration horizon) const;

 private:
  using EndpointId = uint32_t;
  // What the scheduler keeps of a job: its QueuedJob with the endpoint interned and
  // absent times as sentinels.
  struct Slot {
    int64_t priority = 0;
    TimePoint due;
    TimePoint expires = TimePoint::max();     // max(): never expires
    TimePoint not_before = TimePoint::min();  // min(): none
    EndpointId endpoint = 0;
    bool held = false;  // in held_: not in its endpoint's queue

    TimePoint EligibleAt() const { return std::max(due, not_before); }
    bool HasExpiry() const { return expires != TimePoint::max(); }
  };

  EndpointId Intern(const EndpointKey& key);
  QueuedJob JobOf(int64_t id, const Slot& slot) const;
  static EndpointQueue::Entry EntryOf(int64_t id, const Slot& slot);
  void Index(int64_t id, const Slot& slot);
  void Unindex(int64_t id, const Slot& slot);
  void MoveWatermark(TimePoint now) const;

  Limiter limiter_;
  // The endpoints seen, by EndpointId; never shrinks (a handful of endpoints).
  std::vector<EndpointKey> endpoints_;
  std::map<EndpointKey, EndpointId> endpoint_ids_;
  std::unordered_map<int64_t, Slot> jobs_;
  mutable std::map<EndpointKey, EndpointQueue> queues_;  // no empty queues
  std::set<std::pair<TimePoint, int64_t>> by_expiry_;
  std::set<EndpointKey> paused_;
  std::unordered_set<int64_t> held_;
  // Every job with EligibleAt() <= watermark_ is in its queue's eligible set.
  mutable TimePoint watermark_ = TimePoint::min();
};

}  // namespace broadcastd
