// broadcastd: sends scheduled Easemob broadcast campaigns within the API's limits.
// This file only reads the flags and hands over to the daemon or a command.

#include <CLI/CLI.hpp>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "daemon/event_loop.h"
#include "daemon/logging.h"

namespace {

constexpr const char* kDefaultConfig = "/etc/broadcastd/broadcastd.yaml";

struct Flags {
  std::string config = kDefaultConfig;
  bool status = false;
  bool json = false;
  bool check = false;
  bool verbose = false;
  std::vector<std::string> files;
  std::string cancel_campaign, cancel_job, pause, resume, resolve_sent, resolve_not_sent;
  std::string reason;
  std::optional<std::string> broadcast_id;
  broadcastd::StatusOptions listing;
  std::string history;
};

}  // namespace

int main(int argc, char** argv) {
  using namespace broadcastd;
  Flags f;
  CLI::App app{"broadcastd: sends scheduled Easemob broadcast campaigns within the API's limits"};
  app.set_version_flag("--version", std::string("broadcastd ") + BROADCASTD_VERSION);
  app.add_option("-c,--config", f.config, "daemon config file")->capture_default_str();
  app.add_flag("--status", f.status, "show apps, endpoints, campaigns and jobs, then exit");
  app.add_flag("--json", f.json, "with --status or --history: print JSON (format in README.md)");
  app.add_option("--state", f.listing.state, "with --status: list jobs in this state");
  app.add_option("--campaign", f.listing.campaign, "with --status: list this campaign's jobs");
  app.add_option("--app", f.listing.app, "with --status: list this app's jobs");
  app.add_option("--target", f.listing.target, "with --status: list jobs for this target");
  app.add_option("--limit", f.listing.limit, "with --status: list at most N jobs")
      ->capture_default_str();
  app.add_option("--after", f.listing.after, "with --status: the next page (next_cursor)")
      ->option_text("CURSOR");
  app.add_option("--history", f.history, "show every attempt and operator action on a job")
      ->option_text("JOB");
  app.add_flag("--check", f.check, "validate the config and campaigns (FILE... or all), then exit");
  app.add_option("files", f.files, "campaign files for --check");
  app.add_flag("-v,--verbose", f.verbose, "debug logging");
  app.add_option("--cancel-campaign", f.cancel_campaign,
                 "cancel every queued or unknown job of a campaign")
      ->option_text("ID");
  app.add_option("--cancel-job", f.cancel_job, "cancel one queued or unknown job")
      ->option_text("JOB");
  app.add_option("--pause", f.pause, "stop sending on an app's endpoint")
      ->option_text("APP/TARGET");
  app.add_option("--reason", f.reason, "with --pause: why (shown by --status)");
  app.add_option("--resume", f.resume, "resume an app's endpoint")->option_text("APP/TARGET");
  app.add_option("--resolve-sent", f.resolve_sent, "an unknown job was delivered")
      ->option_text("JOB");
  app.add_option("--broadcast-id", f.broadcast_id, "with --resolve-sent: its broadcast ID");
  app.add_option("--resolve-not-sent", f.resolve_not_sent,
                 "an unknown job was not delivered: queue it again")
      ->option_text("JOB");
  CLI11_PARSE(app, argc, argv);

  SystemClock clock;
  CommandContext ctx{f.config, clock, std::cout, std::cerr};

  struct Action {
    bool selected;
    std::function<int()> run;
  };
  auto op = [&](OperatorAction::Kind kind, const std::string& arg) {
    return [&, kind, arg] {
      return RunOperatorAction(ctx, OperatorAction{kind, arg, f.broadcast_id, f.reason});
    };
  };
  const Action actions[] = {
      {f.check,
       [&] {
         return RunCheck(ctx, {f.files.begin(), f.files.end()});
       }},
      {f.status,
       [&] {
         f.listing.json = f.json;
         return RunStatus(ctx, f.listing);
       }},
      {!f.history.empty(), [&] { return RunHistory(ctx, f.history, f.json); }},
      {!f.cancel_campaign.empty(), op(OperatorAction::kCancelCampaign, f.cancel_campaign)},
      {!f.cancel_job.empty(), op(OperatorAction::kCancelJob, f.cancel_job)},
      {!f.pause.empty(), op(OperatorAction::kPause, f.pause)},
      {!f.resume.empty(), op(OperatorAction::kResume, f.resume)},
      {!f.resolve_sent.empty(), op(OperatorAction::kResolveSent, f.resolve_sent)},
      {!f.resolve_not_sent.empty(), op(OperatorAction::kResolveNotSent, f.resolve_not_sent)},
  };
  const Action* chosen = nullptr;
  for (const Action& a : actions) {
    if (!a.selected) continue;
    if (chosen) {
      std::cerr << "choose one of --check, --status and the operator actions\n";
      return 2;
    }
    chosen = &a;
  }
  if (!f.files.empty() && !f.check) {
    std::cerr << "campaign files are only taken with --check\n";
    return 2;
  }
  if (chosen) return chosen->run();

  // Before any thread exists, so every thread inherits the mask and the
  // daemon's signals arrive only through its signalfd. (Commands keep the
  // default handlers: Ctrl-C stops a long --status.)
  BlockDaemonSignals();
  SetUpLogging(f.verbose);
  return RunDaemon(DaemonOptions{f.config});
}
