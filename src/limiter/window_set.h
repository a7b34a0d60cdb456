#pragma once
// The sliding rate windows of one endpoint ("1 per 30 min", "10 per 1 min").
//
// A window {count, length} allows at most `count` request starts in any interval of
// length `length + margin`. The vendor does not say whether its windows slide or are
// clock-aligned buckets; a sliding window satisfies both readings. The margin covers
// what we cannot see: two requests that leave here exactly `length` apart can reach
// the server closer together when the first one spends longer in transit, and the
// server's clock is not ours.
//
// Times are monotonic (MonoTime): a window measures an interval, which a wall-clock
// step must neither shorten nor stretch.

#include <cstddef>
#include <deque>
#include <vector>

#include "core/clock.h"
#include "core/limits.h"

namespace broadcastd {

class WindowSet {
 public:
  WindowSet() = default;
  // Windows with count < 1 or a non-positive length constrain nothing.
  WindowSet(std::vector<RateWindow> windows, Duration margin);

  // Replaces the windows, keeping the recent starts (a reload keeps what was sent).
  // A window whose count grows beyond the starts kept so far sees only those.
  void Reconfigure(std::vector<RateWindow> windows, Duration margin);

  // Counts a request that started at `started`. Starts may arrive slightly out of
  // order (replay); they are kept sorted.
  void Record(MonoTime started);
  // Takes back one start recorded at `started` (a request never written); nothing when
  // none is kept (it was already too old to matter).
  void Unrecord(MonoTime started);

  // The earliest time >= t at which a start breaks no window.
  MonoTime EarliestStart(MonoTime t) const;

  // The longest window's length plus the margin: how long one start can matter.
  Duration Reach() const;

  // Drops starts that can no longer constrain any start at or after `before`.
  void Forget(MonoTime before);

  size_t kept() const { return starts_.size(); }

 private:
  std::vector<RateWindow> windows_;
  Duration margin_{0};
  size_t keep_ = 0;              // the largest window count: older starts never matter
  std::deque<MonoTime> starts_;  // the last `keep_` starts, oldest first
};

}  // namespace broadcastd
