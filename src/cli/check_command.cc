#include <algorithm>
#include <ostream>

#include "campaign/loader.h"
#include "cli/check_preview.h"
#include "cli/commands.h"
#include "config/config_loader.h"
#include "ingest/campaign_ingester.h"

namespace broadcastd {
namespace fs = std::filesystem;

int RunCheck(const CommandContext& ctx, const std::vector<fs::path>& files) {
  int errors = 0;
  auto config = LoadConfig(ctx.config_path);
  if (!config) {
    ctx.err << config.error().message << "\n";
    ++errors;
  } else {
    ctx.out << ctx.config_path.string() << ": ok (" << config->apps.size() << " apps)\n";
    CheckCredentialFiles(*config, ctx.err);
  }

  std::vector<fs::path> paths = files;
  if (paths.empty()) {
    if (!config) return 1;
    std::error_code ec;
    for (fs::directory_iterator it(config->campaigns_dir, ec), end; !ec && it != end;
         it.increment(ec)) {
      const auto ext = it->path().extension();
      const auto name = it->path().filename().string();
      if (!name.starts_with(".") && (ext == ".yaml" || ext == ".yml")) paths.push_back(it->path());
    }
    if (ec) {
      ctx.err << "campaigns_dir " << config->campaigns_dir.string() << ": " << ec.message() << "\n";
      return 1;
    }
    std::sort(paths.begin(), paths.end());
  }

  for (const fs::path& path : paths) {
    if (config) {
      auto campaign = CheckCampaignFile(path, *config);
      if (!campaign) {
        for (const auto& line : campaign.error()) ctx.err << line << "\n";
        ++errors;
        continue;
      }
      ctx.out << path.string() << ": ok (campaign " << campaign->id << ", "
              << campaign->broadcasts.size() << " broadcasts)\n";
      if (!files.empty()) ctx.out << CheckPreviewText(*config, *campaign, path, ctx.clock.Now());
    } else {
      // Without a config the app cannot be checked; the format still can.
      auto campaign = LoadCampaignFile(path);
      if (!campaign) {
        for (const auto& d : campaign.error()) ctx.err << d.ToString() << "\n";
        ++errors;
        continue;
      }
      ctx.out << path.string() << ": format ok (app not checked: no config)\n";
    }
  }
  return errors == 0 ? 0 : 1;
}

}  // namespace broadcastd
