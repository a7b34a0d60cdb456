#pragma once
// The queued jobs of one endpoint, split at the scheduler's watermark: those eligible
// by then, ordered by rank (priority, due, id), and those that become eligible later,
// ordered by that time. Both orders make the scheduler's questions a lookup at the
// front of a set rather than a scan.

#include <cstdint>
#include <optional>
#include <set>

#include "core/clock.h"

namespace broadcastd {

class EndpointQueue {
 public:
  struct Entry {
    int64_t id = 0;
    int64_t priority = 0;
    TimePoint due;
    TimePoint eligible_at;
    std::optional<TimePoint> expires;

    bool ExpiredAt(TimePoint now) const { return expires && *expires <= now; }
  };

  // Adds a job; it is eligible if eligible_at <= watermark. REQUIRES: id not present.
  void Add(const Entry& entry, TimePoint watermark);
  // Removes a job added with this same entry, given the current watermark (which tells
  // the set it sits in); absent entries are ignored.
  void Remove(const Entry& entry, TimePoint watermark);

  // Moves the watermark forward: jobs with eligible_at <= now become eligible.
  // O(moved * log n).
  void Promote(TimePoint now);
  // Moves the watermark back (time ran backwards, e.g. a test or a forecast from an
  // earlier time): O(eligible jobs). Never needed when time only moves forward.
  void Demote(TimePoint now);

  // The best-ranked eligible job not expired at `now`, if any. Skips expired jobs, so
  // the cost grows only with those (which the caller lists as expired anyway).
  const Entry* Best(TimePoint now) const;
  // The earliest eligible_at among not-yet-eligible jobs not expired at `now`.
  std::optional<TimePoint> FirstWaiting(TimePoint now) const;

  bool empty() const { return eligible_.empty() && waiting_.empty(); }
  size_t size() const { return eligible_.size() + waiting_.size(); }

 private:
  struct ByRank {
    bool operator()(const Entry& a, const Entry& b) const {
      if (a.priority != b.priority) return a.priority > b.priority;
      if (a.due != b.due) return a.due < b.due;
      return a.id < b.id;
    }
  };
  struct ByEligibleAt {
    bool operator()(const Entry& a, const Entry& b) const {
      if (a.eligible_at != b.eligible_at) return a.eligible_at < b.eligible_at;
      return a.id < b.id;
    }
  };

  std::set<Entry, ByRank> eligible_;
  std::set<Entry, ByEligibleAt> waiting_;
};

}  // namespace broadcastd
