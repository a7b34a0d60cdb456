#pragma once
// Gathers the status report (status/status_report.h) from the store in one read
// transaction.

#include <string>

#include "config/config.h"
#include "core/clock.h"
#include "core/error.h"
#include "status/status_report.h"
#include "store/store.h"

namespace broadcastd {

// REQUIRES: `store` open (read-only is enough) with no transaction open. `now` is one
// Clock::Read() (both clocks) and `boot_id` names the boot of its monotonic part
// (Clock::BootId), so that the windows are rebuilt as the daemon does: every view of the
// status (--status, the page, /metrics) passes both, so that they agree after a step of
// the wall clock.
Result<StatusReport> GatherStatus(const Config& config, Store& store, const Instant& now,
                                  const StatusQuery& query, const std::string& boot_id);

}  // namespace broadcastd
