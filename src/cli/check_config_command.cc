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

namespace broadcastd {
namespace fs = std::filesystem;

namespace {

// Warnings about one app's credential file. They never name the file by the
// config's value (it may be a pasted secret), only by its key.
void CheckCredential(const AppConfig& app, const fs::path& credentials_dir, std::ostream& err) {
  const bool secret = app.client_secret_file.has_value();
  const fs::path& file = secret ? *app.client_secret_file : *app.token_file;
  const std::string key = "apps." + app.name + (secret ? ".client_secret_file" : ".token_file");
  auto path = LocateCredentialFile(credentials_dir, file, key);
  if (!path) {
    err << "warning: " << path.error().message << "\n";
    return;
  }
  const std::string where = file.is_relative() ? " in " + credentials_dir.string() : "";
  struct stat st {};
  if (::stat(path->c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    err << "warning: " << key << ": no such file" << where << "; sends for app " << app.name
        << " fail until it is there\n";
    return;
  }
  if (::access(path->c_str(), R_OK) != 0) {
    err << "warning: " << key << ": the file" << where
        << " is not readable by this user; sends for app " << app.name << " fail until it is\n";
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
  for (const auto& [name, app] : config.apps) CheckCredential(app, credentials_dir, err);
}

int RunCheckConfig(const CommandContext& ctx) {
  auto config = LoadConfig(ctx.config_path);
  if (!config) {
    ctx.err << config.error().message << "\n";
    return kExitProblems;
  }
  ctx.out << ctx.config_path.string() << ": ok (" << config->apps.size() << " apps; database "
          << config->database.string() << "; campaigns_dir " << config->campaigns_dir.string()
          << ")\n";
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
