#pragma once
// A 5-field cron expression: minute hour day-of-month month day-of-week.
// Pure: it knows civil (wall-clock) minutes only; time zones live in
// CronSchedule.

#include <date/date.h>

#include <bitset>
#include <chrono>
#include <string>
#include <string_view>

#include "core/error.h"

namespace broadcastd {

class CronExpression {
 public:
  // Parses five whitespace-separated fields. Each field is `*` or a comma list
  // of items; an item is a value (`5`), a range (`1-5`), or either of those or
  // `*` with a step (`*/15`, `10-40/10`, `5/10` meaning 5 to the field's
  // maximum in steps of 10). Months take jan-dec and days of the week sun-sat
  // (case insensitive); 0 and 7 are both Sunday, and a day-of-week range may end
  // at Sunday (`fri-sun`, `5-0`). Ranges run low to high.
  // REQUIRES nothing. On failure the message names the field and why, e.g.
  // "hour: 25 is out of range 0-23".
  static Result<CronExpression> Parse(std::string_view text);

  // Whether a local civil minute is one of the expression's. Standard cron day
  // rule: when both day-of-month and day-of-week are restricted (neither is
  // written as a plain `*`), a day matches if EITHER matches; otherwise both
  // must (the `*` one always does).
  bool Matches(date::local_time<std::chrono::minutes> minute) const;

  // The parts of Matches, so a search can skip whole months, days and hours.
  bool MatchesMonth(date::month m) const { return months_.test(unsigned{m}); }
  bool MatchesDay(date::year_month_day day) const;  // month and the day rule
  bool MatchesHour(int hour) const { return hours_.test(static_cast<size_t>(hour)); }
  bool MatchesMinute(int minute) const { return minutes_.test(static_cast<size_t>(minute)); }

  // The text as given to Parse, its fields separated by single spaces.
  const std::string& text() const { return text_; }

 private:
  CronExpression() = default;

  std::string text_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_of_month_;  // bits 1-31
  std::bitset<13> months_;         // bits 1-12
  std::bitset<7> days_of_week_;    // bit 0 is Sunday
  bool day_of_month_star_ = true;
  bool day_of_week_star_ = true;
};

}  // namespace broadcastd
