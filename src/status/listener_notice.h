#pragma once
// Why the daemon's HTTP listener (`http_listen`) is not serving, for --status: the daemon
// keeps the reason in "<database>.http" beside the database while its bind fails (the port
// taken, say) and removes it once the listener is bound and when it stops. A file and not a
// table, because the listener's trouble is the running process's, not the queue's; --status
// reads it only while a daemon holds the database. SQLite databases only: a PostgreSQL
// database has no folder of its own (there the log and /metrics tell, once bound).

#include <filesystem>
#include <optional>
#include <string>

#include "config/config.h"

namespace broadcastd {

// "<database>.http", or none for a PostgreSQL database.
std::optional<std::filesystem::path> ListenerNoticePath(const Config& config);

// Replaces the notice (written whole, then renamed into place). Best effort: a failure
// only loses the notice, never the listener's retries.
void WriteListenerNotice(const Config& config, const std::string& message);
void ClearListenerNotice(const Config& config);
// The notice, if the daemon left one.
std::optional<std::string> ReadListenerNotice(const Config& config);

}  // namespace broadcastd
