#include "store/job_state.h"

#include <array>

namespace broadcastd {

namespace {

constexpr std::array<JobState, 8> kAllStates = {
    JobState::kScheduled, JobState::kReady,   JobState::kSending, JobState::kSent,
    JobState::kFailed,    JobState::kUnknown, JobState::kExpired, JobState::kCancelled};

}  // namespace

std::string_view JobStateName(JobState state) {
  switch (state) {
    case JobState::kScheduled:
      return "scheduled";
    case JobState::kReady:
      return "ready";
    case JobState::kSending:
      return "sending";
    case JobState::kSent:
      return "sent";
    case JobState::kFailed:
      return "failed";
    case JobState::kUnknown:
      return "unknown";
    case JobState::kExpired:
      return "expired";
    case JobState::kCancelled:
      return "cancelled";
  }
  return "?";
}

std::optional<JobState> ParseJobState(std::string_view name) {
  for (JobState s : kAllStates) {
    if (JobStateName(s) == name) return s;
  }
  return std::nullopt;
}

bool IsQueued(JobState state) { return state == JobState::kScheduled || state == JobState::kReady; }

bool IsFinal(JobState state) {
  return state == JobState::kSent || state == JobState::kFailed || state == JobState::kExpired ||
         state == JobState::kCancelled;
}

}  // namespace broadcastd
