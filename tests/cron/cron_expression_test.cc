#include "cron/cron_expression.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace broadcastd {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

date::local_time<minutes> Local(int y, unsigned mo, unsigned d, int h, int mi) {
  return date::local_days{date::year{y} / mo / d} + hours{h} + minutes{mi};
}

CronExpression MustParse(std::string_view text) {
  auto expr = CronExpression::Parse(text);
  EXPECT_TRUE(expr.has_value()) << text << ": " << (expr ? "" : expr.error().message);
  if (!expr) return *CronExpression::Parse("* * * * *");
  return *expr;
}

std::string ParseError(std::string_view text) {
  auto expr = CronExpression::Parse(text);
  EXPECT_FALSE(expr.has_value()) << text << " parsed";
  return expr ? std::string() : expr.error().message;
}

std::vector<int> MatchingMinutes(const CronExpression& e) {
  std::vector<int> out;
  for (int m = 0; m < 60; ++m) {
    if (e.MatchesMinute(m)) out.push_back(m);
  }
  return out;
}

std::vector<int> MatchingHours(const CronExpression& e) {
  std::vector<int> out;
  for (int h = 0; h < 24; ++h) {
    if (e.MatchesHour(h)) out.push_back(h);
  }
  return out;
}

std::vector<unsigned> MatchingMonths(const CronExpression& e) {
  std::vector<unsigned> out;
  for (unsigned m = 1; m <= 12; ++m) {
    if (e.MatchesMonth(date::month{m})) out.push_back(m);
  }
  return out;
}

// Days of August 2027 that match; 2027-08-01 is a Sunday.
std::vector<unsigned> MatchingAugustDays(const CronExpression& e) {
  std::vector<unsigned> out;
  for (unsigned d = 1; d <= 31; ++d) {
    if (e.MatchesDay(date::year{2027} / 8 / d)) out.push_back(d);
  }
  return out;
}

TEST(CronExpressionParse, StarMatchesEveryMinute) {
  const CronExpression e = MustParse("* * * * *");
  EXPECT_EQ(MatchingMinutes(e).size(), 60u);
  EXPECT_EQ(MatchingHours(e).size(), 24u);
  EXPECT_EQ(MatchingMonths(e).size(), 12u);
  EXPECT_EQ(MatchingAugustDays(e).size(), 31u);
}

TEST(CronExpressionParse, SingleValues) {
  const CronExpression e = MustParse("7 13 * * *");
  EXPECT_THAT(MatchingMinutes(e), ElementsAre(7));
  EXPECT_THAT(MatchingHours(e), ElementsAre(13));
}

TEST(CronExpressionParse, Ranges) {
  const CronExpression e = MustParse("1-5 22-23 * 3-4 *");
  EXPECT_THAT(MatchingMinutes(e), ElementsAre(1, 2, 3, 4, 5));
  EXPECT_THAT(MatchingHours(e), ElementsAre(22, 23));
  EXPECT_THAT(MatchingMonths(e), ElementsAre(3u, 4u));
}

TEST(CronExpressionParse, Lists) {
  const CronExpression e = MustParse("1,3,5 0,12 * 1,6,12 *");
  EXPECT_THAT(MatchingMinutes(e), ElementsAre(1, 3, 5));
  EXPECT_THAT(MatchingHours(e), ElementsAre(0, 12));
  EXPECT_THAT(MatchingMonths(e), ElementsAre(1u, 6u, 12u));
}

TEST(CronExpressionParse, ListOfRangesAndValues) {
  const CronExpression e = MustParse("0-2,30,57-59 * * * *");
  EXPECT_THAT(MatchingMinutes(e), ElementsAre(0, 1, 2, 30, 57, 58, 59));
}

TEST(CronExpressionParse, StarStep) {
  EXPECT_THAT(MatchingMinutes(MustParse("*/15 * * * *")), ElementsAre(0, 15, 30, 45));
  EXPECT_THAT(MatchingHours(MustParse("0 */7 * * *")), ElementsAre(0, 7, 14, 21));
  // Day of month starts at 1, month at 1.
  EXPECT_THAT(MatchingAugustDays(MustParse("0 0 */10 * *")), ElementsAre(1u, 11u, 21u, 31u));
  EXPECT_THAT(MatchingMonths(MustParse("0 0 1 */4 *")), ElementsAre(1u, 5u, 9u));
}

TEST(CronExpressionParse, RangeStep) {
  EXPECT_THAT(MatchingMinutes(MustParse("10-40/10 * * * *")), ElementsAre(10, 20, 30, 40));
  EXPECT_THAT(MatchingMinutes(MustParse("10-45/10 * * * *")), ElementsAre(10, 20, 30, 40));
}

TEST(CronExpressionParse, ValueStepRunsToTheEndOfTheField) {
  EXPECT_THAT(MatchingMinutes(MustParse("5/10 * * * *")), ElementsAre(5, 15, 25, 35, 45, 55));
  EXPECT_THAT(MatchingHours(MustParse("0 20/2 * * *")), ElementsAre(20, 22));
}

TEST(CronExpressionParse, StepLargerThanRangeKeepsTheStart) {
  EXPECT_THAT(MatchingMinutes(MustParse("*/60 * * * *")), ElementsAre(0));
  EXPECT_THAT(MatchingMinutes(MustParse("50/30 * * * *")), ElementsAre(50));
}

TEST(CronExpressionParse, FieldBoundaries) {
  const CronExpression e = MustParse("0,59 0,23 1,31 1,12 0,6");
  EXPECT_THAT(MatchingMinutes(e), ElementsAre(0, 59));
  EXPECT_THAT(MatchingHours(e), ElementsAre(0, 23));
  EXPECT_THAT(MatchingMonths(e), ElementsAre(1u, 12u));
}

TEST(CronExpressionParse, ExtraWhitespaceIsAllowedAndNormalised) {
  const CronExpression e = MustParse("  */5\t1  *  * *  ");
  EXPECT_EQ(e.text(), "*/5 1 * * *");
  EXPECT_THAT(MatchingHours(e), ElementsAre(1));
}

TEST(CronExpressionNames, MonthNamesAnyCase) {
  EXPECT_THAT(MatchingMonths(MustParse("0 0 1 jan *")), ElementsAre(1u));
  EXPECT_THAT(MatchingMonths(MustParse("0 0 1 DEC *")), ElementsAre(12u));
  EXPECT_THAT(MatchingMonths(MustParse("0 0 1 Feb,aUg *")), ElementsAre(2u, 8u));
  EXPECT_THAT(MatchingMonths(MustParse("0 0 1 mar-may *")), ElementsAre(3u, 4u, 5u));
  EXPECT_THAT(MatchingMonths(MustParse("0 0 1 jan-dec/3 *")), ElementsAre(1u, 4u, 7u, 10u));
}

TEST(CronExpressionNames, WeekdayNamesAnyCase) {
  // August 2027: Sundays 1 8 15 22 29, Mondays 2 9 16 23 30, Fridays 6 13 20 27.
  EXPECT_THAT(MatchingAugustDays(MustParse("0 0 * * MON")), ElementsAre(2u, 9u, 16u, 23u, 30u));
  EXPECT_THAT(MatchingAugustDays(MustParse("0 0 * * Sun")), ElementsAre(1u, 8u, 15u, 22u, 29u));
  EXPECT_THAT(MatchingAugustDays(MustParse("0 0 * * mon-fri")).size(), 22u);
  EXPECT_THAT(MatchingAugustDays(MustParse("0 0 * * sat,sun")),
              ElementsAre(1u, 7u, 8u, 14u, 15u, 21u, 22u, 28u, 29u));
}

TEST(CronExpressionNames, SundayIsZeroAndSeven) {
  const std::vector<unsigned> sundays = {1u, 8u, 15u, 22u, 29u};
  EXPECT_EQ(MatchingAugustDays(MustParse("0 0 * * 0")), sundays);
  EXPECT_EQ(MatchingAugustDays(MustParse("0 0 * * 7")), sundays);
  // Ranges ending at Sunday, written as 7, sun or 0.
  const std::vector<unsigned> fri_to_sun = {1u,  6u,  7u,  8u,  13u, 14u, 15u,
                                            20u, 21u, 22u, 27u, 28u, 29u};
  EXPECT_EQ(MatchingAugustDays(MustParse("0 0 * * 5-7")), fri_to_sun);
  EXPECT_EQ(MatchingAugustDays(MustParse("0 0 * * fri-sun")), fri_to_sun);
  EXPECT_EQ(MatchingAugustDays(MustParse("0 0 * * 5-0")), fri_to_sun);
  EXPECT_EQ(MatchingAugustDays(MustParse("0 0 * * 0-7")).size(), 31u);
}

TEST(CronExpressionErrors, FieldCount) {
  EXPECT_THAT(ParseError(""), HasSubstr("expected 5 fields"));
  EXPECT_THAT(ParseError("* * * *"), HasSubstr("got 4"));
  EXPECT_THAT(ParseError("* * * * * *"), HasSubstr("got 6"));
  EXPECT_THAT(ParseError("@daily"), HasSubstr("'@daily' is not supported"));
}

TEST(CronExpressionErrors, OutOfRangeNamesTheFieldAndTheRange) {
  EXPECT_EQ(ParseError("60 * * * *"), "minute: 60 is out of range 0-59");
  EXPECT_EQ(ParseError("0 25 * * *"), "hour: 25 is out of range 0-23");
  EXPECT_EQ(ParseError("0 0 0 * *"), "day-of-month: 0 is out of range 1-31");
  EXPECT_EQ(ParseError("0 0 32 * *"), "day-of-month: 32 is out of range 1-31");
  EXPECT_EQ(ParseError("0 0 * 0 *"), "month: 0 is out of range 1-12");
  EXPECT_EQ(ParseError("0 0 * 13 *"), "month: 13 is out of range 1-12");
  EXPECT_EQ(ParseError("0 0 * * 8"), "day-of-week: 8 is out of range 0-7");
  EXPECT_EQ(ParseError("0 1-24 * * *"), "hour: 24 is out of range 0-23");
}

TEST(CronExpressionErrors, HugeNumberIsOutOfRangeNotAnOverflow) {
  EXPECT_THAT(ParseError("99999999999999999999 * * * *"),
              HasSubstr("minute: 99999999999999999999 is out of range 0-59"));
}

TEST(CronExpressionErrors, NotANumber) {
  EXPECT_EQ(ParseError("x * * * *"), "minute: 'x' is not a number");
  EXPECT_EQ(ParseError("0 1a * * *"), "hour: '1a' is not a number");
  EXPECT_EQ(ParseError("0 -1 * * *"), "hour: '-1' is not a number");
  EXPECT_EQ(ParseError("0 0 1.5 * *"), "day-of-month: '1.5' is not a number");
  // Names belong to month and day-of-week only.
  EXPECT_EQ(ParseError("0 0 mon * *"), "day-of-month: 'mon' is not a number");
}

TEST(CronExpressionErrors, UnknownNames) {
  EXPECT_EQ(ParseError("0 0 * foo *"), "month: 'foo' is not a month name");
  EXPECT_EQ(ParseError("0 0 * * monday"), "day-of-week: 'monday' is not a day-of-week name");
  EXPECT_EQ(ParseError("0 0 * * jan"), "day-of-week: 'jan' is not a day-of-week name");
}

TEST(CronExpressionErrors, Steps) {
  EXPECT_EQ(ParseError("*/0 * * * *"), "minute: step 0 must be at least 1");
  EXPECT_EQ(ParseError("*/x * * * *"), "minute: step 'x' is not a number");
  EXPECT_EQ(ParseError("*/ * * * *"), "minute: step '' is not a number");
  EXPECT_EQ(ParseError("0 */-2 * * *"), "hour: step '-2' is not a number");
  EXPECT_EQ(ParseError("0 1-5/2/3 * * *"), "hour: step '2/3' is not a number");
}

TEST(CronExpressionErrors, Ranges) {
  EXPECT_EQ(ParseError("0 5-1 * * *"), "hour: range 5-1 runs backwards");
  EXPECT_EQ(ParseError("0 0 * dec-jan *"), "month: range dec-jan runs backwards");
  EXPECT_EQ(ParseError("0 1- * * *"), "hour: a value is missing");
  EXPECT_EQ(ParseError("0 1-2-3 * * *"), "hour: '2-3' is not a number");
}

TEST(CronExpressionErrors, Lists) {
  EXPECT_EQ(ParseError("1,,2 * * * *"), "minute: empty item in list");
  EXPECT_EQ(ParseError("1, * * * *"), "minute: empty item in list");
  EXPECT_EQ(ParseError("0 0 ,1 * *"), "day-of-month: empty item in list");
}

// Standard cron day rule: both restricted means either may match.
TEST(CronExpressionDayRule, BothRestrictedMatchesEither) {
  const CronExpression e = MustParse("0 0 13 * fri");
  // Fridays 6 13 20 27 plus the 13th.
  EXPECT_THAT(MatchingAugustDays(e), ElementsAre(6u, 13u, 20u, 27u));
  EXPECT_TRUE(e.MatchesDay(date::year{2027} / 9 / 13));   // a Monday, but the 13th
  EXPECT_TRUE(e.MatchesDay(date::year{2027} / 9 / 3));    // a Friday, not the 13th
  EXPECT_FALSE(e.MatchesDay(date::year{2027} / 9 / 14));  // neither
}

TEST(CronExpressionDayRule, OneStarMeansTheOtherDecides) {
  EXPECT_THAT(MatchingAugustDays(MustParse("0 0 13 * *")), ElementsAre(13u));
  EXPECT_THAT(MatchingAugustDays(MustParse("0 0 * * fri")), ElementsAre(6u, 13u, 20u, 27u));
}

TEST(CronExpressionDayRule, StepOrFullRangeStillCountsAsRestricted) {
  // Only a plain `*` leaves a field unrestricted.
  EXPECT_THAT(MatchingAugustDays(MustParse("0 0 */10 * sun")),
              ElementsAre(1u, 8u, 11u, 15u, 21u, 22u, 29u, 31u));
  EXPECT_EQ(MatchingAugustDays(MustParse("0 0 1-31 * sun")).size(), 31u);
}

TEST(CronExpressionDayRule, MonthStillAppliesToBoth) {
  const CronExpression e = MustParse("0 0 13 jan fri");
  EXPECT_TRUE(e.MatchesDay(date::year{2027} / 1 / 13));   // Wednesday the 13th of January
  EXPECT_TRUE(e.MatchesDay(date::year{2027} / 1 / 8));    // a Friday in January
  EXPECT_FALSE(e.MatchesDay(date::year{2027} / 8 / 13));  // Friday the 13th, but August
  EXPECT_FALSE(e.MatchesDay(date::year{2027} / 2 / 5));   // a Friday in February
}

TEST(CronExpressionMatches, WholeMinute) {
  const CronExpression e = MustParse("30 9 * * mon-fri");
  EXPECT_TRUE(e.Matches(Local(2027, 8, 2, 9, 30)));    // Monday
  EXPECT_FALSE(e.Matches(Local(2027, 8, 1, 9, 30)));   // Sunday
  EXPECT_FALSE(e.Matches(Local(2027, 8, 2, 9, 31)));   // wrong minute
  EXPECT_FALSE(e.Matches(Local(2027, 8, 2, 10, 30)));  // wrong hour
}

TEST(CronExpressionMatches, LeapDayAndEndOfMonth) {
  const CronExpression leap = MustParse("0 0 29 2 *");
  EXPECT_TRUE(leap.Matches(Local(2028, 2, 29, 0, 0)));
  EXPECT_FALSE(leap.Matches(Local(2027, 3, 1, 0, 0)));  // not a stand-in for 2027-02-29
  const CronExpression last = MustParse("0 0 31 * *");
  EXPECT_TRUE(last.Matches(Local(2027, 8, 31, 0, 0)));
  EXPECT_FALSE(last.Matches(Local(2027, 9, 30, 0, 0)));
  EXPECT_FALSE(last.Matches(Local(2027, 10, 1, 0, 0)));
}

}  // namespace
}  // namespace broadcastd
