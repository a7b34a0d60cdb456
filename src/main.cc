// broadcastd: sends scheduled Easemob broadcast campaigns within the API's limits.
// This file only reads the flags (cli/command_line.h) and hands over to the
// daemon or a command.

#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/journal_stream.h"
#include "daemon/event_loop.h"
#include "daemon/logging.h"
#include "easemob/curl_transport.h"

int main(int argc, char** argv) {
  using namespace broadcastd;
  Invocation inv;
  if (auto exit_code = ParseCommandLine(argc, argv, inv, std::cout, std::cerr)) return *exit_code;

  if (inv.command == Command::kDaemon) {
    // Before any thread exists, so every thread inherits the mask and the
    // daemon's signals arrive only through its signalfd. (Commands keep the
    // default handlers: Ctrl-C stops a long --status.)
    BlockDaemonSignals();
    SetUpLogging(inv.verbose);
    const char* credentials = std::getenv("CREDENTIALS_DIRECTORY");
    DaemonOptions options;
    options.config_path = inv.config;
    options.credentials_dir = credentials ? credentials : "";
    SystemClock clock;
    CurlTransport transport;
    return RunDaemon(options, clock, transport);
  }

  // Under systemd (ExecStartPre, systemd-run) each line carries its priority:
  // errors show in `journalctl -p err`.
  JournalPriorities out_priorities(std::cout, STDOUT_FILENO, "<6>");
  JournalPriorities err_priorities(std::cerr, STDERR_FILENO, "<3>");
  SystemClock clock;
  CommandContext ctx{inv.config, clock, std::cout, std::cerr};
  auto op = [&](OperatorAction::Kind kind) {
    return RunOperatorAction(ctx, OperatorAction{kind, inv.argument, inv.broadcast_id, inv.reason});
  };
  switch (inv.command) {
    case Command::kCheck:
      return RunCheck(ctx, inv.files);
    case Command::kCheckConfig:
      return RunCheckConfig(ctx);
    case Command::kStatus: {
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
    case Command::kHistory:
      return RunHistory(ctx, inv.argument, inv.json);
    case Command::kCancelCampaign:
      return op(OperatorAction::kCancelCampaign);
    case Command::kCancelJob:
      return op(OperatorAction::kCancelJob);
    case Command::kPause:
      return op(OperatorAction::kPause);
    case Command::kResume:
      return op(OperatorAction::kResume);
    case Command::kResolveSent:
      return op(OperatorAction::kResolveSent);
    case Command::kResolveNotSent:
      return op(OperatorAction::kResolveNotSent);
    case Command::kDaemon:
      break;
  }
  return kExitUsage;
}
