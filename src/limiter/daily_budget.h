#pragma once
// The daily request budget of one endpoint. A day runs from the boundary (00:00 UTC
// plus an offset) to the next. The vendor counts its limits per UTC day but does not
// say so of the broadcast budgets in particular, hence the configurable offset.

#include <cstdint>
#include <map>
#include <optional>

#include "core/clock.h"

namespace broadcastd {

class DailyBudget {
 public:
  // `boundary` may be any duration; only its value modulo one day matters.
  explicit DailyBudget(Duration boundary = Duration{0});

  // Counts a request that started at `started` against its day.
  void Record(TimePoint started);
  // Takes back one request counted at `started` (one never written).
  void Unrecord(TimePoint started);
  // The server said the day's budget is spent (403 "... limit exceeded"): nothing more
  // goes out before the day after the one containing `at`, whatever the count says.
  void MarkSpent(TimePoint at);

  int Used(TimePoint t) const;  // starts counted in the day containing t
  // True when no request may start in the day containing t: the count reached
  // `daily` (daily <= 0 means no daily cap) or the server said the day is spent.
  bool Spent(TimePoint t, int daily) const;
  // The earliest time >= t that falls in a day with budget left.
  TimePoint EarliestStart(TimePoint t, int daily) const;

  // Drops the counts of days that ended at or before `before`.
  void Forget(TimePoint before);

  int64_t DayOf(TimePoint t) const;
  TimePoint DayStart(int64_t day) const;

 private:
  Duration boundary_;
  std::map<int64_t, int> used_;         // day index -> starts that day
  std::optional<int64_t> spent_until_;  // every day <= this one is spent
};

}  // namespace broadcastd
