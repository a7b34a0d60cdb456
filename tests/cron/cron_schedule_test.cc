#include "cron/cron_schedule.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "core/time_format.h"

namespace broadcastd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Every expected instant below is worked out by hand from the zone's rules
// (checked against `zdump -v`), written as UTC.
TimePoint At(std::string_view rfc3339) {
  auto t = ParseRfc3339(rfc3339);
  EXPECT_TRUE(t.has_value()) << rfc3339;
  return t ? *t : TimePoint{};
}

CronSchedule MustCreate(std::string_view cron, std::string_view zone) {
  auto s = CronSchedule::Create(cron, zone);
  EXPECT_TRUE(s.has_value()) << cron << " " << zone << ": " << (s ? "" : s.error().message);
  if (!s) return *CronSchedule::Create("* * * * *", "UTC");
  return *s;
}

TEST(CronScheduleCreate, KeepsExpressionAndZone) {
  const CronSchedule s = MustCreate("0 20 * * *", "Asia/Shanghai");
  EXPECT_EQ(s.expression().text(), "0 20 * * *");
  EXPECT_EQ(s.timezone(), "Asia/Shanghai");
}

TEST(CronScheduleCreate, UnknownZoneIsAnErrorNamingIt) {
  auto s = CronSchedule::Create("0 9 * * *", "Mars/Olympus_Mons");
  ASSERT_FALSE(s.has_value());
  EXPECT_THAT(s.error().message, HasSubstr("Mars/Olympus_Mons"));
  EXPECT_FALSE(CronSchedule::Create("0 9 * * *", "").has_value());
  EXPECT_FALSE(CronSchedule::Create("0 9 * * *", "america/new_york").has_value());
}

TEST(CronScheduleCreate, BadExpressionIsTheParseError) {
  auto s = CronSchedule::Create("0 25 * * *", "UTC");
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().message, "hour: 25 is out of range 0-23");
}

TEST(CronScheduleNextAfter, StrictlyAfter) {
  const CronSchedule s = MustCreate("0 9 * * *", "UTC");
  EXPECT_EQ(s.NextAfter(At("2027-05-01T08:59:59.999Z")), At("2027-05-01T09:00:00Z"));
  EXPECT_EQ(s.NextAfter(At("2027-05-01T09:00:00Z")), At("2027-05-02T09:00:00Z"));
  EXPECT_EQ(s.NextAfter(At("2027-05-01T09:00:00.001Z")), At("2027-05-02T09:00:00Z"));
}

TEST(CronScheduleNextAfter, AcrossYearEnd) {
  EXPECT_EQ(MustCreate("0 0 1 1 *", "UTC").NextAfter(At("2027-06-01T00:00:00Z")),
            At("2028-01-01T00:00:00Z"));
  EXPECT_EQ(MustCreate("59 23 31 12 *", "UTC").NextAfter(At("2027-12-31T23:59:00Z")),
            At("2028-12-31T23:59:00Z"));
  EXPECT_EQ(MustCreate("*/10 * * * *", "UTC").NextAfter(At("2027-12-31T23:55:00Z")),
            At("2028-01-01T00:00:00Z"));
  // Local new year in Shanghai is 16:00 UTC the day before.
  EXPECT_EQ(MustCreate("0 0 1 1 *", "Asia/Shanghai").NextAfter(At("2027-06-01T00:00:00Z")),
            At("2027-12-31T16:00:00Z"));
}

TEST(CronScheduleNextAfter, LeapDay) {
  const CronSchedule s = MustCreate("0 0 29 2 *", "UTC");
  EXPECT_EQ(s.NextAfter(At("2027-01-01T00:00:00Z")), At("2028-02-29T00:00:00Z"));
  EXPECT_EQ(s.NextAfter(At("2028-02-29T00:00:00Z")), At("2032-02-29T00:00:00Z"));
  // 2100 is not a leap year.
  EXPECT_EQ(s.NextAfter(At("2096-03-01T00:00:00Z")), At("2104-02-29T00:00:00Z"));
}

TEST(CronScheduleNextAfter, EndOfMonthSkipsShortMonths) {
  EXPECT_EQ(MustCreate("0 12 31 * *", "UTC").NextAfter(At("2027-04-01T00:00:00Z")),
            At("2027-05-31T12:00:00Z"));
  EXPECT_EQ(MustCreate("0 0 30 * *", "UTC").NextAfter(At("2027-02-01T00:00:00Z")),
            At("2027-03-30T00:00:00Z"));
  EXPECT_EQ(MustCreate("0 0 31 * *", "UTC").NextAfter(At("2027-07-31T00:00:00Z")),
            At("2027-08-31T00:00:00Z"));
}

TEST(CronScheduleNextAfter, ImpossibleDateIsNone) {
  EXPECT_EQ(MustCreate("0 0 30 2 *", "UTC").NextAfter(At("2027-01-01T00:00:00Z")), std::nullopt);
  EXPECT_EQ(MustCreate("0 0 31 4,6,9,11 *", "Europe/London").NextAfter(At("2027-01-01T00:00:00Z")),
            std::nullopt);
  // With a day of week as well, the OR rule makes it possible: Mondays in February.
  EXPECT_EQ(MustCreate("0 0 30 2 mon", "UTC").NextAfter(At("2027-03-01T00:00:00Z")),
            At("2028-02-07T00:00:00Z"));
}

TEST(CronScheduleNextAfter, DayRuleEitherMatches) {
  // The 13th or a Friday: from Monday 2027-09-06 the next is Friday the 10th,
  // then Monday the 13th, then Friday the 17th.
  const CronSchedule s = MustCreate("0 8 13 * fri", "UTC");
  EXPECT_THAT(s.Between(At("2027-09-06T00:00:00Z"), At("2027-09-18T00:00:00Z"), 10),
              ElementsAre(At("2027-09-10T08:00:00Z"), At("2027-09-13T08:00:00Z"),
                          At("2027-09-17T08:00:00Z")));
}

TEST(CronScheduleNextAfter, SparseSearchIsFast) {
  // A minute-by-minute search would visit millions of minutes per call: these 400 calls
  // would take tens of seconds; done sparsely they take milliseconds. The bound is far
  // from both, so that a loaded machine does not fail the sparse search.
  const CronSchedule leap = MustCreate("0 0 29 2 *", "America/New_York");
  const CronSchedule never = MustCreate("0 0 30 2 *", "America/New_York");
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(leap.NextAfter(At("2027-01-01T00:00:00Z")), At("2028-02-29T05:00:00Z"));
    EXPECT_EQ(never.NextAfter(At("2027-01-01T00:00:00Z")), std::nullopt);
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(10));
}

TEST(CronScheduleBetween, InclusiveBoundsAndOrder) {
  const CronSchedule s = MustCreate("*/20 * * * *", "UTC");
  EXPECT_THAT(s.Between(At("2027-05-01T10:00:00Z"), At("2027-05-01T11:00:00Z"), 100),
              ElementsAre(At("2027-05-01T10:00:00Z"), At("2027-05-01T10:20:00Z"),
                          At("2027-05-01T10:40:00Z"), At("2027-05-01T11:00:00Z")));
  EXPECT_THAT(s.Between(At("2027-05-01T10:00:00.001Z"), At("2027-05-01T10:59:59.999Z"), 100),
              ElementsAre(At("2027-05-01T10:20:00Z"), At("2027-05-01T10:40:00Z")));
}

TEST(CronScheduleBetween, MaxKeepsTheEarliest) {
  const CronSchedule s = MustCreate("* * * * *", "UTC");
  EXPECT_THAT(s.Between(At("2027-05-01T10:00:00Z"), At("2027-05-02T10:00:00Z"), 3),
              ElementsAre(At("2027-05-01T10:00:00Z"), At("2027-05-01T10:01:00Z"),
                          At("2027-05-01T10:02:00Z")));
  EXPECT_EQ(s.Between(At("2027-05-01T10:00:00Z"), At("2027-05-02T10:00:00Z"), 1440).size(), 1440u);
  EXPECT_EQ(s.Between(At("2027-05-01T10:00:00Z"), At("2027-05-02T10:00:00Z"), 5000).size(), 1441u);
}

TEST(CronScheduleBetween, EmptyCases) {
  const CronSchedule s = MustCreate("* * * * *", "UTC");
  EXPECT_TRUE(s.Between(At("2027-05-01T10:00:00Z"), At("2027-05-01T11:00:00Z"), 0).empty());
  EXPECT_TRUE(s.Between(At("2027-05-01T11:00:00Z"), At("2027-05-01T10:00:00Z"), 10).empty());
  EXPECT_TRUE(s.Between(At("2027-05-01T10:00:30Z"), At("2027-05-01T10:00:59Z"), 10).empty());
  EXPECT_TRUE(MustCreate("0 0 30 2 *", "UTC")
                  .Between(At("2027-01-01T00:00:00Z"), At("2030-01-01T00:00:00Z"), 10)
                  .empty());
}

// America/New_York 2027: 02:00 EST (07:00Z) on Sunday 14 March jumps to 03:00
// EDT; 02:00 EDT (06:00Z) on Sunday 7 November falls back to 01:00 EST.
TEST(CronScheduleDst, NewYorkDailyInTheGapFiresOnceAtGapEnd) {
  const CronSchedule s = MustCreate("30 2 * * *", "America/New_York");
  EXPECT_THAT(s.Between(At("2027-03-13T00:00:00Z"), At("2027-03-16T00:00:00Z"), 10),
              ElementsAre(At("2027-03-13T07:30:00Z"),    // 02:30 EST
                          At("2027-03-14T07:00:00Z"),    // 03:00 EDT, the gap's end
                          At("2027-03-15T06:30:00Z")));  // 02:30 EDT
  EXPECT_EQ(s.NextAfter(At("2027-03-14T06:59:00Z")), At("2027-03-14T07:00:00Z"));
  EXPECT_EQ(s.NextAfter(At("2027-03-14T07:00:00Z")), At("2027-03-15T06:30:00Z"));
}

TEST(CronScheduleDst, NewYorkQuarterHoursAcrossTheGap) {
  const CronSchedule s = MustCreate("*/15 * * * *", "America/New_York");
  EXPECT_THAT(s.Between(At("2027-03-14T06:40:00Z"), At("2027-03-14T07:20:00Z"), 10),
              ElementsAre(At("2027-03-14T06:45:00Z"),    // 01:45 EST
                          At("2027-03-14T07:00:00Z"),    // 02:00-02:45 don't exist: once at 03:00
                          At("2027-03-14T07:15:00Z")));  // 03:15 EDT
  EXPECT_EQ(s.NextAfter(At("2027-03-14T06:45:00Z")), At("2027-03-14T07:00:00Z"));
}

TEST(CronScheduleDst, SeveralGapMinutesAndOneAfterIt) {
  // 02:00 and 02:30 both fall in the gap: one firing at 03:00 EDT; 03:30 EDT is its own.
  const CronSchedule s = MustCreate("0,30 2,3 * * *", "America/New_York");
  EXPECT_THAT(s.Between(At("2027-03-14T05:00:00Z"), At("2027-03-14T09:00:00Z"), 10),
              ElementsAre(At("2027-03-14T07:00:00Z"), At("2027-03-14T07:30:00Z")));
}

TEST(CronScheduleDst, NewYorkFallBackFiresOnceAtTheFirstOccurrence) {
  const CronSchedule s = MustCreate("30 1 * * *", "America/New_York");
  EXPECT_THAT(s.Between(At("2027-11-06T00:00:00Z"), At("2027-11-09T00:00:00Z"), 10),
              ElementsAre(At("2027-11-06T05:30:00Z"),    // 01:30 EDT
                          At("2027-11-07T05:30:00Z"),    // 01:30 EDT, not again at 06:30Z
                          At("2027-11-08T06:30:00Z")));  // 01:30 EST
  // From inside the repeated hour (01:10 EST) the next is the following day.
  EXPECT_EQ(s.NextAfter(At("2027-11-07T06:10:00Z")), At("2027-11-08T06:30:00Z"));
}

TEST(CronScheduleDst, NewYorkHalfHoursAcrossFallBack) {
  const CronSchedule s = MustCreate("*/30 * * * *", "America/New_York");
  EXPECT_THAT(s.Between(At("2027-11-07T04:50:00Z"), At("2027-11-07T07:40:00Z"), 10),
              ElementsAre(At("2027-11-07T05:00:00Z"),    // 01:00 EDT
                          At("2027-11-07T05:30:00Z"),    // 01:30 EDT
                          At("2027-11-07T07:00:00Z"),    // 02:00 EST (01:00/01:30 EST are repeats)
                          At("2027-11-07T07:30:00Z")));  // 02:30 EST
}

// Europe/London 2027: 01:00 GMT on 28 March jumps to 02:00 BST; 02:00 BST on
// 31 October (01:00Z) falls back to 01:00 GMT.
TEST(CronScheduleDst, London) {
  const CronSchedule s = MustCreate("30 1 * * *", "Europe/London");
  EXPECT_THAT(s.Between(At("2027-03-27T00:00:00Z"), At("2027-03-30T00:00:00Z"), 10),
              ElementsAre(At("2027-03-27T01:30:00Z"),    // 01:30 GMT
                          At("2027-03-28T01:00:00Z"),    // gap: 02:00 BST
                          At("2027-03-29T00:30:00Z")));  // 01:30 BST
  EXPECT_THAT(s.Between(At("2027-10-30T00:00:00Z"), At("2027-11-02T00:00:00Z"), 10),
              ElementsAre(At("2027-10-30T00:30:00Z"),    // 01:30 BST
                          At("2027-10-31T00:30:00Z"),    // first of two 01:30s (BST)
                          At("2027-11-01T01:30:00Z")));  // 01:30 GMT
  const CronSchedule nine = MustCreate("0 9 * * *", "Europe/London");
  EXPECT_EQ(nine.NextAfter(At("2027-01-15T00:00:00Z")), At("2027-01-15T09:00:00Z"));
  EXPECT_EQ(nine.NextAfter(At("2027-07-15T00:00:00Z")), At("2027-07-15T08:00:00Z"));
}

// Asia/Shanghai is UTC+8 all year.
TEST(CronScheduleDst, ShanghaiHasNoShift) {
  const CronSchedule s = MustCreate("0 20 * * *", "Asia/Shanghai");
  const std::vector<TimePoint> week =
      s.Between(At("2027-03-01T00:00:00+08:00"), At("2027-03-07T23:59:59+08:00"), 100);
  ASSERT_EQ(week.size(), 7u);
  for (size_t i = 0; i < week.size(); ++i) {
    EXPECT_EQ(week[i], At("2027-03-01T12:00:00Z") + std::chrono::days(i)) << i;
  }
  // Days when New York and London change clocks change nothing here.
  EXPECT_EQ(s.NextAfter(At("2027-03-14T00:00:00Z")), At("2027-03-14T12:00:00Z"));
  EXPECT_EQ(s.NextAfter(At("2027-10-31T00:00:00Z")), At("2027-10-31T12:00:00Z"));
  EXPECT_EQ(MustCreate("30 2 * * *", "Asia/Shanghai").NextAfter(At("2027-03-14T00:00:00Z")),
            At("2027-03-14T18:30:00Z"));
}

// Australia/Lord_Howe moves by 30 minutes: +10:30 standard, +11 summer.
// 2027-10-03 02:00 (+10:30, 10-02T15:30Z) jumps to 02:30; 2027-04-04 02:00
// (+11, 04-03T15:00Z) falls back to 01:30.
TEST(CronScheduleDst, LordHoweHalfHourShift) {
  const CronSchedule spring = MustCreate("15 2 * * *", "Australia/Lord_Howe");
  EXPECT_THAT(spring.Between(At("2027-10-01T00:00:00Z"), At("2027-10-04T00:00:00Z"), 10),
              ElementsAre(At("2027-10-01T15:45:00Z"),    // 02:15 +10:30
                          At("2027-10-02T15:30:00Z"),    // gap: 02:30 +11
                          At("2027-10-03T15:15:00Z")));  // 02:15 +11
  const CronSchedule autumn = MustCreate("45 1 * * *", "Australia/Lord_Howe");
  EXPECT_THAT(autumn.Between(At("2027-04-02T00:00:00Z"), At("2027-04-05T00:00:00Z"), 10),
              ElementsAre(At("2027-04-02T14:45:00Z"),    // 01:45 +11
                          At("2027-04-03T14:45:00Z"),    // first of two 01:45s (+11)
                          At("2027-04-04T15:15:00Z")));  // 01:45 +10:30
  // 02:00 on the spring day is in the gap too, 02:30 is the first valid minute.
  const CronSchedule half = MustCreate("0,30 2 * * *", "Australia/Lord_Howe");
  EXPECT_THAT(half.Between(At("2027-10-02T15:00:00Z"), At("2027-10-02T16:30:00Z"), 10),
              ElementsAre(At("2027-10-02T15:30:00Z")));
}

}  // namespace
}  // namespace broadcastd
