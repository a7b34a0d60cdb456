#include <signal.h>

#include <cstdio>
#include <optional>
#include <ostream>
#include <string_view>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/database_access.h"
#include "config/config_loader.h"
#include "core/log_value.h"
#include "document/text_encoding.h"
#include "store/daemon_lock.h"
#include "store/store.h"

namespace broadcastd {
namespace {

// "main/users" -> (main, users).
std::optional<std::pair<std::string, BroadcastTarget>> ParseEndpoint(const std::string& text) {
  auto slash = text.rfind('/');
  if (slash == std::string::npos || slash == 0) return std::nullopt;
  auto target = ParseTarget(std::string_view(text).substr(slash + 1));
  if (!target) return std::nullopt;
  return std::make_pair(text.substr(0, slash), *target);
}

Status Apply(Store& store, const OperatorAction& a, TimePoint now, std::ostream& out) {
  switch (a.kind) {
    case OperatorAction::kCancelCampaign: {
      auto n = store.CancelCampaign(a.argument, now);
      if (!n) return std::unexpected(n.error());
      out << "campaign " << a.argument << ": " << *n << " jobs cancelled\n";
      return {};
    }
    case OperatorAction::kConfirm: {
      auto n = store.ConfirmAdopted(a.argument, now);
      if (!n) return std::unexpected(n.error());
      out << "campaign " << a.argument << ": confirmed; " << *n << " jobs may go out\n";
      return {};
    }
    case OperatorAction::kConfirmAll: {
      auto ids = store.ConfirmAllAdopted(now);
      if (!ids) return std::unexpected(ids.error());
      if (ids->empty()) out << "no campaign is held for confirmation\n";
      for (const std::string& id : *ids) out << "campaign " << id << ": confirmed\n";
      return {};
    }
    case OperatorAction::kPause:
    case OperatorAction::kResume: {
      auto endpoint = ParseEndpoint(a.argument);
      if (!endpoint) {
        return Fail(
            ErrorKind::kInvalid,
            LogValue(a.argument) + " is not APP/TARGET (TARGET: users, online_users or chatrooms)");
      }
      Status st = a.kind == OperatorAction::kPause
                      ? store.Pause(endpoint->first, endpoint->second,
                                    a.reason.value_or("paused by operator"), now)
                      : store.Resume(endpoint->first, endpoint->second, now);
      if (st) {
        out << a.argument << (a.kind == OperatorAction::kPause ? ": paused\n" : ": resumed\n");
      }
      return st;
    }
    case OperatorAction::kCancelJob:
    case OperatorAction::kResolveSent:
    case OperatorAction::kResolveNotSent: {
      auto id = ParseJobId(a.argument);
      if (!id) return Fail(ErrorKind::kInvalid, LogValue(a.argument) + " is not a job id");
      Status st = a.kind == OperatorAction::kCancelJob ? store.CancelJob(*id, now)
                  : a.kind == OperatorAction::kResolveSent
                      ? store.ResolveSent(*id, a.broadcast_id, now)
                      : store.ResolveNotSent(*id, now);
      if (st) {
        out << "job " << *id << ": "
            << (a.kind == OperatorAction::kCancelJob     ? "cancelled"
                : a.kind == OperatorAction::kResolveSent ? "resolved as sent"
                                                         : "resolved as not sent (ready again)")
            << "\n";
      }
      return st;
    }
  }
  return Fail(ErrorKind::kInvalid, "unknown action");
}

// Why free text from the command line may not be stored, or nothing: it is shown by
// every output (the terminal, JSON, the page, the journal), so it is UTF-8 without
// control characters (C0, DEL, C1; a tab or a newline too).
std::optional<std::string> TextProblem(std::string_view text) {
  if (auto problem = FindEncodingProblem(text)) return problem->message;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const bool c1 = c == 0xc2 && i + 1 < text.size() &&
                    static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                    static_cast<unsigned char>(text[i + 1]) <= 0x9f;
    if (c < 0x20 || c1) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", c1 ? static_cast<unsigned char>(text[i + 1]) : c);
      return std::string("control character ") + hex;
    }
  }
  return std::nullopt;
}

// The flag that carries an action's argument.
const char* ActionFlag(OperatorAction::Kind kind) {
  switch (kind) {
    case OperatorAction::kCancelCampaign:
      return "--cancel-campaign";
    case OperatorAction::kCancelJob:
      return "--cancel-job";
    case OperatorAction::kPause:
      return "--pause";
    case OperatorAction::kResume:
      return "--resume";
    case OperatorAction::kResolveSent:
      return "--resolve-sent";
    case OperatorAction::kResolveNotSent:
      return "--resolve-not-sent";
    case OperatorAction::kConfirm:
      return "--confirm";
    case OperatorAction::kConfirmAll:
      return "--confirm-all";
  }
  return "the action";
}

// The first free text of the action that may not be stored, as the line to print.
std::optional<std::string> RefusedText(const OperatorAction& a) {
  const std::pair<const char*, const std::optional<std::string>*> texts[] = {
      {ActionFlag(a.kind), nullptr}, {"--reason", &a.reason}, {"--broadcast-id", &a.broadcast_id}};
  for (const auto& [flag, value] : texts) {
    const std::string& text = value ? value->value_or("") : a.argument;
    if (auto problem = TextProblem(text)) {
      return std::string(flag) + ": refused: " + *problem +
             "; give UTF-8 text without control characters";
    }
  }
  return std::nullopt;
}

}  // namespace

int RunOperatorAction(const CommandContext& ctx, const OperatorAction& action) {
  if (auto refused = RefusedText(action)) {
    ctx.err << *refused << "\n";
    return kExitUsage;
  }
  auto config = ConfigForOperatorCommand(ctx.config_path, ctx.err);
  if (!config) {
    ctx.err << config.error().message << "\n";
    return kExitUsage;
  }
  if (action.kind == OperatorAction::kPause || action.kind == OperatorAction::kResume) {
    // A typo must not pause (or resume) an endpoint no app has.
    auto endpoint = ParseEndpoint(action.argument);
    if (endpoint && !config->apps.contains(endpoint->first)) {
      std::string apps;
      for (const auto& [name, app] : config->apps) apps += (apps.empty() ? "" : ", ") + name;
      ctx.err << LogValue(action.argument) << ": no app " << LogValue(endpoint->first) << " in "
              << ctx.config_path.string() << " (apps: " << apps << ")\n";
      return kExitUsage;
    }
  }
  auto store = OpenStoreForOperator(*config, DatabaseUse::kWrite);
  if (!store) {
    ctx.err << store.error().message << "\n";
    return kExitUsage;
  }
  if (Status st = Apply(*store, action, ctx.clock.Now(), ctx.out); !st) {
    ctx.err << st.error().message << "\n";
    return kExitProblems;
  }
  if (auto pid = LockHolderPid(config->database)) {
    // The daemon re-reads the queue on SIGUSR1; without it, it would notice on its
    // next periodic rescan.
    if (::kill(*pid, SIGUSR1) != 0) {
      ctx.err << "note: could not signal the daemon (pid " << *pid
              << "); it picks the change up at its next rescan\n";
    }
  }
  return 0;
}

}  // namespace broadcastd
