#pragma once
// The config's `database:` when it names a PostgreSQL database: a libpq connection URI
// ("postgresql://broadcastd@db1:5432/broadcastd?connect_timeout=5"). Used by the config
// (which checks it), the store (which connects with it) and the command line (which shows
// it). No PostgreSQL type appears here: libpq parses the URI inside the .cc.
//
// A password never belongs in the URI (it comes from database_password_file). No message
// made here quotes the URI or libpq's reading of it: a malformed URI may hold a password
// that no parser found, and libpq's own messages quote what they could not parse.

#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace broadcastd {

// Whether `database` names a PostgreSQL database (a libpq URI) rather than a SQLite file.
bool IsPostgresUri(std::string_view database);

// `uri` as it may be shown: of the part before its last '@' (user and password) only the
// user is kept, and a `password` query parameter is dropped, whether or not libpq could
// parse the URI.
std::string PgDisplayName(std::string_view uri);

// What is wrong with `uri` for the config, if anything: it carries a password (which
// belongs in database_password_file), or libpq cannot parse it. The message names the
// URI by PgDisplayName only.
std::optional<std::string> PgUriProblem(const std::string& uri);

// The libpq keyword/value connection string for `uri`, with `password` added when given
// (a password in the URI is left out). kInvalid, worded as PgUriProblem, when libpq
// cannot parse the URI. The result holds the password: never show it.
Result<std::string> PgConnInfo(const std::string& uri, const std::optional<std::string>& password);

}  // namespace broadcastd
