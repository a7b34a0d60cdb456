#pragma once
// Reads the daemon configuration (DESIGN.md, "Daemon configuration").
//
// The file is read safely (document/document.h) and checked completely: every
// problem is reported, one per line of the error message, each as
// "file:line:col: key.path: why", e.g.
//   broadcastd.yaml:7:5: apps.main.host: http:// is allowed only to loopback addresses ...
// Rules: unknown keys are errors; `apps` is a non-empty mapping; each app has
// host, org, app, client_id and exactly one of client_secret_file / token_file
// (a secret itself, e.g. client_secret, is refused: it belongs in a file);
// host is https://, or http:// to 127.0.0.0/8, ::1 or localhost only;
// daily_budget overrides are positive integers for known targets; `limits`
// defaults to DefaultLimits per target (window count >= 1, seconds > 0,
// daily >= 1); day_boundary is "HH:MM UTC" (default 00:00 UTC); database
// defaults to DefaultDatabasePath(); campaigns_dir is required. The value of
// client_secret_file or token_file is never repeated in a message, and one that
// looks like a secret rather than a file name is refused. Relative database and campaigns_dir paths
// are resolved against the folder of the config file. Never throws.

#include <filesystem>
#include <string_view>

#include "config/config.h"
#include "core/error.h"

namespace broadcastd {

Result<Config> LoadConfig(const std::filesystem::path& path);

// The service's state folder (the unit's StateDirectory=broadcastd).
inline constexpr const char* kServiceDatabasePath = "/var/lib/broadcastd/queue.db";

// Where the database is when the config does not say: $STATE_DIRECTORY/queue.db
// (the first directory when systemd lists several; `state_directory` is the
// variable's value, null when unset), else kServiceDatabasePath, so that
// `broadcastd --status` from an operator's shell finds the service's queue.
std::filesystem::path DefaultDatabasePath(const char* state_directory);

// `source` names the file in errors and anchors relative paths; it is not read.
Result<Config> ParseConfig(std::string_view text, const std::filesystem::path& source);

}  // namespace broadcastd
