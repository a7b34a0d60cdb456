#pragma once
// The store the config names: `database:` a SQLite file, or a PostgreSQL URI whose
// password, when `database_password_file:` is set, comes from that credential file
// (located like the apps' secrets: config/credential_file.h).

#include <filesystem>
#include <optional>
#include <string>

#include "config/config.h"
#include "core/error.h"
#include "store/store.h"

namespace broadcastd {

// `credentials_dir` empty: CredentialsDirectory(config). A credential file that cannot
// be read fails naming its key, never its content.
Result<Store> OpenConfiguredStore(const Config& config, Store::Mode mode,
                                  const std::filesystem::path& credentials_dir = {});

// The PostgreSQL password from database_password_file; none when the key is unset.
Result<std::optional<std::string>> DatabasePassword(
    const Config& config, const std::filesystem::path& credentials_dir = {});

}  // namespace broadcastd
