#include "store/configured_store.h"

#include <optional>
#include <string>

#include "config/credential_file.h"

namespace broadcastd {

Result<std::optional<std::string>> DatabasePassword(const Config& config,
                                                    const std::filesystem::path& credentials_dir) {
  if (!config.database_password_file) return std::optional<std::string>();
  const std::filesystem::path dir =
      credentials_dir.empty() ? CredentialsDirectory(config) : credentials_dir;
  auto read = ReadCredentialFile(dir, *config.database_password_file, "database_password_file");
  if (!read) return std::unexpected(read.error());
  return std::optional<std::string>(std::move(*read));
}

Result<Store> OpenConfiguredStore(const Config& config, Store::Mode mode,
                                  const std::filesystem::path& credentials_dir) {
  if (!config.DatabaseIsPostgres()) return Store::Open(config.database, mode);
  auto password = DatabasePassword(config, credentials_dir);
  if (!password) return std::unexpected(password.error());
  return Store::OpenPostgres(config.database.native(), mode, *password);
}

}  // namespace broadcastd
