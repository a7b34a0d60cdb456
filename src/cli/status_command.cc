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
  auto report = GatherStatus(*config, *store, ctx.clock.Now());
  if (!report) {
    ctx.err << report.error().message << "\n";
    return kExitUsage;
  }
  if (json) {
    ctx.out << RenderStatusJson(*report).dump(2) << "\n";
  } else {
    ctx.out << RenderStatusText(*report);
  }
  return kExitOk;
}

}  // namespace broadcastd
