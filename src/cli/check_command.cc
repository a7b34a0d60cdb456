#include <ostream>

#include "campaign/loader.h"
#include "cli/commands.h"
#include "config/config_loader.h"
#include "ingest/campaign_folder.h"
#include "ingest/campaign_ingester.h"

namespace broadcastd {
namespace fs = std::filesystem;

namespace {

// Checks one file's content; with a config, its app too. Reports either way.
bool CheckOne(const CommandContext& ctx, const std::string& shown, const std::string& bytes,
              const Config* config) {
  if (config) {
    auto campaign = CheckCampaignBytes(bytes, shown, *config);
    if (!campaign) {
      for (const auto& line : campaign.error()) ctx.err << line << "\n";
      return false;
    }
    ctx.out << shown << ": ok (campaign " << campaign->id << ", " << campaign->broadcasts.size()
            << " broadcasts)\n";
    return true;
  }
  // Without a config the app cannot be checked; the format still can.
  auto campaign = ParseCampaign(bytes, shown);
  if (!campaign) {
    for (const auto& d : campaign.error()) ctx.err << d.ToString() << "\n";
    return false;
  }
  ctx.out << shown << ": format ok (app not checked: no config)\n";
  return true;
}

// Every campaign file in campaigns_dir, read as the daemon reads them (without
// waiting for files to settle): a refused file is an error naming it and why.
bool CheckFolder(const CommandContext& ctx, const Config& config) {
  auto listing = CampaignFolder(config.campaigns_dir).ReadAll();
  if (!listing) {
    ctx.err << listing.error().message << "\n";
    return false;
  }
  bool ok = true;
  for (const RefusedFile& file : listing->refused) {
    ctx.err << (config.campaigns_dir / file.name).string() << ": refused: " << file.reason << "\n";
    ok = false;
  }
  for (const ReadyFile& file : listing->ready) {
    ok = CheckOne(ctx, (config.campaigns_dir / file.name).string(), file.bytes, &config) && ok;
  }
  return ok;
}

}  // namespace

int RunCheck(const CommandContext& ctx, const std::vector<fs::path>& files) {
  int errors = 0;
  auto config = LoadConfig(ctx.config_path);
  if (!config) {
    ctx.err << config.error().message << "\n";
    ++errors;
  } else {
    ctx.out << ctx.config_path.string() << ": ok (" << config->apps.size() << " apps)\n";
  }

  if (files.empty()) {
    if (!config) return 1;
    return CheckFolder(ctx, *config) ? 0 : 1;
  }
  for (const fs::path& path : files) {
    // The same rules as the daemon's: a FIFO or a symlink is refused, never opened
    // in a way that could block.
    auto bytes = ReadTrustedFile(path);
    if (!bytes) {
      ctx.err << bytes.error().message << "\n";
      ++errors;
      continue;
    }
    if (!CheckOne(ctx, path.string(), *bytes, config ? &*config : nullptr)) ++errors;
  }
  return errors == 0 ? 0 : 1;
}

}  // namespace broadcastd
