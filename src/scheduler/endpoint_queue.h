#pragma once
// The queued jobs of one endpoint, split at the scheduler's watermark: those eligible
// by then, ordered by rank (priority, due, id), and those that become eligible later,
// ordered by that time. Both orders make the scheduler's questions a lookup at the
// front of a set rather than a scan. Each set holds only the keys of its order (no
// expiry, no endpoint): the scheduler keeps the rest of a job once, by id.

#include <cstdint>
#include <optional>
#include <set>
#include <utility>

#include "core/clock.h"

namespace broadcastd {

class EndpointQueue {
 public:
  struct Entry {
    int64_t id = 0;
    int64_t priority = 0;
    TimePoint due;
    TimePoint eligible_at;
  };

  // Adds a job; it is eligible if eligible_at <= watermark. REQUIRES: id not present.
  void Add(const Entry& entry, TimePoint watermark);
  // Removes a job added with this same entry, given the current watermark (which tells
  // the set it sits in); absent entries are ignored.
  void Remove(const Entry& entry, TimePoint watermark);

  // Moves the watermark forward: jobs with eligible_at <= now become eligible.
  // O(moved * log n). `rank_of(id)` gives a waiting job's rank keys.
  template <class RankOf>
  void Promote(TimePoint now, const RankOf& rank_of) {
    while (!waiting_.empty() && waiting_.begin()->first <= now) {
      const int64_t id = waiting_.begin()->second;
      const auto [priority, due] = rank_of(id);
      eligible_.insert({priority, due, id});
      waiting_.erase(waiting_.begin());
    }
  }
  // Moves the watermark back (time ran backwards, e.g. a test or a forecast from an
  // earlier time): O(eligible jobs). Never needed when time only moves forward.
  // `eligible_at(id)` gives an eligible job's eligibility time.
  template <class EligibleAtOf>
  void Demote(TimePoint now, const EligibleAtOf& eligible_at) {
    for (auto it = eligible_.begin(); it != eligible_.end();) {
      const int64_t id = it->id;
      const TimePoint at = eligible_at(id);
      if (at > now) {
        waiting_.insert({at, id});
        it = eligible_.erase(it);
      } else {
        ++it;
      }
    }
  }

  // The best-ranked eligible job for which `expired(id)` is false, if any. Skips expired
  // jobs, so the cost grows only with those (which the caller lists as expired anyway).
  template <class ExpiredFn>
  std::optional<int64_t> Best(const ExpiredFn& expired) const {
    for (const Rank& rank : eligible_) {
      if (!expired(rank.id)) return rank.id;
    }
    return std::nullopt;
  }
  // The earliest eligible_at among not-yet-eligible jobs for which `expired(id)` is false.
  template <class ExpiredFn>
  std::optional<TimePoint> FirstWaiting(const ExpiredFn& expired) const {
    for (const auto& [at, id] : waiting_) {
      if (!expired(id)) return at;
    }
    return std::nullopt;
  }

  bool empty() const { return eligible_.empty() && waiting_.empty(); }
  size_t size() const { return eligible_.size() + waiting_.size(); }

 private:
  struct Rank {
    int64_t priority = 0;
    TimePoint due;
    int64_t id = 0;
  };
  struct ByRank {
    bool operator()(const Rank& a, const Rank& b) const {
      if (a.priority != b.priority) return a.priority > b.priority;
      if (a.due != b.due) return a.due < b.due;
      return a.id < b.id;
    }
  };
  std::set<Rank, ByRank> eligible_;
  // (eligible_at, id)
  std::set<std::pair<TimePoint, int64_t>> waiting_;
};

}  // namespace broadcastd
