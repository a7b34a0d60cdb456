#pragma once
// The status of the queue, as --status, the status page and /metrics show it: a summary
// first (every app endpoint with its budget used and left and when it may send next, the
// queue counted by state, the campaigns with problems, what needs an operator), then one
// page of jobs with their forecast send times. Gathered read-only from the store in one read
// transaction, so it works while the daemon runs and never disagrees with itself
// (status/gather_status.h). This header is the model only: cli/ renders it as text and JSON, web/
// as the page and the metrics.
//
// Cost at a million queued jobs: the counts are index-only scans, the listing is an
// index range of `limit` rows, and the forecast simulates, per endpoint of a listed
// job, only the head of that endpoint's queue up to the listed job (at most
// kForecastHeadCap jobs); message bodies are never read.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "scheduler/scheduler.h"
#include "store/store.h"

namespace broadcastd {

// Which jobs to list. With no state, the jobs an operator looks at first: unknown (they
// need a decision), sending, then ready and scheduled by due time (the next to go out).
struct StatusQuery {
  std::optional<JobState> state = {};
  std::optional<std::string> campaign_id = {};
  std::optional<std::string> app = {};
  std::optional<BroadcastTarget> target = {};
  std::optional<Store::ListingKey> after = {};  // the previous page's next_cursor
  size_t limit = 20;
};

// The listing order StatusQuery stands for.
std::vector<JobState> ListedStates(const StatusQuery& query);

// Cursors are opaque to users: "STATE.DUE_MS.ID" of the last job listed.
std::string EncodeCursor(const Store::ListingKey& key);
Result<Store::ListingKey> ParseCursor(std::string_view text);

struct StatusReport {
  struct Endpoint {
    std::string app;
    BroadcastTarget target;
    int used_today = 0;
    int daily = 0;
    TimePoint next_allowed;
    bool day_exhausted = false;  // no request may start again this budget day
    TimePoint day_ends;          // when the budget day containing `now` ends
    bool paused = false;
    std::string pause_reason;
    TimePoint paused_since;                        // when paused
    std::map<std::string, int64_t> jobs_by_state;  // states with jobs only
    int64_t queued = 0;                            // scheduled + ready
    std::string no_token;  // why the daemon has no token for the app ("" when it has)
  };
  struct JobLine {
    JobRow row;                                        // without its body
    std::optional<Scheduler::ForecastEntry> forecast;  // queued jobs only
  };

  // The one reading of both clocks everything in the report was computed from (times
  // are on its wall part): renderers compare with now.wall, never with a clock of theirs.
  Instant now;
  std::string database;
  std::optional<int> daemon_pid;
  Duration forecast_horizon{0};
  std::vector<Endpoint> endpoints;
  std::map<std::string, int64_t> jobs_by_state;  // every job, every state (zeros included)
  std::vector<CampaignRow> campaigns;            // every campaign file, by file name
  std::vector<CampaignRow> campaign_problems;    // files whose status is neither ok nor removed
  int64_t unknown_jobs = 0;                      // need an operator's decision
  // Signed campaigns: campaigns whose jobs wait for signers (who signed, what is missing).
  std::vector<Store::SignatureHold> signature_holds;
  // Campaigns a new queue adopted, held until an operator confirms them (--confirm).
  std::vector<Store::AdoptedCampaign> adopted;
  StatusQuery query;
  std::vector<JobLine> jobs;
  std::optional<std::string> next_cursor;  // set when the page is full
  std::vector<std::string> warnings;
  // PostgreSQL: who holds the sender lease, since when, and the daemons seen.
  std::optional<Store::LeaseStatus> lease;
};

// Why an adopted campaign's jobs wait, and what releases them: "adopted by a new queue:
// confirm with broadcastd --confirm ID".
std::string AdoptedReason(std::string_view campaign_id);

// Forecasts at most this far ahead; later jobs are shown as beyond the horizon.
inline constexpr Duration kForecastHorizon = std::chrono::hours(24 * 14);
// At most this many jobs of one endpoint's queue (by due time) are simulated for the
// forecast. Jobs left out fall due no earlier than any simulated one, so at equal priority
// they wait behind them and the forecast of the head is exact; a listed job deeper in its
// queue is shown as beyond_horizon "not before" the due of the first job left out.
inline constexpr size_t kForecastHeadCap = 5000;

}  // namespace broadcastd
