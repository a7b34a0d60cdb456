#pragma once
// The command line: exactly one action (running the daemon when none is given),
// each modifier only with the action it modifies, and every action argument
// checked for shape before anything is opened. A mistyped command must never
// fall through to running the daemon from an operator's shell.
//
// Exit codes (broadcastd(8)):
//   0  done: the action succeeded, the files are valid, the daemon stopped cleanly
//   1  problems found: --check/--check-config found an error, an operator action
//      was refused (no such job or campaign, or not in a state that allows it),
//      or the daemon could not start
//   2  usage or environment error: flags, arguments, an unreadable or invalid
//      config for a command, a missing or inaccessible database

#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace broadcastd {

struct CommandContext;

inline constexpr int kExitOk = 0;
inline constexpr int kExitProblems = 1;
inline constexpr int kExitUsage = 2;

inline constexpr const char* kDefaultConfigPath = "/etc/broadcastd/broadcastd.yaml";

enum class Command {
  kDaemon,
  kCheck,
  kCheckConfig,
  kStatus,
  kHistory,
  kCancelCampaign,
  kCancelJob,
  kPause,
  kResume,
  kResolveSent,
  kResolveNotSent,
  kAudit,
  kConfirm,
  kConfirmAll,
};

struct Invocation {
  Command command = Command::kDaemon;
  std::filesystem::path config = kDefaultConfigPath;
  bool verbose = false;  // daemon only
  bool json = false;     // --status and --history only
  // --status only: the job listing's filters (empty: not given), its size and page.
  std::string state, campaign, app, target, after;
  size_t limit = 20;
  // --audit only: its time bounds (RFC 3339, checked) and format; --campaign and --app
  // above filter it too.
  std::string since, until, format = "jsonl";
  std::vector<std::filesystem::path> files;  // --check only
  // The action's argument: a campaign id, a job id (digits) or APP/TARGET (shape
  // checked; whether APP is in the config is checked once the config is read).
  std::string argument;
  std::optional<std::string> reason;        // --pause only
  std::optional<std::string> broadcast_id;  // --resolve-sent only
};

// Parses argv. Returns the exit code when the program must stop right away:
// kExitOk after printing --help or --version to `out`, kExitUsage after printing
// what is wrong to `err`. Otherwise fills `inv` and returns nothing.
std::optional<int> ParseCommandLine(int argc, const char* const* argv, Invocation& inv,
                                    std::ostream& out, std::ostream& err);

// Runs the action `inv` selected (cli/commands.h), not the daemon: its exit code.
int RunAction(const CommandContext& ctx, const Invocation& inv);

// The flag that selects `command` ("--status"; "" for the daemon).
const char* CommandFlag(Command command);

// "12" -> 12. Digits only (no sign, space or leading '+'), at least 1.
std::optional<int64_t> ParseJobId(const std::string& text);

}  // namespace broadcastd
