#include <algorithm>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>

#include "campaign/loader.h"
#include "cli/check_preview.h"
#include "cli/commands.h"
#include "config/config_loader.h"
#include "ingest/campaign_folder.h"
#include "ingest/campaign_ingester.h"
#include "ingest/file_name_rules.h"
#include "signature/signature_rule.h"
#include "signature/signature_verifier.h"

namespace broadcastd {
namespace fs = std::filesystem;

namespace {

// Signed campaigns, for one run of --check: one verifier, each folder listed once.
struct SignatureContext {
  std::optional<Result<std::shared_ptr<SignatureVerifier>>> verifier;
  // Folder -> signed file -> its signature files, by name.
  std::map<fs::path, std::map<std::string, std::vector<std::string>>> folders;

  const std::vector<std::string>& SignaturesOf(const fs::path& path) {
    const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
    auto [it, fresh] = folders.try_emplace(dir);
    if (fresh) {
      std::error_code ec;
      for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (ClassifyFileName(name) == NameVerdict::kSignature) {
          it->second[SignedFileOf(name)].push_back(name);
        }
      }
      for (auto& [file, names] : it->second) std::sort(names.begin(), names.end());
    }
    static const std::vector<std::string> kNone;
    auto names = it->second.find(path.filename().string());
    return names == it->second.end() ? kNone : names->second;
  }
};

// Signed campaigns: who signed the file at `path` (its signature files beside it, under the
// folder's rules), what does not count, and what its jobs would wait for.
void CheckSignatures(const CommandContext& ctx, const Config& config, const fs::path& path,
                     const std::string& bytes, const Campaign& campaign,
                     SignatureContext& context) {
  const std::string shown = path.string();
  if (!context.verifier) context.verifier = SignatureVerifier::Create(*config.signatures);
  const auto& verifier = *context.verifier;
  if (!verifier) {
    ctx.out << shown << ": signatures not checked: " << verifier.error().message << "\n";
    return;
  }
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  const std::vector<std::string>& names = context.SignaturesOf(path);
  std::vector<FileSignature> signatures;
  for (const std::string& name : names) {
    FileSignature s{name, {}};
    auto sig = ReadTrustedFile(dir / name);
    if (!sig) {
      s.check.reason = "refused: " + sig.error().message;
    } else {
      s.check = (*verifier)->Verify(bytes, *sig);
    }
    signatures.push_back(std::move(s));
  }
  std::set<BroadcastTarget> targets;
  for (const Broadcast& b : campaign.broadcasts) targets.insert(b.target);
  const SignatureJudgement j = JudgeSignatures(targets, *config.signatures, signatures);
  ctx.out << shown << ": signed by " << (j.signers.empty() ? "nobody" : j.SignersLine()) << "\n";
  for (const std::string& problem : j.problems) {
    ctx.out << shown << ": not counted: " << problem << "\n";
  }
  if (j.hold) {
    ctx.out << shown << ": its jobs would wait: " << *j.hold
            << " (sign with: ssh-keygen -Y sign -n " << kSignatureNamespace << " -f KEY " << shown
            << ")\n";
  }
}

// Checks one file's content; with a config, its app too. Reports either way.
// Returns the campaign's id when the file is valid. With `preview`, a valid
// file's jobs are listed with their forecast send times.
std::optional<std::string> CheckOne(const CommandContext& ctx, const std::string& shown,
                                    const std::string& bytes, const Config* config,
                                    SignatureContext& signatures,
                                    const fs::path* preview = nullptr) {
  if (config) {
    auto campaign = CheckCampaignBytes(bytes, shown, *config);
    if (!campaign) {
      for (const auto& line : campaign.error()) ctx.err << line << "\n";
      return std::nullopt;
    }
    ctx.out << shown << ": ok (campaign " << campaign->id << ", " << campaign->broadcasts.size()
            << " broadcasts)\n";
    if (config->signatures) {
      CheckSignatures(ctx, *config, fs::path(shown), bytes, *campaign, signatures);
    }
    if (preview)
      ctx.out << CheckPreviewText(*config, *campaign, *preview, ctx.clock.Read(),
                                  ctx.clock.BootId());
    return campaign->id;
  }
  // Without a config the app cannot be checked; the format still can.
  auto campaign = ParseCampaign(bytes, shown);
  if (!campaign) {
    for (const auto& d : campaign.error()) ctx.err << d.ToString() << "\n";
    return std::nullopt;
  }
  ctx.out << shown << ": format ok (app not checked: no config)\n";
  return campaign->id;
}

// Every campaign file in campaigns_dir, read as the daemon reads them (without
// waiting for files to settle): a refused file is an error naming it and why,
// and so is a second file with an id another file already uses (the daemon
// would reject one of them).
bool CheckFolder(const CommandContext& ctx, const Config& config) {
  SignatureContext signatures;
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
  std::map<std::string, std::string> file_by_id;
  for (const ReadyFile& file : listing->ready) {
    const std::string shown = (config.campaigns_dir / file.name).string();
    std::optional<std::string> id = CheckOne(ctx, shown, file.bytes, &config, signatures);
    if (!id) {
      ok = false;
      continue;
    }
    auto [it, fresh] = file_by_id.emplace(*id, shown);
    if (!fresh) {
      ctx.err << shown << ": id: \"" << *id << "\" is already used by " << it->second
              << "; the daemon keeps it for the file that held it first and rejects the other "
                 "[rule.id_unique]\n";
      ok = false;
    }
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
    CheckCredentialFiles(*config, ctx.err);
  }

  if (files.empty()) {
    if (!config) return 1;
    return CheckFolder(ctx, *config) ? 0 : 1;
  }
  SignatureContext signatures;
  for (const fs::path& path : files) {
    // The same rules as the daemon's: a FIFO or a symlink is refused, never opened
    // in a way that could block.
    auto bytes = ReadTrustedFile(path);
    if (!bytes) {
      ctx.err << bytes.error().message << "\n";
      ++errors;
      continue;
    }
    if (!CheckOne(ctx, path.string(), *bytes, config ? &*config : nullptr, signatures, &path)) {
      ++errors;
    }
  }
  return errors == 0 ? 0 : 1;
}

}  // namespace broadcastd
