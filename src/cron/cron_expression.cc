#include "cron/cron_expression.h"

#include <array>
#include <cctype>
#include <charconv>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace broadcastd {
namespace {

// What one field accepts.
struct FieldSpec {
  const char* name;
  int min;
  int max;
  const std::array<std::string_view, 13>* names;  // indexed by value, or null
};

constexpr std::array<std::string_view, 13> kMonthNames = {
    "", "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 13> kWeekdayNames = {
    "sun", "mon", "tue", "wed", "thu", "fri", "sat", "", "", "", "", "", ""};

// Day of week accepts 7 for Sunday; it is folded to 0 after parsing.
const std::array<FieldSpec, 5> kFields = {{
    {"minute", 0, 59, nullptr},
    {"hour", 0, 23, nullptr},
    {"day-of-month", 1, 31, nullptr},
    {"month", 1, 12, &kMonthNames},
    {"day-of-week", 0, 7, &kWeekdayNames},
}};
constexpr size_t kDayOfWeek = 4;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string FieldError(const FieldSpec& spec, std::string_view why) {
  return std::string(spec.name) + ": " + std::string(why);
}

// One value of a field: a number or, where the field has them, a name.
Result<int> ParseValue(const FieldSpec& spec, std::string_view token) {
  if (token.empty()) return Fail(ErrorKind::kInvalid, FieldError(spec, "a value is missing"));
  if (spec.names != nullptr && std::isalpha(static_cast<unsigned char>(token.front()))) {
    const std::string lower = Lower(token);
    for (size_t i = 0; i < spec.names->size(); ++i) {
      if (!(*spec.names)[i].empty() && (*spec.names)[i] == lower) return static_cast<int>(i);
    }
    return Fail(ErrorKind::kInvalid,
                FieldError(spec, "'" + std::string(token) + "' is not a " + spec.name + " name"));
  }
  int value = 0;
  const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (ec == std::errc::result_out_of_range) {
    return Fail(ErrorKind::kInvalid,
                FieldError(spec, std::string(token) + " is out of range " +
                                     std::to_string(spec.min) + "-" + std::to_string(spec.max)));
  }
  if (ec != std::errc() || end != token.data() + token.size() || token.front() == '-') {
    return Fail(ErrorKind::kInvalid,
                FieldError(spec, "'" + std::string(token) + "' is not a number"));
  }
  if (value < spec.min || value > spec.max) {
    return Fail(ErrorKind::kInvalid,
                FieldError(spec, std::to_string(value) + " is out of range " +
                                     std::to_string(spec.min) + "-" + std::to_string(spec.max)));
  }
  return value;
}

// Parses one comma-separated item into `bits` (indexed by value).
Status ParseItem(const FieldSpec& spec, bool is_day_of_week, std::string_view item,
                 std::vector<bool>& bits) {
  if (item.empty()) return Fail(ErrorKind::kInvalid, FieldError(spec, "empty item in list"));
  std::string_view base = item;
  int step = 1;
  bool has_step = false;
  if (const size_t slash = item.find('/'); slash != std::string_view::npos) {
    base = item.substr(0, slash);
    const std::string_view step_text = item.substr(slash + 1);
    int parsed = 0;
    const auto [end, ec] =
        std::from_chars(step_text.data(), step_text.data() + step_text.size(), parsed);
    if (step_text.empty() || ec != std::errc() || end != step_text.data() + step_text.size() ||
        step_text.front() == '-') {
      return Fail(ErrorKind::kInvalid,
                  FieldError(spec, "step '" + std::string(step_text) + "' is not a number"));
    }
    if (parsed < 1) return Fail(ErrorKind::kInvalid, FieldError(spec, "step 0 must be at least 1"));
    step = parsed;
    has_step = true;
  }

  int low = spec.min;
  int high = is_day_of_week ? 6 : spec.max;  // `*` in day-of-week is 0-6
  if (base == "*") {
    // full range
  } else if (const size_t dash = base.find('-'); dash != std::string_view::npos && dash > 0) {
    auto first = ParseValue(spec, base.substr(0, dash));
    if (!first) return std::unexpected(first.error());
    auto last = ParseValue(spec, base.substr(dash + 1));
    if (!last) return std::unexpected(last.error());
    low = *first;
    high = *last;
    // "fri-sun": a day-of-week range may end at Sunday written as 0.
    if (is_day_of_week && high == 0 && low > 0) high = 7;
    if (low > high) {
      return Fail(ErrorKind::kInvalid,
                  FieldError(spec, "range " + std::string(base) + " runs backwards"));
    }
  } else {
    auto value = ParseValue(spec, base);
    if (!value) return std::unexpected(value.error());
    low = *value;
    // "5/10" means from 5 to the end of the field in steps of 10.
    high = has_step ? (is_day_of_week ? 6 : spec.max) : low;
    if (has_step && low > high) high = low;
  }
  for (int v = low; v <= high; v += step) bits[static_cast<size_t>(v)] = true;
  return {};
}

// The fields of `text`, split on whitespace.
std::vector<std::string_view> SplitFields(std::string_view text) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    const size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) fields.push_back(text.substr(start, i - start));
  }
  return fields;
}

// The values field number `f` allows (a comma-separated list of items), by value.
Result<std::vector<bool>> ParseField(size_t f, std::string_view field) {
  const FieldSpec& spec = kFields[f];
  std::vector<bool> bits(static_cast<size_t>(spec.max) + 1, false);
  std::string_view rest = field;
  while (true) {
    const size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    if (Status s = ParseItem(spec, f == kDayOfWeek, item, bits); !s) {
      return std::unexpected(s.error());
    }
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return bits;
}

}  // namespace

Result<CronExpression> CronExpression::Parse(std::string_view text) {
  const std::vector<std::string_view> fields = SplitFields(text);
  if (!fields.empty() && fields.front().starts_with('@')) {
    return Fail(ErrorKind::kInvalid,
                "'" + std::string(fields.front()) +
                    "' is not supported; write the five fields (minute hour day-of-month month "
                    "day-of-week)");
  }
  if (fields.size() != kFields.size()) {
    return Fail(ErrorKind::kInvalid,
                "expected 5 fields (minute hour day-of-month month day-of-week), got " +
                    std::to_string(fields.size()));
  }

  CronExpression expr;
  for (size_t f = 0; f < kFields.size(); ++f) {
    auto bits = ParseField(f, fields[f]);
    if (!bits) return std::unexpected(bits.error());
    for (size_t v = 0; v < bits->size(); ++v) {
      if (!(*bits)[v]) continue;
      switch (f) {
        case 0:
          expr.minutes_.set(v);
          break;
        case 1:
          expr.hours_.set(v);
          break;
        case 2:
          expr.days_of_month_.set(v);
          break;
        case 3:
          expr.months_.set(v);
          break;
        default:
          expr.days_of_week_.set(v % 7);  // 7 is Sunday too
          break;
      }
    }
  }
  expr.day_of_month_star_ = fields[2] == "*";
  expr.day_of_week_star_ = fields[4] == "*";
  expr.text_.clear();
  for (size_t f = 0; f < fields.size(); ++f) {
    if (f > 0) expr.text_ += ' ';
    expr.text_ += fields[f];
  }
  return expr;
}

bool CronExpression::MatchesDay(date::year_month_day day) const {
  if (!day.ok() || !MatchesMonth(day.month())) return false;
  const bool dom = days_of_month_.test(unsigned{day.day()});
  const bool dow = days_of_week_.test(date::weekday{date::sys_days{day}}.c_encoding());
  if (!day_of_month_star_ && !day_of_week_star_) return dom || dow;
  return dom && dow;
}

bool CronExpression::Matches(date::local_time<std::chrono::minutes> minute) const {
  const auto day = date::floor<date::days>(minute);
  const date::hh_mm_ss<std::chrono::minutes> time{minute - day};
  return MatchesDay(date::year_month_day{day}) &&
         MatchesHour(static_cast<int>(time.hours().count())) &&
         MatchesMinute(static_cast<int>(time.minutes().count()));
}

}  // namespace broadcastd
