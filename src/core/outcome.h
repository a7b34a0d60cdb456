#pragma once
// What an answer from the broadcast endpoint proves about the request
// (DESIGN.md, "Outcome classes"). Shared by the client that classifies the
// answer, the store that records it and the scheduler that reacts to it.

#include <optional>
#include <string_view>

namespace broadcastd {

enum class OutcomeClass {
  kSent,       // 200 with a readable data.id
  kRetry,      // not applied: 429, failure before the request left, 401 after one refresh
  kNextDay,    // not applied: 403 "... limit exceeded"; the day's budget is spent
  kPermanent,  // not applied: 400, 404, 413 (and other 4xx)
  kUnopened,   // not applied: 403 "... unopened"; permanent, and the endpoint is paused
  kUnknown,    // maybe applied: timeout after sending, reset, empty reply, 5xx, 200 without id
};

inline std::string_view OutcomeName(OutcomeClass c) {
  switch (c) {
    case OutcomeClass::kSent:
      return "sent";
    case OutcomeClass::kRetry:
      return "retry";
    case OutcomeClass::kNextDay:
      return "next_day";
    case OutcomeClass::kPermanent:
      return "permanent";
    case OutcomeClass::kUnopened:
      return "unopened";
    case OutcomeClass::kUnknown:
      return "unknown";
  }
  return "?";
}

inline std::optional<OutcomeClass> ParseOutcome(std::string_view name) {
  for (auto c : {OutcomeClass::kSent, OutcomeClass::kRetry, OutcomeClass::kNextDay,
                 OutcomeClass::kPermanent, OutcomeClass::kUnopened, OutcomeClass::kUnknown}) {
    if (OutcomeName(c) == name) return c;
  }
  return std::nullopt;
}

}  // namespace broadcastd
