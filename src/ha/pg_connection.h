#pragma once
// Connecting to PostgreSQL (libpqxx over libpq, Debian's packages). The config names the
// database by a libpq connection URI in `database:`; a password, when one is needed, comes
// from a credential file (`database_password_file:`), never from the config itself.

#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>

#include "core/error.h"

namespace broadcastd {

// Whether `database` names a PostgreSQL database (a libpq URI) rather than a SQLite file.
bool IsPostgresUri(std::string_view database);

// The libpq keyword/value connection string for `uri`, with `password` added when given.
// kInvalid, naming what is wrong, when libpq cannot parse the URI. The result holds the
// password: never log it (PgDisplayName is the loggable form).
Result<std::string> PgConnInfo(const std::string& uri, const std::optional<std::string>& password);

// What is wrong with `uri` for the config, if anything: libpq cannot parse it, or it
// carries a password (which belongs in database_password_file).
std::optional<std::string> PgUriProblem(const std::string& uri);

// `uri` without any password it carries, for logs and errors.
std::string PgDisplayName(const std::string& uri);

// Opens a connection; kUnavailable, naming the database (never the password), when the
// server cannot be reached or refuses.
Result<std::unique_ptr<pqxx::connection>> PgConnect(const std::string& uri,
                                                    const std::optional<std::string>& password);

}  // namespace broadcastd
