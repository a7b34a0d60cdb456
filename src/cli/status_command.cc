#include <ostream>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/database_access.h"
#include "cli/status_report.h"
#include "config/config_loader.h"
#include "store/store.h"

namespace broadcastd {

int RunStatus(const CommandContext& ctx, bool json) {
  auto config = LoadConfig(ctx.config_path);
  if (!config) {
    ctx.err << config.error().message << "\n";
    return kExitUsage;
  }
  if (Status access = CheckDatabaseAccess(config->database, DatabaseUse::kRead); !access) {
    ctx.err << access.error().message << "\n";
    return kExitUsage;
  }
  auto store = Store::Open(config->database, Store::Mode::kReadOnly);
  if (!store) {
    ctx.err << store.error().message << "\n";
    return kExitUsage;
  }
  auto report = GatherStatus(*config, *store, ctx.clock.Read(), ctx.clock.BootId());
  if (!report) {
    ctx.err << report.error().message << "\n";
    return kExitUsage;
  }
  if (json) {
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
