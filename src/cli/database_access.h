#pragma once
// What an operator command checks before it opens the database. Commands never
// create it (only the daemon does, at its first start): a mistyped or missing
// path is an error that names the path, not a fresh empty queue that reports
// success. A permission problem is reported as one, naming the path and the
// user the command runs as, with what to do about it.

#include <filesystem>

#include "core/error.h"

namespace broadcastd {

enum class DatabaseUse { kRead, kWrite };

// kNotFound: the file (or its folder) does not exist. kPermission: this user
// cannot reach, read or (kWrite) write it, or write beside it (SQLite's WAL
// files live in the same folder). kInvalid: not a regular file.
Status CheckDatabaseAccess(const std::filesystem::path& database, DatabaseUse use);

// "alice (uid 1000)": the user this process runs as.
std::string CurrentUserDescription();

}  // namespace broadcastd
