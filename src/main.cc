// broadcastd: sends scheduled Easemob broadcast campaigns within the API's limits.
// This file only reads the flags (cli/command_line.h) and hands over to the
// daemon or to the action's entry in the table of actions.

#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/journal_stream.h"
#include "daemon/daemon.h"
#include "daemon/logging.h"
#include "easemob/curl_transport.h"

namespace broadcastd {
namespace {

int RunDaemonProcess(const Invocation& inv) {
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

int RunCommand(const Invocation& inv) {
  // Under systemd (ExecStartPre, systemd-run) each line carries its priority:
  // errors show in `journalctl -p err`.
  JournalPriorities out_priorities(std::cout, STDOUT_FILENO, "<6>");
  JournalPriorities err_priorities(std::cerr, STDERR_FILENO, "<3>");
  SystemClock clock;
  CommandContext ctx{inv.config, clock, std::cout, std::cerr};
  return RunAction(ctx, inv);
}

}  // namespace
}  // namespace broadcastd

int main(int argc, char** argv) {
  using namespace broadcastd;
  Invocation inv;
  if (auto exit_code = ParseCommandLine(argc, argv, inv, std::cout, std::cerr)) return *exit_code;
  return inv.command == Command::kDaemon ? RunDaemonProcess(inv) : RunCommand(inv);
}
