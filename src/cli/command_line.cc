#include "cli/command_line.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <ostream>
#include <string_view>

#include "core/log_value.h"
#include "core/target.h"

namespace broadcastd {
namespace {

struct ActionFlag {
  Command command;
  const char* flag;
};

constexpr ActionFlag kActions[] = {
    {Command::kCheck, "--check"},
    {Command::kCheckConfig, "--check-config"},
    {Command::kStatus, "--status"},
    {Command::kHistory, "--history"},
    {Command::kCancelCampaign, "--cancel-campaign"},
    {Command::kCancelJob, "--cancel-job"},
    {Command::kPause, "--pause"},
    {Command::kResume, "--resume"},
    {Command::kResolveSent, "--resolve-sent"},
    {Command::kResolveNotSent, "--resolve-not-sent"},
};

// A modifier and the action it belongs to (--json: two of them).
struct Modifier {
  const char* flag;
  Command action;
  Command also;
};

constexpr Modifier kModifiers[] = {
    {"--json", Command::kStatus, Command::kHistory},
    {"--state", Command::kStatus, Command::kStatus},
    {"--campaign", Command::kStatus, Command::kStatus},
    {"--app", Command::kStatus, Command::kStatus},
    {"--target", Command::kStatus, Command::kStatus},
    {"--limit", Command::kStatus, Command::kStatus},
    {"--after", Command::kStatus, Command::kStatus},
    {"--reason", Command::kPause, Command::kPause},
    {"--broadcast-id", Command::kResolveSent, Command::kResolveSent},
    {"--verbose", Command::kDaemon, Command::kDaemon},
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

}  // namespace

const char* CommandFlag(Command command) {
  for (const ActionFlag& a : kActions) {
    if (a.command == command) return a.flag;
  }
  return "";
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

  std::string config = inv.config.string();
  std::string argument, reason, broadcast_id;
  std::vector<std::string> files;
  app.add_option("-c,--config", config, "daemon config file")->capture_default_str();
  app.add_flag("--check")->description(
      "validate the config and campaigns (FILE... or all), then exit");
  app.add_flag("--check-config")
      ->description(
          "validate the config only (for ExecStartPre: a bad campaign never stops a start)");
  app.add_flag("--status")->description("show apps, endpoints, campaigns and jobs, then exit");
  app.add_flag("--json")->description(
      "with --status or --history: print JSON (format in README.md)");
  app.add_option("--state", inv.state, "with --status: list jobs in this state");
  app.add_option("--campaign", inv.campaign, "with --status: list this campaign's jobs")
      ->option_text("ID");
  app.add_option("--app", inv.app, "with --status: list this app's jobs")->option_text("APP");
  app.add_option("--target", inv.target, "with --status: list jobs for this target");
  app.add_option("--limit", inv.limit, "with --status: list at most N jobs")->capture_default_str();
  app.add_option("--after", inv.after, "with --status: the next page (JSON next_cursor)")
      ->option_text("CURSOR");
  app.add_option("--history", argument, "every attempt and operator action on one job")
      ->option_text("JOB");
  app.add_option("files", files, "campaign files, with --check")->option_text("FILE...");
  app.add_flag("-v,--verbose")->description("when running the daemon: debug logging");
  app.add_option("--cancel-campaign", argument, "cancel every queued or unknown job of a campaign")
      ->option_text("ID");
  app.add_option("--cancel-job", argument, "cancel one queued or unknown job")->option_text("JOB");
  app.add_option("--pause", argument, "stop sending on an app's endpoint")
      ->option_text("APP/TARGET");
  app.add_option("--reason", reason, "with --pause: why (shown by --status)")->option_text("TEXT");
  app.add_option("--resume", argument, "resume an app's endpoint")->option_text("APP/TARGET");
  app.add_option("--resolve-sent", argument, "an unknown job was delivered")->option_text("JOB");
  app.add_option("--broadcast-id", broadcast_id, "with --resolve-sent: its broadcast ID")
      ->option_text("ID");
  app.add_option("--resolve-not-sent", argument, "an unknown job was not delivered: queue it again")
      ->option_text("JOB");

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

  auto usage = [&](const std::string& why) {
    err << "broadcastd: " << why << " (see broadcastd --help)\n";
    return kExitUsage;
  };

  std::vector<const ActionFlag*> chosen;
  for (const ActionFlag& a : kActions) {
    if (app.count(a.flag) > 0) chosen.push_back(&a);
  }
  if (chosen.size() > 1) {
    std::string list;
    for (const ActionFlag* a : chosen) list += (list.empty() ? "" : ", ") + std::string(a->flag);
    return usage("give one action, not several (" + list + ")");
  }
  inv.command = chosen.empty() ? Command::kDaemon : chosen.front()->command;

  for (const Modifier& m : kModifiers) {
    if (app.count(m.flag) == 0 || m.action == inv.command || m.also == inv.command) continue;
    if (m.action == Command::kDaemon) {
      return usage(std::string(m.flag) + " only applies when running the daemon, not with " +
                   CommandFlag(inv.command));
    }
    return usage(std::string(m.flag) + " only goes with " + CommandFlag(m.action) +
                 (inv.command == Command::kDaemon
                      ? std::string(" (without an action, broadcastd would run the daemon)")
                      : std::string(", not with ") + CommandFlag(inv.command)));
  }
  if (!files.empty() && inv.command != Command::kCheck) {
    return usage("campaign files (" + LogValue(files.front()) + ") are only taken with --check");
  }

  if (config.empty()) return usage("--config: empty path");
  inv.config = config;
  inv.verbose = app.count("--verbose") > 0;
  inv.json = app.count("--json") > 0;
  inv.files.assign(files.begin(), files.end());
  for (const auto& f : inv.files) {
    if (f.empty()) return usage("--check: an empty file name");
  }
  inv.argument = argument;
  if (std::string why = ArgumentProblem(inv); !why.empty()) return usage(why);
  if (app.count("--reason") > 0) {
    if (reason.empty()) return usage("--reason: empty (leave it out for the default reason)");
    if (HasControl(reason)) return usage("--reason: holds a control character");
    inv.reason = reason;
  }
  if (app.count("--broadcast-id") > 0) {
    if (broadcast_id.empty() || !std::all_of(broadcast_id.begin(), broadcast_id.end(),
                                             [](char c) { return c >= '0' && c <= '9'; })) {
      return usage("--broadcast-id " + LogValue(broadcast_id) +
                   ": not a broadcast ID (the digits the vendor answered)");
    }
    inv.broadcast_id = broadcast_id;
  }
  return std::nullopt;
}

}  // namespace broadcastd
