#pragma once
// The daemon's metrics in the Prometheus text format (version 0.0.4), read from the store
// at scrape time: nothing is kept in memory, so every process that reads the database
// would report the same figures. The one exception is broadcastd_store_errors_total, the
// database failures of the serving process (StoreFailureCount). The shipped alerting rules
// and dashboard (monitoring/) read these names.

#include <string>

#include "config/config.h"
#include "core/clock.h"
#include "core/error.h"
#include "store/store.h"

namespace broadcastd {

// REQUIRES: `store` open (read-only is enough) with no transaction open. `now` is one
// Clock::Read() and `boot_id` its boot (Clock::BootId), as for GatherStatus: the figures
// agree with --status's at the same reading.
Result<std::string> RenderMetrics(const Config& config, Store& store, const Instant& now,
                                  const std::string& boot_id);

}  // namespace broadcastd
