#pragma once
// RFC 3339 timestamps as campaigns and --status use them.

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error.h"

namespace broadcastd {

// Parses "2027-03-01T09:00:00+08:00", "2027-03-01T01:00:00Z" or with fractional
// seconds (kept to the millisecond). REQUIRES nothing; rejects a missing offset,
// an impossible date (2027-02-30) or time, and trailing text, naming why.
Result<TimePoint> ParseRfc3339(std::string_view text);

// "2027-03-01T01:00:00Z", or "…:00.250Z" when the milliseconds are not zero.
std::string FormatRfc3339(TimePoint t);

// "2027-03-01T01:00:00.000Z": always milliseconds, for everything shown to people and
// scripts (--status, --history, the status page), so every time parses the same way.
// Not for keys: occurrence strings stay in FormatRfc3339's form.
std::string FormatDisplayTime(TimePoint t);

// max_delay, in the config and in a campaign: how late a one-shot broadcast may still go
// out. A whole number and a unit, "90m", "24h", "2d" ("s" too), from 1 minute to 366 days,
// or "none" (nullopt: however late). Fails naming why, without repeating more than a
// short prefix of the text.
Result<std::optional<Duration>> ParseMaxDelay(std::string_view text);

// "24h", "90m", "45s": the largest of hours, minutes and seconds that `d` is a whole
// number of (days are shown as hours: "48h"); "none" for nullopt.
std::string FormatMaxDelay(std::optional<Duration> d);

}  // namespace broadcastd
