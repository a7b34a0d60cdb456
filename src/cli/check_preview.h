#pragma once
// `broadcastd --check FILE`: what a valid campaign file would do if it were
// dropped into campaigns_dir now. Each job it would create (repeats: the
// occurrences of the next 48 hours), with its forecast send time against the
// current queue, windows, budgets and pauses (the database opened read-only, if
// there is one), and those that would expire unsent. The forecast is the
// scheduler's own (Scheduler::Forecast), as for --status.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "campaign/campaign.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/error.h"
#include "scheduler/scheduler.h"
#include "store/rows.h"

namespace broadcastd {

struct PreviewLine {
  std::string broadcast;
  std::string occurrence;  // "once" or the occurrence's RFC 3339 UTC time
  EndpointKey endpoint;
  Scheduler::ForecastEntry forecast;
};

// `scheduler` and `queued` are the current queue (from the store, or an empty
// scheduler with the config's endpoints); `file` is the campaign's file name
// in campaigns_dir: that file's jobs never attempted are replaced by the new
// version's, as the ingester would. `now` is one Clock::Read(): occurrences on its
// wall part, the windows on both, as the daemon does.
// REQUIRES: `campaign` passed CheckCampaignFile against `config`.
Result<std::vector<PreviewLine>> PreviewCampaign(const Config& config, const Campaign& campaign,
                                                 const std::string& file, Scheduler scheduler,
                                                 const std::vector<JobRow>& queued,
                                                 const Instant& now);

// One line per one-shot broadcast that would expire as soon as it is taken in: its
// send_at is already past its deadline (due + max_delay, or expires_at), e.g.
// "kickoff: would expire at once: send_at 2027-03-01T01:00:00Z is more than max_delay
// 24h ago". Broadcasts without send_at are due when taken in, so never late.
std::vector<std::string> LatenessWarnings(const Config& config, const Campaign& campaign,
                                          TimePoint now);

// The preview's lines for --check, indented under the file's "ok" line. Reads
// the queue from config.database if this user can read it; otherwise previews
// against an empty queue and says why. `now` and `boot_id` (Clock::BootId) as for
// GatherStatus (status/gather_status.h), so that the windows are rebuilt as --status does.
std::string CheckPreviewText(const Config& config, const Campaign& campaign,
                             const std::filesystem::path& path, const Instant& now,
                             const std::string& boot_id);

}  // namespace broadcastd
