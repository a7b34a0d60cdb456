// --check-config: what a service start depends on, and nothing else. The unit
// runs it as ExecStartPre, so a campaign file never stops a start: the running
// daemon rejects a bad campaign and goes on with the others.

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <ostream>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "config/config_loader.h"
#include "config/credential_file.h"
#include "database_uri/database_uri.h"

namespace broadcastd {
namespace fs = std::filesystem;

namespace {

// Warnings about one credential file, named by its config key `key`; `who` is what fails
// without it ("sends for app main"). They never name the file by the config's value (it
// may be a pasted secret), only by its key.
void CheckCredential(const fs::path& file, const std::string& key, const std::string& who,
                     const fs::path& credentials_dir, std::ostream& err) {
  auto path = LocateCredentialFile(credentials_dir, file, key);
  if (!path) {
    err << "warning: " << path.error().message << "\n";
    return;
  }
  const std::string where = file.is_relative() ? " in " + credentials_dir.string() : "";
  struct stat st {};
  if (::stat(path->c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    err << "warning: " << key << ": no such file" << where << "; " << who
        << " fail until it is there\n";
    return;
  }
  if (::access(path->c_str(), R_OK) != 0) {
    err << "warning: " << key << ": the file" << where << " is not readable by this user; " << who
        << " fail until it is\n";
    return;
  }
  if ((st.st_mode & S_IROTH) != 0) {
    err << "warning: " << key << ": the file" << where << " is readable by every user (mode "
        << ((st.st_mode >> 6) & 7) << ((st.st_mode >> 3) & 7) << (st.st_mode & 7)
        << "); make it readable by its owner only (chmod 600)\n";
  }
}

}  // namespace

void CheckCredentialFiles(const Config& config, std::ostream& err) {
  const fs::path credentials_dir = CredentialsDirectory(config);
  for (const auto& [name, app] : config.apps) {
    const bool secret = app.client_secret_file.has_value();
    CheckCredential(secret ? *app.client_secret_file : *app.token_file,
                    "apps." + app.name + (secret ? ".client_secret_file" : ".token_file"),
                    "sends for app " + app.name, credentials_dir, err);
  }
  if (config.database_password_file) {
    CheckCredential(*config.database_password_file, "database_password_file",
                    "the daemon and the commands", credentials_dir, err);
  }
}

int RunCheckConfig(const CommandContext& ctx) {
  auto config = LoadConfig(ctx.config_path);
  if (!config) {
    ctx.err << config.error().message << "\n";
    return kExitProblems;
  }
  const std::string database = config->DatabaseIsPostgres()
                                   ? PgDisplayName(config->database.native())
                                   : config->database.string();
  ctx.out << ctx.config_path.string() << ": ok (" << config->apps.size() << " apps; database "
          << database << "; campaigns_dir " << config->campaigns_dir.string() << ")\n";
  ctx.out << "on_new_queue: "
          << (config->on_new_queue == Config::NewQueue::kHold
                  ? "hold (a new queue holds the campaigns it finds until broadcastd --confirm)"
                  : "send (a new queue sends the campaigns it finds)")
          << "\n";
  std::error_code ec;
  if (!fs::is_directory(config->campaigns_dir, ec)) {
    ctx.err << "warning: campaigns_dir " << config->campaigns_dir.string()
            << ": not a folder that can be read here; the daemon starts and takes campaigns "
               "once it is\n";
  }
  CheckCredentialFiles(*config, ctx.err);
  return kExitOk;
}

}  // namespace broadcastd
