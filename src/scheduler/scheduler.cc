#include "scheduler/scheduler.h"

#include <algorithm>
#include <limits>

namespace broadcastd {

Scheduler::Scheduler(LimiterOptions options) : limiter_(options) {}

void Scheduler::Configure(const EndpointKey& key, const EndpointLimits& limits) {
  limiter_.Configure(key, limits);
}

EndpointQueue::Entry Scheduler::EntryOf(const QueuedJob& job) {
  return {job.id, job.priority, job.due, job.EligibleAt(), job.expires};
}

void Scheduler::Index(const QueuedJob& job) {
  queues_[job.endpoint].Add(EntryOf(job), watermark_);
  if (job.expires) by_expiry_.emplace(*job.expires, job.id);
}

void Scheduler::Unindex(const QueuedJob& job) {
  auto it = queues_.find(job.endpoint);
  if (it != queues_.end()) {
    it->second.Remove(EntryOf(job), watermark_);
    if (it->second.empty()) queues_.erase(it);
  }
  if (job.expires) by_expiry_.erase({*job.expires, job.id});
}

void Scheduler::Upsert(const QueuedJob& job) {
  auto it = jobs_.find(job.id);
  if (it != jobs_.end()) {
    Unindex(it->second);
    it->second = job;
  } else {
    jobs_.emplace(job.id, job);
  }
  Index(job);
}

void Scheduler::Remove(int64_t id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  Unindex(it->second);
  jobs_.erase(it);
}

const QueuedJob* Scheduler::Find(int64_t id) const {
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : &it->second;
}

void Scheduler::SetPaused(const EndpointKey& key, bool paused) {
  if (paused) {
    paused_.insert(key);
  } else {
    paused_.erase(key);
  }
}

void Scheduler::MoveWatermark(TimePoint now) const {
  if (now == watermark_) return;
  for (auto& [key, queue] : queues_) {
    if (now > watermark_) {
      queue.Promote(now);
    } else {
      queue.Demote(now);
    }
  }
  watermark_ = now;
}

Decision Scheduler::Decide(const Instant& instant) const {
  const TimePoint now = instant.wall;
  MoveWatermark(now);
  Decision decision;
  auto consider = [&decision](TimePoint t) {
    if (!decision.next || t < *decision.next) decision.next = t;
  };

  const std::pair<TimePoint, int64_t> last_of_now{now, std::numeric_limits<int64_t>::max()};
  auto after_now = by_expiry_.upper_bound(last_of_now);
  for (auto it = by_expiry_.begin(); it != after_now; ++it) decision.expire.push_back(it->second);
  if (after_now != by_expiry_.end()) consider(after_now->first);

  for (const auto& [key, queue] : queues_) {
    if (paused_.contains(key)) continue;
    const EndpointQueue::Entry* best = queue.Best(now);
    const std::optional<TimePoint> first_waiting = queue.FirstWaiting(now);
    const TimePoint allowed = limiter_.NextAllowed(key, instant);
    if (best != nullptr && allowed <= now) {
      decision.send.push_back(best->id);
      // A better job becoming eligible would change the pick.
      if (first_waiting) consider(*first_waiting);
    } else if (best != nullptr) {
      consider(allowed);
    } else if (first_waiting) {
      consider(std::max(allowed, *first_waiting));
    }
  }
  return decision;
}

std::optional<Scheduler::NextSendAt> Scheduler::NextSend(const Instant& instant) const {
  const TimePoint now = instant.wall;
  MoveWatermark(now);
  std::optional<NextSendAt> next;
  for (const auto& [key, queue] : queues_) {
    if (paused_.contains(key)) continue;
    std::optional<TimePoint> job_at;
    if (queue.Best(now) != nullptr) {
      job_at = now;
    } else {
      job_at = queue.FirstWaiting(now);
    }
    if (!job_at) continue;
    const TimePoint at = std::max(*job_at, limiter_.NextAllowed(key, instant));
    if (!next || at < next->at) next = NextSendAt{key, at};
  }
  return next;
}

void Scheduler::Begin(int64_t id, const Instant& now) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  const EndpointKey endpoint = it->second.endpoint;
  Unindex(it->second);
  jobs_.erase(it);
  limiter_.RecordAttempt(endpoint, now);
}

std::optional<TimePoint> Scheduler::Finish(const QueuedJob& job, const Instant& now,
                                           const AttemptResult& result) {
  limiter_.RecordOutcome(job.endpoint, now, result);
  switch (result.outcome) {
    case OutcomeClass::kRetry:
    case OutcomeClass::kNextDay: {
      QueuedJob again = job;
      again.not_before = limiter_.NextAllowed(job.endpoint, now);
      Upsert(again);
      return again.not_before;
    }
    case OutcomeClass::kUnopened:
      SetPaused(job.endpoint, true);
      return std::nullopt;
    case OutcomeClass::kSent:
    case OutcomeClass::kPermanent:
    case OutcomeClass::kUnknown:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace broadcastd
