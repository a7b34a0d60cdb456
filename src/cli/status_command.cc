#include <algorithm>
#include <ostream>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/database_access.h"
#include "cli/status_render.h"
#include "config/config_loader.h"
#include "status/gather_status.h"
#include "store/store.h"

namespace broadcastd {
namespace {

Result<StatusQuery> QueryOf(const StatusOptions& o) {
  StatusQuery query;
  query.limit = o.limit;
  if (!o.state.empty()) {
    query.state = ParseJobState(o.state);
    if (!query.state) {
      return Fail(ErrorKind::kInvalid,
                  "--state: no such state '" + o.state +
                      "' (scheduled, ready, sending, sent, failed, unknown, expired, cancelled)");
    }
  }
  if (!o.target.empty()) {
    query.target = ParseTarget(o.target);
    if (!query.target) {
      return Fail(ErrorKind::kInvalid,
                  "--target: no such target '" + o.target + "' (users, online_users, chatrooms)");
    }
  }
  if (!o.campaign.empty()) query.campaign_id = o.campaign;
  if (!o.app.empty()) query.app = o.app;
  if (!o.after.empty()) {
    auto after = ParseCursor(o.after);
    if (!after) return std::unexpected(after.error());
    // A cursor from another listing would skip whole states: refuse it.
    auto states = ListedStates(query);
    if (std::find(states.begin(), states.end(), after->state) == states.end()) {
      return Fail(ErrorKind::kInvalid, "--after: the cursor is not from this listing");
    }
    query.after = *after;
  }
  return query;
}

}  // namespace

int RunStatus(const CommandContext& ctx, const StatusOptions& options) {
  auto query = QueryOf(options);
  if (!query) {
    ctx.err << query.error().message << "\n";
    return 2;
  }
  auto config = ConfigForOperatorCommand(ctx.config_path, ctx.err);
  if (!config) {
    ctx.err << config.error().message << "\n";
    return kExitUsage;
  }
  auto store = OpenStoreForOperator(*config, DatabaseUse::kRead);
  if (!store) {
    ctx.err << store.error().message << "\n";
    return kExitUsage;
  }
  auto report = GatherStatus(*config, *store, ctx.clock.Read(), *query, ctx.clock.BootId());
  if (!report) {
    ctx.err << report.error().message << "\n";
    return kExitUsage;
  }
  if (options.json) {
    // A file name need not be UTF-8: such bytes become U+FFFD rather than an exception.
    ctx.out << RenderStatusJson(*report).dump(2, ' ', false,
                                              nlohmann::json::error_handler_t::replace)
            << "\n";
  } else {
    ctx.out << RenderStatusText(*report);
  }
  return kExitOk;
}

}  // namespace broadcastd
