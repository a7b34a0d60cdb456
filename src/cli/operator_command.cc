#include <signal.h>

#include <charconv>
#include <ostream>

#include "cli/commands.h"
#include "config/config_loader.h"
#include "store/daemon_lock.h"
#include "store/store.h"

namespace broadcastd {
namespace {

std::optional<int64_t> ParseJobId(const std::string& text) {
  int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

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
    case OperatorAction::kPause:
    case OperatorAction::kResume: {
      auto endpoint = ParseEndpoint(a.argument);
      if (!endpoint) {
        return Fail("\"" + a.argument +
                    "\" is not APP/TARGET (TARGET: users, online_users or chatrooms)");
      }
      Status st = a.kind == OperatorAction::kPause
                      ? store.Pause(endpoint->first, endpoint->second,
                                    a.reason.empty() ? "paused by operator" : a.reason, now)
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
      if (!id) return Fail("\"" + a.argument + "\" is not a job id");
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
  return Fail("unknown action");
}

}  // namespace

int RunOperatorAction(const CommandContext& ctx, const OperatorAction& action) {
  auto config = LoadConfig(ctx.config_path);
  if (!config) {
    ctx.err << config.error().message << "\n";
    return 2;
  }
  auto store = Store::Open(config->database, Store::Mode::kReadWrite);
  if (!store) {
    ctx.err << store.error().message << "\n";
    return 2;
  }
  if (Status st = Apply(*store, action, ctx.clock.Now(), ctx.out); !st) {
    ctx.err << st.error().message << "\n";
    return 1;
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
