#include "limiter/daily_budget.h"

#include <gtest/gtest.h>

#include <chrono>

#include "core/time_format.h"

namespace broadcastd {
namespace {

using std::chrono::hours;

TimePoint At(const char* text) { return ParseRfc3339(text).value(); }

TEST(DailyBudgetTest, DayRunsFromMidnightUtcByDefault) {
  DailyBudget day;
  EXPECT_EQ(day.DayStart(day.DayOf(At("2027-03-01T23:59:59.999Z"))), At("2027-03-01T00:00:00Z"));
  EXPECT_EQ(day.DayStart(day.DayOf(At("2027-03-02T00:00:00Z"))), At("2027-03-02T00:00:00Z"));
}

TEST(DailyBudgetTest, ShiftedBoundaryInEitherDirection) {
  DailyBudget plus8(hours(8));
  EXPECT_EQ(plus8.DayStart(plus8.DayOf(At("2027-03-01T07:59:59Z"))), At("2027-02-28T08:00:00Z"));
  EXPECT_EQ(plus8.DayStart(plus8.DayOf(At("2027-03-01T08:00:00Z"))), At("2027-03-01T08:00:00Z"));
  DailyBudget minus8(-hours(8));  // the same as +16 h
  EXPECT_EQ(minus8.DayStart(minus8.DayOf(At("2027-03-01T15:00:00Z"))), At("2027-02-28T16:00:00Z"));
}

TEST(DailyBudgetTest, DaysBeforeTheEpochFloor) {
  DailyBudget day;
  EXPECT_EQ(day.DayStart(day.DayOf(At("1969-12-31T12:00:00Z"))), At("1969-12-31T00:00:00Z"));
}

TEST(DailyBudgetTest, CountReachesBudgetThenNextDay) {
  DailyBudget day;
  const TimePoint noon = At("2027-03-01T12:00:00Z");
  day.Record(noon);
  day.Record(noon);
  EXPECT_EQ(day.Used(noon), 2);
  EXPECT_FALSE(day.Spent(noon, 3));
  EXPECT_EQ(day.EarliestStart(noon, 3), noon);
  day.Record(noon);
  EXPECT_TRUE(day.Spent(noon, 3));
  EXPECT_EQ(day.EarliestStart(noon, 3), At("2027-03-02T00:00:00Z"));
  EXPECT_EQ(day.EarliestStart(noon, 0), noon) << "daily <= 0 means no cap";
}

TEST(DailyBudgetTest, MarkedSpentWhateverTheCount) {
  DailyBudget day;
  const TimePoint noon = At("2027-03-01T12:00:00Z");
  day.MarkSpent(noon);
  EXPECT_EQ(day.Used(noon), 0);
  EXPECT_TRUE(day.Spent(noon, 100));
  EXPECT_EQ(day.EarliestStart(noon, 100), At("2027-03-02T00:00:00Z"));
  EXPECT_FALSE(day.Spent(At("2027-03-02T00:00:00Z"), 100));
}

TEST(DailyBudgetTest, ForgetDropsOnlyEndedDays) {
  DailyBudget day;
  day.Record(At("2027-03-01T12:00:00Z"));
  day.Record(At("2027-03-02T01:00:00Z"));
  day.Forget(At("2027-03-02T02:00:00Z"));
  EXPECT_EQ(day.Used(At("2027-03-01T12:00:00Z")), 0);
  EXPECT_EQ(day.Used(At("2027-03-02T03:00:00Z")), 1);
}

}  // namespace
}  // namespace broadcastd
