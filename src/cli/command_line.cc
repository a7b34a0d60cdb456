#include "cli/command_line.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <ostream>
#include <string_view>

#include "cli/audit_format.h"
#include "cli/commands.h"
#include "core/log_value.h"
#include "core/target.h"

namespace broadcastd {
namespace {

int Check(const CommandContext& ctx, const Invocation& inv) { return RunCheck(ctx, inv.files); }

int CheckConfig(const CommandContext& ctx, const Invocation&) { return RunCheckConfig(ctx); }

int Status(const CommandContext& ctx, const Invocation& inv) {
  StatusOptions options;
  options.json = inv.json;
  options.state = inv.state;
  options.campaign = inv.campaign;
  options.app = inv.app;
  options.target = inv.target;
  options.after = inv.after;
  options.limit = inv.limit;
  return RunStatus(ctx, options);
}

int History(const CommandContext& ctx, const Invocation& inv) {
  return RunHistory(ctx, inv.argument, inv.json);
}

int Audit(const CommandContext& ctx, const Invocation& inv) {
  return RunAudit(ctx, AuditOptions{inv.since, inv.until, inv.campaign, inv.app, inv.format});
}

template <OperatorAction::Kind kind>
int Operate(const CommandContext& ctx, const Invocation& inv) {
  return RunOperatorAction(ctx, OperatorAction{kind, inv.argument, inv.broadcast_id, inv.reason});
}

// Every action: the flag that selects it, the name of its argument in --help
// (nullptr: the flag takes none), its help, and what runs it. The daemon, run
// when no action is given, is not one of them.
struct Action {
  Command command;
  const char* flag;
  const char* argument;
  const char* help;
  int (*run)(const CommandContext&, const Invocation&);
};

constexpr Action kActions[] = {
    {Command::kCheck, "--check", nullptr,
     "validate the config and campaigns (FILE... or all), then exit", Check},
    {Command::kCheckConfig, "--check-config", nullptr,
     "validate the config only (for ExecStartPre: a bad campaign never stops a start)",
     CheckConfig},
    {Command::kStatus, "--status", nullptr, "show apps, endpoints, campaigns and jobs, then exit",
     Status},
    {Command::kHistory, "--history", "JOB", "every attempt and operator action on one job",
     History},
    {Command::kCancelCampaign, "--cancel-campaign", "ID",
     "cancel every queued or unknown job of a campaign", Operate<OperatorAction::kCancelCampaign>},
    {Command::kCancelJob, "--cancel-job", "JOB", "cancel one queued or unknown job",
     Operate<OperatorAction::kCancelJob>},
    {Command::kPause, "--pause", "APP/TARGET", "stop sending on an app's endpoint",
     Operate<OperatorAction::kPause>},
    {Command::kResume, "--resume", "APP/TARGET", "resume an app's endpoint",
     Operate<OperatorAction::kResume>},
    {Command::kResolveSent, "--resolve-sent", "JOB", "an unknown job was delivered",
     Operate<OperatorAction::kResolveSent>},
    {Command::kResolveNotSent, "--resolve-not-sent", "JOB",
     "an unknown job was not delivered: queue it again", Operate<OperatorAction::kResolveNotSent>},
    {Command::kAudit, "--audit", nullptr,
     "export every attempt and operator action in time order (JSON lines or CSV)", Audit},
    {Command::kConfirm, "--confirm", "ID",
     "let a campaign a new queue adopted go out (check first that it was not sent before)",
     Operate<OperatorAction::kConfirm>},
    {Command::kConfirmAll, "--confirm-all", nullptr,
     "let every campaign a new queue adopted go out", Operate<OperatorAction::kConfirmAll>},
};

const Action* FindAction(Command command) {
  for (const Action& a : kActions) {
    if (a.command == command) return &a;
  }
  return nullptr;
}

// A modifier's option and the action it belongs to (--json: two of them).
struct Modifier {
  CLI::Option* option;
  Command action;
  Command also;
};

// What CLI11 fills before the values are checked and moved into an Invocation.
struct RawFlags {
  std::string config;
  std::string argument, reason, broadcast_id;
  std::vector<std::string> files;
  std::vector<Modifier> modifiers;
};

bool HasControl(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F;
  });
}

bool IsCampaignId(std::string_view text) {
  if (text.empty() || text.size() > 64) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

// Why `inv.argument` does not fit its action, or "" when it does.
std::string ArgumentProblem(const Invocation& inv) {
  const std::string& arg = inv.argument;
  const std::string flag = CommandFlag(inv.command);
  switch (inv.command) {
    case Command::kCancelCampaign:
    case Command::kConfirm:
      if (!IsCampaignId(arg)) {
        return flag + " " + LogValue(arg) +
               ": not a campaign id (letters, digits, '.', '_' and '-', at most 64)";
      }
      return "";
    case Command::kCancelJob:
    case Command::kHistory:
    case Command::kResolveSent:
    case Command::kResolveNotSent:
      if (!ParseJobId(arg)) {
        return flag + " " + LogValue(arg) + ": not a job id (a number from --status)";
      }
      return "";
    case Command::kPause:
    case Command::kResume: {
      auto slash = arg.rfind('/');
      if (slash == std::string::npos || slash == 0 || HasControl(arg) ||
          !ParseTarget(std::string_view(arg).substr(slash + 1))) {
        return flag + " " + LogValue(arg) +
               ": not APP/TARGET (APP as in the config, TARGET users, online_users or chatrooms)";
      }
      return "";
    }
    default:
      return "";
  }
}

// Declares every flag to CLI11, each once: the actions from kActions, then the
// modifiers, each with the action it belongs to.
void DeclareFlags(CLI::App& app, Invocation& inv, RawFlags& raw) {
  app.add_option("-c,--config", raw.config, "daemon config file")->capture_default_str();
  for (const Action& a : kActions) {
    if (a.argument == nullptr) {
      app.add_flag(a.flag)->description(a.help);
    } else {
      app.add_option(a.flag, raw.argument, a.help)->option_text(a.argument);
    }
  }
  auto modifier = [&](CLI::Option* option, Command action, Command also) {
    raw.modifiers.push_back({option, action, also});
    return option;
  };
  modifier(app.add_flag("--json"), Command::kStatus, Command::kHistory)
      ->description("with --status or --history: print JSON (format in README.md)");
  auto status = [&](const char* flag, auto& value, const char* help) {
    return modifier(app.add_option(flag, value, help), Command::kStatus, Command::kStatus);
  };
  status("--state", inv.state, "with --status: list jobs in this state");
  modifier(app.add_option("--campaign", inv.campaign,
                          "with --status: list this campaign's jobs; with --audit: its entries"),
           Command::kStatus, Command::kAudit)
      ->option_text("ID");
  modifier(app.add_option("--app", inv.app,
                          "with --status: list this app's jobs; with --audit: its entries"),
           Command::kStatus, Command::kAudit)
      ->option_text("APP");
  status("--target", inv.target, "with --status: list jobs for this target");
  status("--limit", inv.limit, "with --status: list at most N jobs")->capture_default_str();
  status("--after", inv.after, "with --status: the next page (JSON next_cursor)")
      ->option_text("CURSOR");
  modifier(app.add_option("--reason", raw.reason, "with --pause: why (shown by --status)"),
           Command::kPause, Command::kPause)
      ->option_text("TEXT");
  modifier(
      app.add_option("--broadcast-id", raw.broadcast_id, "with --resolve-sent: its broadcast ID"),
      Command::kResolveSent, Command::kResolveSent)
      ->option_text("ID");
  auto audit = [&](const char* flag, std::string& value, const char* help) {
    return modifier(app.add_option(flag, value, help), Command::kAudit, Command::kAudit);
  };
  audit("--since", inv.since, "with --audit: entries at or after this time (RFC 3339)")
      ->option_text("TIME");
  audit("--until", inv.until, "with --audit: entries before this time (RFC 3339)")
      ->option_text("TIME");
  audit("--format", inv.format, "with --audit: jsonl (the default) or csv")->option_text("FORMAT");
  modifier(app.add_flag("-v,--verbose"), Command::kDaemon, Command::kDaemon)
      ->description("when running the daemon: debug logging");
  app.add_option("files", raw.files, "campaign files, with --check")->option_text("FILE...");
}

// Runs CLI11 on argv: the exit code when it printed help, the version or a
// parse error, nothing otherwise.
std::optional<int> RunParser(CLI::App& app, int argc, const char* const* argv, std::ostream& out,
                             std::ostream& err) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return kExitOk;
  } catch (const CLI::CallForAllHelp&) {
    out << app.help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const CLI::CallForVersion&) {
    out << "broadcastd " << BROADCASTD_VERSION << "\n";
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    err << "broadcastd: " << e.what() << " (see broadcastd --help)\n";
    return kExitUsage;
  }
  return std::nullopt;
}

// The action given (kDaemon when none), or why the flags do not name one action
// with only its own modifiers.
std::string ChooseAction(const CLI::App& app, const RawFlags& raw, Invocation& inv) {
  std::string chosen;
  for (const Action& a : kActions) {
    if (app.count(a.flag) == 0) continue;
    chosen += (chosen.empty() ? "" : ", ") + std::string(a.flag);
    inv.command = a.command;
  }
  if (chosen.find(',') != std::string::npos) return "give one action, not several (" + chosen + ")";
  for (const Modifier& m : raw.modifiers) {
    if (m.option->count() == 0 || m.action == inv.command || m.also == inv.command) continue;
    const std::string flag = m.option->get_name();
    if (m.action == Command::kDaemon) {
      return flag + " only applies when running the daemon, not with " + CommandFlag(inv.command);
    }
    return flag + " only goes with " + CommandFlag(m.action) +
           (inv.command == Command::kDaemon
                ? std::string(" (without an action, broadcastd would run the daemon)")
                : std::string(", not with ") + CommandFlag(inv.command));
  }
  if (!raw.files.empty() && inv.command != Command::kCheck) {
    return "campaign files (" + LogValue(raw.files.front()) + ") are only taken with --check";
  }
  return "";
}

// Checks the values' shapes and moves them into `inv`: why one is refused, or "".
std::string TakeValues(const CLI::App& app, const RawFlags& raw, Invocation& inv) {
  if (raw.config.empty()) return "--config: empty path";
  inv.config = raw.config;
  inv.verbose = app.count("--verbose") > 0;
  inv.json = app.count("--json") > 0;
  inv.files.assign(raw.files.begin(), raw.files.end());
  for (const auto& f : inv.files) {
    if (f.empty()) return "--check: an empty file name";
  }
  inv.argument = raw.argument;
  if (std::string why = ArgumentProblem(inv); !why.empty()) return why;
  if (inv.command == Command::kAudit) {
    auto filter = AuditFilterOf(AuditOptions{inv.since, inv.until, {}, {}, inv.format});
    if (!filter) return filter.error().message;
    if (!ParseAuditFormat(inv.format))
      return "--format " + LogValue(inv.format) + ": not jsonl or csv";
  }
  if (app.count("--reason") > 0) {
    if (raw.reason.empty()) return "--reason: empty (leave it out for the default reason)";
    if (HasControl(raw.reason)) return "--reason: holds a control character";
    inv.reason = raw.reason;
  }
  if (app.count("--broadcast-id") > 0) {
    const std::string& id = raw.broadcast_id;
    if (id.empty() ||
        !std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return "--broadcast-id " + LogValue(id) +
             ": not a broadcast ID (the digits the vendor answered)";
    }
    inv.broadcast_id = id;
  }
  return "";
}

}  // namespace

const char* CommandFlag(Command command) {
  const Action* action = FindAction(command);
  return action ? action->flag : "";
}

std::optional<int64_t> ParseJobId(const std::string& text) {
  if (text.empty() || text.front() < '0' || text.front() > '9') return std::nullopt;
  int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

std::optional<int> ParseCommandLine(int argc, const char* const* argv, Invocation& inv,
                                    std::ostream& out, std::ostream& err) {
  CLI::App app{"broadcastd: sends scheduled Easemob broadcast campaigns within the API's limits"};
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::Throw);
  app.set_version_flag("--version", std::string("broadcastd ") + BROADCASTD_VERSION);
  app.footer(
      "Without an action, runs the daemon. Exit codes: 0 ok, 1 problems found or action "
      "refused, 2 usage or environment error. See broadcastd(8).");
  RawFlags raw;
  raw.config = inv.config.string();
  DeclareFlags(app, inv, raw);
  if (auto exit_code = RunParser(app, argc, argv, out, err)) return exit_code;

  std::string why = ChooseAction(app, raw, inv);
  if (why.empty()) why = TakeValues(app, raw, inv);
  if (why.empty()) return std::nullopt;
  err << "broadcastd: " << why << " (see broadcastd --help)\n";
  return kExitUsage;
}

int RunAction(const CommandContext& ctx, const Invocation& inv) {
  const Action* action = FindAction(inv.command);
  return action ? action->run(ctx, inv) : kExitUsage;
}

}  // namespace broadcastd
