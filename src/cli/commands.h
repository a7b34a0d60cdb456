#pragma once
// The command-line actions other than running the daemon. Each returns the
// process exit code and prints to the given streams; none of them sends a
// broadcast.

#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/error.h"
#include "store/audit_entry.h"

namespace broadcastd {

struct CommandContext {
  std::filesystem::path config_path;
  const Clock& clock;
  std::ostream& out;
  std::ostream& err;
};

// --check [FILE...]: the config, then the given campaign files (or every file in
// campaigns_dir). Prints every error; 0 when all are valid, 1 otherwise. Each
// valid FILE given is followed by its preview (cli/check_preview.h).
int RunCheck(const CommandContext& ctx, const std::vector<std::filesystem::path>& files);

// --check-config: the config alone (what a service start depends on), and the
// credential files its apps name (warnings). 0 when the config is valid, 1 otherwise.
int RunCheckConfig(const CommandContext& ctx);

// Warnings ("warning: apps.main.client_secret_file: …") for each app's credential
// file that is missing, unreadable or readable by every user, looked up as the
// daemon does (config/credential_file.h). Never names the file by the config's
// value. Used by --check-config and --check.
void CheckCredentialFiles(const Config& config, std::ostream& err);

// --status [--json] [--state S] [--campaign ID] [--app APP] [--target T] [--limit N]
// [--after CURSOR]: the summary and one page of jobs. Read-only: works while the daemon
// runs. Empty strings are filters not given.
struct StatusOptions {
  bool json = false;
  std::string state, campaign, app, target, after;
  size_t limit = 20;
};
int RunStatus(const CommandContext& ctx, const StatusOptions& options);

// --history JOB [--json]: every attempt of the job and every operator action on it.
// 0, or 1 when there is no such job.
int RunHistory(const CommandContext& ctx, const std::string& job, bool json);

// --audit [--since T] [--until T] [--campaign ID] [--app APP] [--format jsonl|csv]:
// every attempt and operator action, in time order (cli/audit_format.h), streamed.
// Read-only. Empty strings are filters not given. 2 when a flag's value does not parse
// (naming the flag) or the database cannot be read; a reader that stops reading early
// (`| head`) ends it quietly with 0.
struct AuditOptions {
  std::string since = {}, until = {}, campaign = {}, app = {};
  std::string format = "jsonl";
};
int RunAudit(const CommandContext& ctx, const AuditOptions& options);
// The filter the options give, or why a time does not parse (naming its flag).
Result<AuditFilter> AuditFilterOf(const AuditOptions& options);

// Operator actions: each one transaction on the database, then the running
// daemon (if any) is told to re-read the queue (SIGUSR1).
struct OperatorAction {
  enum Kind {
    kCancelCampaign,
    kCancelJob,
    kPause,
    kResume,
    kResolveSent,
    kResolveNotSent,
    kConfirm,     // an adopted campaign may go out (Store::ConfirmAdopted)
    kConfirmAll,  // every adopted campaign
  } kind;
  std::string argument;                     // campaign id, job id or APP/TARGET
  std::optional<std::string> broadcast_id;  // kResolveSent only
  std::optional<std::string> reason;        // kPause only
};
int RunOperatorAction(const CommandContext& ctx, const OperatorAction& action);

}  // namespace broadcastd
