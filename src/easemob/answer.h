#pragma once
// What one answer from a broadcast endpoint proves (DESIGN.md, "Outcome
// classes"): applied, not applied (retry now, tomorrow, or never), or maybe.

#include <optional>
#include <string>

#include "core/clock.h"
#include "core/outcome.h"
#include "easemob/transport.h"

namespace broadcastd {

struct BroadcastAnswer {
  OutcomeClass outcome = OutcomeClass::kUnknown;
  std::optional<int> http_status;  // absent when no HTTP answer arrived
  std::string broadcast_id;        // kSent only: exactly the digits the server sent
  std::string vendor_error;        // the body's "error", e.g. "forbidden_op"
  std::string error_description;   // the body's "error_description"
  std::string response_body;       // the first 4096 bytes (cut on a UTF-8 boundary)
  std::string detail;              // one line for the audit table and the log
  std::optional<Duration> retry_after;
};

inline constexpr size_t kMaxStoredResponseBody = 4096;

// Classifies one transport result:
//   2xx with a readable data.id -> kSent; 2xx without one -> kUnknown;
//   429 -> kRetry; 401 -> kRetry (the client has already refreshed the token);
//   403 "... limit exceeded" -> kNextDay; 403 "... unopened" -> kUnopened;
//   other 403, 400, 404, 413, other 4xx -> kPermanent;
//   3xx (redirects are never followed, so nothing reached the endpoint) -> kPermanent;
//   5xx and anything else -> kUnknown;
//   transport kNotSent -> kRetry; kMaybeSent -> kUnknown.
// A body that is not JSON still classifies by its status. Never throws.
BroadcastAnswer ClassifyBroadcastAnswer(const TransportResult& result);

}  // namespace broadcastd
