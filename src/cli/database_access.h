#pragma once
// What an operator command checks before it opens the database. Commands never
// create it (only the daemon does, at its first start): a mistyped or missing
// path is an error that names the path, not a fresh empty queue that reports
// success. A permission problem is reported as one, naming the path and the
// user the command runs as, with what to do about it.

#include <filesystem>
#include <iosfwd>

#include "config/config.h"
#include "core/error.h"
#include "store/store.h"

namespace broadcastd {

enum class DatabaseUse { kRead, kWrite };

// kNotFound: the file (or its folder) does not exist. kPermission: this user
// cannot reach, read or (kWrite) write it, or write beside it (SQLite's WAL
// files live in the same folder). kInvalid: not a regular file.
Status CheckDatabaseAccess(const std::filesystem::path& database, DatabaseUse use);

// "alice (uid 1000)": the user this process runs as.
std::string CurrentUserDescription();

// The config that --status, --history and the operator actions work with. A valid file
// is loaded as the daemon loads it. A file that is there but invalid (an edit not yet
// reloaded, say: the daemon still runs on the old config) does not stop them as long as
// the database can be found: they get a config with only what they need (the database
// and its password file, as the file names them or by default; the apps' names; default
// limits), after a warning on `err` that lists the problems ignored and says where the
// database path came from. Fails, saying why, for a file that cannot be read (a mistyped
// --config must not open the service's queue instead) or whose `database` is unusable.
Result<Config> ConfigForOperatorCommand(const std::filesystem::path& config_path,
                                        std::ostream& err);

// The store an operator command works on: CheckDatabaseAccess for `use`, then the
// configured store, read-only (kRead) or read-write on an existing database (kWrite).
Result<Store> OpenStoreForOperator(const Config& config, DatabaseUse use);

}  // namespace broadcastd
