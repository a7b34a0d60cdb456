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
#include "signature/signature_verifier.h"

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
  // A folder this user may not enter hides whether the file is there: say which.
  const ReadAccess access = CheckReadAccess(*path);
  if (access.kind != ReadAccess::kReadable) {
    const bool plain_name = file.is_relative() && !file.has_parent_path();
    err << "warning: " << key << ": ";
    if (access.kind == ReadAccess::kNoFile) {
      err << "no such file" << where;
    } else if (access.kind == ReadAccess::kFileClosed ||
               access.kind == ReadAccess::kNotRegularFile) {
      err << "the file" << where << ": " << DescribeReadAccess(access, plain_name);
    } else {
      err << DescribeReadAccess(access, plain_name);
    }
    const bool closed =
        access.kind == ReadAccess::kFolderClosed || access.kind == ReadAccess::kFileClosed;
    if (closed && ::geteuid() != 0) {
      err << "; the service loads it as root (LoadCredential=): run the check as root to "
             "check the file itself\n";
    } else {
      err << "; " << who << " fail until it is " << (closed ? "readable" : "there") << "\n";
    }
    return;
  }
  struct stat st {};
  if (::stat(path->c_str(), &st) != 0) return;
  if ((st.st_mode & S_IROTH) != 0) {
    err << "warning: " << key << ": the file" << where << " is readable by every user (mode "
        << ((st.st_mode >> 6) & 7) << ((st.st_mode >> 3) & 7) << (st.st_mode & 7)
        << "); make it readable by its owner only (chmod 600)\n";
  }
}

}  // namespace

void CheckCredentialFiles(const Config& config, std::ostream& err) {
  const fs::path credentials_dir = CredentialsDirectory(config);
  const char* from_systemd = std::getenv("CREDENTIALS_DIRECTORY");
  if (from_systemd != nullptr && *from_systemd != '\0' &&
      ::access(credentials_dir.c_str(), X_OK) != 0) {
    // systemd 252 runs ExecReload= with the variable set but the folder hidden (its mount
    // namespace covers /run/credentials): a warning per file would blame the files.
    err << "note: the credential files are not checked here: $CREDENTIALS_DIRECTORY "
        << credentials_dir.string() << " cannot be entered by user " << EffectiveUserDescription()
        << " (systemd gives ExecReload= no credentials; the service read them when it started)\n";
    return;
  }
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
    // "Cannot read" says why: no such file, or a folder or file this user may not read.
    const ReadAccess access = CheckReadAccess(ctx.config_path);
    if (access.kind != ReadAccess::kReadable) {
      ctx.err << "config " << ctx.config_path.string()
              << ": cannot be read: " << DescribeReadAccess(access) << "\n";
    } else {
      ctx.err << config.error().message << "\n";
    }
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
  if (config->signatures) {
    // The unit's start runs --check-config: a signers file ssh-keygen cannot read fails it.
    if (Status st = CheckSignerFiles(*config->signatures); !st) {
      ctx.err << st.error().message << "\n";
      return kExitProblems;
    }
    ctx.out << "signatures: ok (allowed_signers " << config->signatures->allowed_signers.string()
            << (config->signatures->revoked ? "; revoked " + config->signatures->revoked->string()
                                            : std::string())
            << ")\n";
  }
  return kExitOk;
}

}  // namespace broadcastd
