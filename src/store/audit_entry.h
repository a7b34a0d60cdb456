#pragma once
// The audit export (Store::ForEachAuditEntry): every attempt and every operator action,
// one entry at a time, with what an auditor needs of the job each concerns.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace broadcastd {

// Which entries: those at or after `since` and before `until`, of campaign `campaign_id`,
// on app `app`. Unset: no bound.
struct AuditFilter {
  std::optional<TimePoint> since = {};
  std::optional<TimePoint> until = {};
  std::optional<std::string> campaign_id = {};
  std::optional<std::string> app = {};
};

// One attempt (a request) or one operator action. Text fields point into the database's
// row: valid only during the call that hands the entry over. Empty: not recorded or not
// applicable.
struct AuditEntry {
  enum class Kind { kAttempt, kOperatorAction };
  Kind kind = Kind::kAttempt;
  int64_t id = 0;                 // the attempt's or the action's row
  TimePoint at;                   // attempt: when the request started; action: when taken
  std::optional<int64_t> job_id;  // always for an attempt
  std::string_view campaign_id;   // the job's; an action on a campaign: that campaign
  std::string_view broadcast;     // the job's broadcast name
  std::string_view occurrence;    // the job's occurrence ("once" or an RFC 3339 time)
  std::string_view app;           // the endpoint: the job's, or the action's
  std::string_view target;        // "users", "online_users" or "chatrooms"
  // Attempts only.
  std::string_view outcome;  // an OutcomeName; empty while in flight
  std::optional<int64_t> http_status;
  std::optional<std::string_view> broadcast_id;
  std::string_view vendor_error;
  std::string_view error_description;
  // Attempts: the daemon's detail; actions: the action's detail.
  std::string_view detail;
  // Actions only: "cancel_job", "pause", ... (OperatorActionRow::action) and its scope.
  std::string_view action;
  std::string_view scope;
};

}  // namespace broadcastd
