#pragma once
// RFC 3339 timestamps as campaigns and --status use them.

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

}  // namespace broadcastd
