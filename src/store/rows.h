#pragma once
// What the store hands back: one struct per table row, already decoded (times as
// TimePoint, states as enums). Plain values; reading them never touches the database.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/outcome.h"
#include "core/target.h"
#include "store/job_state.h"

namespace broadcastd {

// What the folder shows for one file.
enum class CampaignStatus {
  kOk,        // accepted; its campaign's jobs follow the file
  kRejected,  // the file is invalid; the jobs from its last good version are kept
  kRemoved,   // the file is gone; its campaign's jobs no attempt may have reached were
              // cancelled, or the campaign moved to another file
  kRefused,   // the folder reader would not read it (untrusted, not a regular file, …);
              // the jobs from its last good version are kept
};
// "ok" | "rejected" | "removed" | "refused"
std::string_view CampaignStatusName(CampaignStatus status);
std::optional<CampaignStatus> ParseCampaignStatus(std::string_view name);

// One file of campaigns_dir and the campaign it carries.
struct CampaignRow {
  int64_t id = 0;           // the campaign's row (jobs' campaign_ref); 0 when none
  std::string file;         // name inside campaigns_dir
  std::string campaign_id;  // the campaign it holds (or, removed, held last); may be empty
  std::string content_hash;
  CampaignStatus status = CampaignStatus::kOk;
  std::string last_error;  // why it was rejected or refused; empty otherwise
  std::string app;
  int64_t priority = 0;
  TimePoint updated_at;
};

struct JobRow {
  int64_t id = 0;  // insertion order
  int64_t campaign_ref = 0;
  std::string file;  // the file that carries its campaign now; empty when none
  std::string campaign_id;
  std::string broadcast;   // the broadcast's name
  std::string occurrence;  // "once", or the occurrence's RFC 3339 UTC time
  std::string app;
  BroadcastTarget target = BroadcastTarget::kUsers;
  std::string body;  // the JSON request body, verbatim
  JobState state = JobState::kScheduled;
  TimePoint due;
  std::optional<TimePoint> expires;
  int64_t priority = 0;
  int attempts = 0;  // requests claimed for it (a claim counts even if it never ended)
  std::optional<TimePoint> not_before;      // after a retryable answer
  std::optional<std::string> broadcast_id;  // exactly as the server sent it
  std::string last_error;
  TimePoint created_at;
  TimePoint updated_at;
};

// What the scheduler needs of a queued job (Store::ForEachQueuedJob): no body, no names.
// Handed to a callback; `app` points into the database's row and is valid only during
// the call.
struct QueuedJobRow {
  int64_t id = 0;
  std::string_view app;
  BroadcastTarget target = BroadcastTarget::kUsers;
  JobState state = JobState::kScheduled;
  int64_t priority = 0;
  TimePoint due;
  std::optional<TimePoint> expires;
  std::optional<TimePoint> not_before;
};

// One request: the audit. The limiter rebuilds its windows from these.
struct AttemptRow {
  int64_t id = 0;
  int64_t job_id = 0;
  std::string app;
  BroadcastTarget target = BroadcastTarget::kUsers;
  TimePoint started_at;
  std::optional<TimePoint> ended_at;  // none while in flight, or if the daemon stopped
  std::optional<int> http_status;
  std::optional<OutcomeClass> outcome;  // none while in flight
  std::string vendor_error;
  std::string error_description;
  std::optional<std::string> broadcast_id;
  std::string response_body;  // at most kMaxResponseBody bytes
  std::string detail;
  std::optional<Duration> retry_after;  // the server's Retry-After, if it sent one
  // The monotonic readings (core/clock.h) of the start and the end, and the boot they
  // belong to; absent in rows written before schema 4 or without a boot id.
  std::optional<std::string> boot_id;
  std::optional<MonoTime> started_mono;
  std::optional<MonoTime> ended_mono;
};

inline constexpr std::size_t kMaxResponseBody = 4096;

struct PauseRow {
  std::string app;
  BroadcastTarget target = BroadcastTarget::kUsers;
  std::string reason;
  TimePoint since;
};

// What an operator (or the daemon, pausing an unopened endpoint) did, kept for the audit.
struct OperatorActionRow {
  int64_t id = 0;
  TimePoint at;
  std::string action;  // "cancel_job", "cancel_campaign", "pause", "resume", "resolve_sent",
                       // "resolve_not_sent"
  std::optional<int64_t> job_id;
  std::string detail;
  // What the action applied to: "job" (job_id names it), CampaignScope or EndpointScope;
  // "" when the audit of an old version did not say (kept as written).
  std::string scope;
};

// OperatorActionRow::scope of an action on every job of a campaign.
inline std::string CampaignScope(std::string_view campaign_id) {
  return "campaign " + std::string(campaign_id);
}
// OperatorActionRow::scope of an action on an app's endpoint.
inline std::string EndpointScope(std::string_view app, BroadcastTarget target) {
  return "endpoint " + std::string(app) + " " + std::string(TargetName(target));
}

}  // namespace broadcastd
