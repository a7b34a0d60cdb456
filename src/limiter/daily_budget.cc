#include "limiter/daily_budget.h"

#include <chrono>

namespace broadcastd {
namespace {

constexpr int64_t kDayMillis = 24LL * 60 * 60 * 1000;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

DailyBudget::DailyBudget(Duration boundary)
    : boundary_(Duration{((boundary.count() % kDayMillis) + kDayMillis) % kDayMillis}) {}

int64_t DailyBudget::DayOf(TimePoint t) const {
  return FloorDiv(ToMillis(t) - boundary_.count(), kDayMillis);
}

TimePoint DailyBudget::DayStart(int64_t day) const {
  return FromMillis(day * kDayMillis + boundary_.count());
}

void DailyBudget::Record(TimePoint started) { ++used_[DayOf(started)]; }

void DailyBudget::Unrecord(TimePoint started) {
  auto it = used_.find(DayOf(started));
  if (it == used_.end()) return;
  if (--it->second <= 0) used_.erase(it);
}

void DailyBudget::MarkSpent(TimePoint at) {
  const int64_t day = DayOf(at);
  if (!spent_until_ || *spent_until_ < day) spent_until_ = day;
}

int DailyBudget::Used(TimePoint t) const {
  auto it = used_.find(DayOf(t));
  return it == used_.end() ? 0 : it->second;
}

bool DailyBudget::Spent(TimePoint t, int daily) const {
  if (spent_until_ && DayOf(t) <= *spent_until_) return true;
  return daily > 0 && Used(t) >= daily;
}

TimePoint DailyBudget::EarliestStart(TimePoint t, int daily) const {
  // Ends: each step moves to a later day, and only finitely many days hold counts.
  while (Spent(t, daily)) t = DayStart(DayOf(t) + 1);
  return t;
}

void DailyBudget::Forget(TimePoint before) {
  const int64_t current = DayOf(before);
  while (!used_.empty() && used_.begin()->first < current) used_.erase(used_.begin());
  if (spent_until_ && *spent_until_ < current) spent_until_.reset();
}

}  // namespace broadcastd
