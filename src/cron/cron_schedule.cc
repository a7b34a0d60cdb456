#include "cron/cron_schedule.h"

#include <date/tz.h>

#include <chrono>
#include <exception>
#include <string>

namespace broadcastd {
namespace {

using LocalMinutes = date::local_time<std::chrono::minutes>;

// The instant a matching local minute fires at (see the header's DST rules).
TimePoint FiringInstant(const date::time_zone& zone, LocalMinutes local) {
  const date::local_seconds seconds{local};
  const date::local_info info = zone.get_info(seconds);
  switch (info.result) {
    case date::local_info::unique:
    case date::local_info::ambiguous:  // `first` is the earlier of the two
      return std::chrono::time_point_cast<Duration>(date::sys_seconds{seconds.time_since_epoch()} -
                                                    info.first.offset);
    case date::local_info::nonexistent:
      // In a gap: the gap ends where the next offset begins.
      return std::chrono::time_point_cast<Duration>(info.first.end);
  }
  return TimePoint{};
}

}  // namespace

Result<CronSchedule> CronSchedule::Create(std::string_view cron, std::string_view timezone) {
  auto expression = CronExpression::Parse(cron);
  if (!expression) return std::unexpected(expression.error());
  const date::time_zone* zone = nullptr;
  try {
    zone = date::locate_zone(timezone);
  } catch (const std::exception&) {
    zone = nullptr;
  }
  if (zone == nullptr) {
    return Fail(ErrorKind::kInvalid,
                "time zone '" + std::string(timezone) + "' is not in the tz database");
  }
  return CronSchedule(std::move(*expression), zone, std::string(timezone));
}

// Firing instants never decrease as local time increases: minutes before a gap
// fire before it, those in it at its end, and an ambiguous minute at its first
// occurrence, which is before any later local minute's instant. So the search
// walks local minutes upward from the local minute of `after` (any earlier
// local minute fires at or before `after`) and the first instant past `after`
// is the answer.
std::optional<TimePoint> CronSchedule::NextAfter(TimePoint after) const {
  using std::chrono::hours;
  using std::chrono::minutes;

  const date::local_time<Duration> local_after = zone_->to_local(after);
  const LocalMinutes start = date::floor<minutes>(local_after);
  const date::local_days first_day = date::floor<date::days>(start);
  const date::hh_mm_ss<minutes> start_time{start - first_day};
  const int start_hour = static_cast<int>(start_time.hours().count());
  const int start_minute = static_cast<int>(start_time.minutes().count());

  const date::year_month_day first_ymd{first_day};
  const date::local_days horizon{first_ymd + date::years{kHorizonYears}};

  for (date::local_days day = first_day; day <= horizon;) {
    const date::year_month_day ymd{day};
    if (!expression_.MatchesMonth(ymd.month())) {
      // Skip to the first of the next month.
      day = date::local_days{(ymd.year() / ymd.month() + date::months{1}) / 1};
      continue;
    }
    if (expression_.MatchesDay(ymd)) {
      const bool first = day == first_day;
      for (int h = first ? start_hour : 0; h < 24; ++h) {
        if (!expression_.MatchesHour(h)) continue;
        const int from_minute = first && h == start_hour ? start_minute : 0;
        for (int m = from_minute; m < 60; ++m) {
          if (!expression_.MatchesMinute(m)) continue;
          const TimePoint instant = FiringInstant(*zone_, day + hours{h} + minutes{m});
          if (instant > after) return instant;
        }
      }
    }
    day += date::days{1};
  }
  return std::nullopt;
}

std::vector<TimePoint> CronSchedule::Between(TimePoint from, TimePoint to, size_t max) const {
  std::vector<TimePoint> out;
  if (from > to || max == 0) return out;
  // Occurrences are whole minutes, so "strictly after from - 1ms" is "at or after from".
  std::optional<TimePoint> next = NextAfter(from - Duration{1});
  while (next && *next <= to && out.size() < max) {
    out.push_back(*next);
    next = NextAfter(*next);
  }
  return out;
}

}  // namespace broadcastd
