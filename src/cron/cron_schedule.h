#pragma once
// A cron expression read in an IANA time zone, turned into UTC instants.
//
// Daylight-saving rules:
// - A matching local time that does not exist (in a spring-forward gap) fires
//   once, at the first valid instant after the gap (the gap's end). Several
//   matching minutes inside one gap fire once between them.
// - A matching local time that occurs twice (fall-back) fires once, at its
//   first occurrence.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "cron/cron_expression.h"

namespace date {
class time_zone;
}

namespace broadcastd {

class CronSchedule {
 public:
  // REQUIRES nothing. Fails with the expression's error, or with one naming the
  // zone when `timezone` is not in the system's tz database.
  static Result<CronSchedule> Create(std::string_view cron, std::string_view timezone);

  // The first occurrence strictly after `after`, or nullopt when there is none
  // within the search horizon (kHorizonYears), e.g. "0 0 30 2 *".
  // Skips months, days and hours that cannot match, so sparse expressions are
  // as fast as dense ones.
  std::optional<TimePoint> NextAfter(TimePoint after) const;

  // The occurrences in [from, to], in increasing order, at most `max` of them
  // (the earliest ones). Empty when from > to or max == 0.
  std::vector<TimePoint> Between(TimePoint from, TimePoint to, size_t max) const;

  const CronExpression& expression() const { return expression_; }
  const std::string& timezone() const { return timezone_; }

  // Long enough to reach the next February 29 across a skipped leap year
  // (2096 -> 2104).
  static constexpr int kHorizonYears = 9;

 private:
  CronSchedule(CronExpression expression, const date::time_zone* zone, std::string timezone)
      : expression_(std::move(expression)), zone_(zone), timezone_(std::move(timezone)) {}

  CronExpression expression_;
  const date::time_zone* zone_;  // owned by date's tz database, lives for the process
  std::string timezone_;
};

}  // namespace broadcastd
