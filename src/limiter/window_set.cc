#include "limiter/window_set.h"

#include <algorithm>
#include <utility>

namespace broadcastd {

WindowSet::WindowSet(std::vector<RateWindow> windows, Duration margin) {
  Reconfigure(std::move(windows), margin);
}

void WindowSet::Reconfigure(std::vector<RateWindow> windows, Duration margin) {
  windows_.clear();
  keep_ = 0;
  for (const RateWindow& w : windows) {
    if (w.count < 1 || w.length <= Duration::zero()) continue;
    windows_.push_back(w);
    keep_ = std::max(keep_, static_cast<size_t>(w.count));
  }
  margin_ = std::max(margin, Duration::zero());
  while (starts_.size() > keep_) starts_.pop_front();
}

// Safe even when Record dropped an older start to make room for this one: this start was
// allowed when it was recorded, so the dropped one no longer constrained any later start.
void WindowSet::Unrecord(MonoTime started) {
  auto it = std::lower_bound(starts_.begin(), starts_.end(), started);
  if (it != starts_.end() && *it == started) starts_.erase(it);
}

void WindowSet::Record(MonoTime started) {
  if (keep_ == 0) return;
  starts_.insert(std::upper_bound(starts_.begin(), starts_.end(), started), started);
  while (starts_.size() > keep_) starts_.pop_front();
}

MonoTime WindowSet::EarliestStart(MonoTime t) const {
  for (const RateWindow& w : windows_) {
    const size_t count = static_cast<size_t>(w.count);
    if (starts_.size() < count) continue;
    // With `count` starts already inside the window, the next may start only once the
    // oldest of them has left it.
    const MonoTime oldest = starts_[starts_.size() - count];
    t = std::max(t, oldest + w.length + margin_);
  }
  return t;
}

Duration WindowSet::Reach() const {
  Duration longest{0};
  for (const RateWindow& w : windows_) longest = std::max(longest, w.length);
  return longest + margin_;
}

void WindowSet::Forget(MonoTime before) {
  const Duration reach = Reach();
  while (!starts_.empty() && starts_.front() + reach <= before) starts_.pop_front();
}

}  // namespace broadcastd
