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

}  // namespace broadcastd
