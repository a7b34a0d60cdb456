#pragma once
// The life of a job (DESIGN.md, "Job states"):
//   scheduled -> ready -> sending -> sent | failed | unknown
// plus expired and cancelled, and ready again after a retryable answer.

#include <optional>
#include <string_view>

namespace broadcastd {

enum class JobState {
  kScheduled,  // not due yet
  kReady,      // due, waiting for the limiter (or for its not_before after a retry)
  kSending,    // claimed durably; the request may be in flight
  kSent,       // 200 and a broadcast ID
  kFailed,     // a permanent error: the request was not applied
  kUnknown,    // may have been applied; never resent automatically
  kExpired,    // not sent before its expiry
  kCancelled,  // by an operator, or because its campaign file changed or went away
};

// "scheduled", "ready", "sending", "sent", "failed", "unknown", "expired", "cancelled":
// the names in the database, --status and operator commands.
std::string_view JobStateName(JobState state);
std::optional<JobState> ParseJobState(std::string_view name);

// scheduled and ready: the jobs the scheduler may still send.
bool IsQueued(JobState state);

// The state a job leaves no more (sent, failed, expired, cancelled). unknown is not final:
// an operator resolves it.
bool IsFinal(JobState state);

}  // namespace broadcastd
