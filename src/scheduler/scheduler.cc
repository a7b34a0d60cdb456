#include "scheduler/scheduler.h"

#include <algorithm>
#include <limits>

namespace broadcastd {

Scheduler::Scheduler(LimiterOptions options) : limiter_(options) {}

void Scheduler::Configure(const EndpointKey& key, const EndpointLimits& limits) {
  limiter_.Configure(key, limits);
}

Scheduler::EndpointId Scheduler::Intern(const EndpointKey& key) {
  auto [it, added] = endpoint_ids_.try_emplace(key, static_cast<EndpointId>(endpoints_.size()));
  if (added) endpoints_.push_back(key);
  return it->second;
}

QueuedJob Scheduler::JobOf(int64_t id, const Slot& slot) const {
  QueuedJob job;
  job.id = id;
  job.endpoint = endpoints_[slot.endpoint];
  job.priority = slot.priority;
  job.due = slot.due;
  if (slot.HasExpiry()) job.expires = slot.expires;
  if (slot.not_before != TimePoint::min()) job.not_before = slot.not_before;
  return job;
}

EndpointQueue::Entry Scheduler::EntryOf(int64_t id, const Slot& slot) {
  return {id, slot.priority, slot.due, slot.EligibleAt()};
}

void Scheduler::Index(int64_t id, const Slot& slot) {
  if (!slot.held) queues_[endpoints_[slot.endpoint]].Add(EntryOf(id, slot), watermark_);
  if (slot.HasExpiry()) by_expiry_.emplace(slot.expires, id);
}

void Scheduler::Unindex(int64_t id, const Slot& slot) {
  auto it = slot.held ? queues_.end() : queues_.find(endpoints_[slot.endpoint]);
  if (it != queues_.end()) {
    it->second.Remove(EntryOf(id, slot), watermark_);
    if (it->second.empty()) queues_.erase(it);
  }
  if (slot.HasExpiry()) by_expiry_.erase({slot.expires, id});
}

void Scheduler::Upsert(const QueuedJob& job) {
  Slot slot;
  slot.priority = job.priority;
  slot.due = job.due;
  if (job.expires) slot.expires = *job.expires;
  if (job.not_before) slot.not_before = *job.not_before;
  slot.endpoint = Intern(job.endpoint);
  slot.held = held_.contains(job.id);
  auto [it, added] = jobs_.try_emplace(job.id, slot);
  if (!added) {
    Unindex(job.id, it->second);
    it->second = slot;
  }
  Index(job.id, slot);
}

void Scheduler::Remove(int64_t id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  Unindex(id, it->second);
  jobs_.erase(it);
}

std::optional<QueuedJob> Scheduler::Find(int64_t id) const {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::nullopt;
  return JobOf(id, it->second);
}

std::vector<int64_t> Scheduler::JobIds() const {
  std::vector<int64_t> ids;
  ids.reserve(jobs_.size());
  for (const auto& [id, slot] : jobs_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

void Scheduler::SetPaused(const EndpointKey& key, bool paused) {
  if (paused) {
    paused_.insert(key);
  } else {
    paused_.erase(key);
  }
}

void Scheduler::ReplaceHeld(const std::vector<int64_t>& ids) {
  std::unordered_set<int64_t> held(ids.begin(), ids.end());
  auto set_held = [this](int64_t id, bool value) {
    auto it = jobs_.find(id);
    if (it == jobs_.end() || it->second.held == value) return;
    Unindex(id, it->second);
    it->second.held = value;
    Index(id, it->second);
  };
  for (int64_t id : held_) {
    if (!held.contains(id)) set_held(id, false);
  }
  for (int64_t id : held) set_held(id, true);
  held_ = std::move(held);
}

void Scheduler::MoveWatermark(TimePoint now) const {
  if (now == watermark_) return;
  for (auto& [key, queue] : queues_) {
    if (now > watermark_) {
      queue.Promote(now, [this](int64_t id) {
        const Slot& slot = jobs_.at(id);
        return std::make_pair(slot.priority, slot.due);
      });
    } else {
      queue.Demote(now, [this](int64_t id) { return jobs_.at(id).EligibleAt(); });
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

  auto expired = [this, now](int64_t id) { return jobs_.at(id).expires <= now; };
  for (const auto& [key, queue] : queues_) {
    if (paused_.contains(key)) continue;
    const std::optional<int64_t> best = queue.Best(expired);
    const std::optional<TimePoint> first_waiting = queue.FirstWaiting(expired);
    const TimePoint allowed = limiter_.NextAllowed(key, instant);
    if (best && allowed <= now) {
      decision.send.push_back(*best);
      // A better job becoming eligible would change the pick.
      if (first_waiting) consider(*first_waiting);
    } else if (best) {
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
  auto expired = [this, now](int64_t id) { return jobs_.at(id).expires <= now; };
  for (const auto& [key, queue] : queues_) {
    if (paused_.contains(key)) continue;
    std::optional<TimePoint> job_at;
    if (queue.Best(expired)) {
      job_at = now;
    } else {
      job_at = queue.FirstWaiting(expired);
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
  const EndpointId endpoint = it->second.endpoint;
  Unindex(id, it->second);
  jobs_.erase(it);
  limiter_.RecordAttempt(endpoints_[endpoint], now);
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
