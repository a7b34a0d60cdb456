#include "core/time_format.h"

#include <date/date.h>

#include <charconv>
#include <cstdio>

namespace broadcastd {
namespace {

// Reads exactly `width` digits at text[pos]; advances pos.
bool ReadDigits(std::string_view text, size_t& pos, size_t width, int& out) {
  if (pos + width > text.size()) return false;
  int value = 0;
  for (size_t i = 0; i < width; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  pos += width;
  out = value;
  return true;
}

bool Expect(std::string_view text, size_t& pos, char c) {
  if (pos < text.size() && text[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

// Reads the optional fraction of a second at text[pos] (".5", ".123456": milliseconds,
// finer digits dropped); advances pos. Returns why it is malformed, or nullptr.
const char* ReadFraction(std::string_view text, size_t& pos, int& millis) {
  millis = 0;
  if (pos >= text.size() || text[pos] != '.') return nullptr;
  ++pos;
  size_t digits = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    if (digits < 3) millis = millis * 10 + (text[pos] - '0');
    ++digits;
    ++pos;
  }
  if (digits == 0) return "no digits after '.'";
  for (size_t i = digits; i < 3; ++i) millis *= 10;
  return nullptr;
}

// Reads the offset at text[pos] ("Z", "+08:00"); advances pos. Returns why it is
// missing or malformed, or nullptr.
const char* ReadOffset(std::string_view text, size_t& pos, int& offset_minutes) {
  offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
    return nullptr;
  }
  if (pos >= text.size() || (text[pos] != '+' && text[pos] != '-')) {
    return "missing offset (Z or +HH:MM)";
  }
  const int sign = text[pos] == '-' ? -1 : 1;
  ++pos;
  int oh = 0, om = 0;
  if (!ReadDigits(text, pos, 2, oh) || !Expect(text, pos, ':') || !ReadDigits(text, pos, 2, om) ||
      oh > 23 || om > 59) {
    return "offset must be +HH:MM or -HH:MM";
  }
  offset_minutes = sign * (oh * 60 + om);
  return nullptr;
}

}  // namespace

Result<TimePoint> ParseRfc3339(std::string_view text) {
  auto bad = [&](const char* why) {
    std::string message = "\"";
    message.append(text.substr(0, 64));
    message.append("\" is not an RFC 3339 time with offset (like 2027-03-01T09:00:00+08:00): ");
    message.append(why);
    return Fail(ErrorKind::kInvalid, std::move(message));
  };
  size_t pos = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!ReadDigits(text, pos, 4, y) || !Expect(text, pos, '-') || !ReadDigits(text, pos, 2, mo) ||
      !Expect(text, pos, '-') || !ReadDigits(text, pos, 2, d)) {
    return bad("date must be YYYY-MM-DD");
  }
  if (pos >= text.size() || (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ')) {
    return bad("missing 'T' and time of day");
  }
  ++pos;
  if (!ReadDigits(text, pos, 2, h) || !Expect(text, pos, ':') || !ReadDigits(text, pos, 2, mi) ||
      !Expect(text, pos, ':') || !ReadDigits(text, pos, 2, s)) {
    return bad("time must be HH:MM:SS");
  }
  int millis = 0;
  if (const char* why = ReadFraction(text, pos, millis)) return bad(why);
  int offset_minutes = 0;
  if (const char* why = ReadOffset(text, pos, offset_minutes)) return bad(why);
  if (pos != text.size()) return bad("unexpected text after the offset");

  date::year_month_day ymd{date::year{y}, date::month{static_cast<unsigned>(mo)},
                           date::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return bad("no such date");
  if (h > 23 || mi > 59 || s > 60) return bad("no such time of day");
  if (s == 60) s = 59;  // leap second: the clock we compare with has none

  auto local = date::sys_days{ymd} + std::chrono::hours{h} + std::chrono::minutes{mi} +
               std::chrono::seconds{s} + Duration{millis};
  return TimePoint{local - std::chrono::minutes{offset_minutes}};
}

std::string FormatRfc3339(TimePoint t) {
  auto day = date::floor<date::days>(t);
  date::year_month_day ymd{day};
  date::hh_mm_ss<Duration> tod{t - day};
  char buf[48];
  int ms = static_cast<int>(tod.subseconds().count());
  if (ms != 0) {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", int(ymd.year()),
                  unsigned(ymd.month()), unsigned(ymd.day()), int(tod.hours().count()),
                  int(tod.minutes().count()), int(tod.seconds().count()), ms);
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", int(ymd.year()),
                  unsigned(ymd.month()), unsigned(ymd.day()), int(tod.hours().count()),
                  int(tod.minutes().count()), int(tod.seconds().count()));
  }
  return buf;
}

std::string FormatDisplayTime(TimePoint t) {
  auto day = date::floor<date::days>(t);
  date::year_month_day ymd{day};
  date::hh_mm_ss<Duration> tod{t - day};
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()), int(tod.hours().count()),
                int(tod.minutes().count()), int(tod.seconds().count()),
                static_cast<int>(tod.subseconds().count()));
  return buf;
}

Result<std::optional<Duration>> ParseMaxDelay(std::string_view text) {
  if (text == "none") return std::optional<Duration>();
  auto bad = [&](const char* why) {
    std::string message = "\"";
    message.append(text.substr(0, 32));
    message.append("\" ");
    message.append(why);
    message.append(": give a duration such as 90m, 24h or 2d (1m to 366d), or none");
    return Fail(ErrorKind::kInvalid, message);
  };
  if (text.size() < 2) return bad("is not a duration");
  int64_t count = 0;
  const char* first = text.data();
  const char* last = text.data() + text.size() - 1;
  auto [end, ec] = std::from_chars(first, last, count);
  if (ec != std::errc() || end != last || count < 0 || text[0] == '+') {
    return bad("is not a duration");
  }
  constexpr int64_t kMaxCount = 366LL * 86400;  // in seconds: bounds every unit's count
  Duration unit;
  switch (*last) {
    case 's':
      unit = std::chrono::seconds(1);
      break;
    case 'm':
      unit = std::chrono::minutes(1);
      break;
    case 'h':
      unit = std::chrono::hours(1);
      break;
    case 'd':
      unit = std::chrono::hours(24);
      break;
    default:
      return bad("has no unit (s, m, h or d)");
  }
  if (count > kMaxCount) return bad("is out of range");
  const Duration value = unit * count;
  if (value < std::chrono::minutes(1) || value > std::chrono::hours(24 * 366)) {
    return bad("is out of range");
  }
  return std::optional<Duration>(value);
}

std::string FormatMaxDelay(std::optional<Duration> d) {
  if (!d) return "none";
  if (*d % std::chrono::hours(1) == Duration(0)) {
    return std::to_string(*d / std::chrono::hours(1)) + "h";
  }
  if (*d % std::chrono::minutes(1) == Duration(0)) {
    return std::to_string(*d / std::chrono::minutes(1)) + "m";
  }
  if (*d % std::chrono::seconds(1) == Duration(0)) {
    return std::to_string(*d / std::chrono::seconds(1)) + "s";
  }
  return std::to_string(d->count()) + "ms";
}

}  // namespace broadcastd
