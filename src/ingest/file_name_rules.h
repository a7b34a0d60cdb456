#pragma once
// Which names in campaigns_dir are campaign files. Editors and package tools
// leave temporaries beside the files they write (`.x.yaml.swp`, `x.yaml~`,
// `x.yaml.dpkg-new`): those are ignored without a word, as run-parts and sudo's
// includedir do. A name that would be a campaign file but cannot be shown
// safely (not UTF-8, or holding a control character) is refused: it would end
// up in logs, in --status and in the database.

#include <string>
#include <string_view>

namespace broadcastd {

enum class NameVerdict {
  kCampaign,  // *.yaml or *.yml, shown as it is
  kIgnored,   // not a campaign file, or a temporary: skipped silently
  kRefused,   // a campaign file's name that cannot be shown: see NameRefusal
  // A detached signature of a campaign file (signed campaigns): "<file>.sig" or
  // "<file>.<label>.sig", where <file> is a campaign file's name ("promo.yaml.sig",
  // "promo.yaml.alice.sig"); see SignedFileOf. Temporaries are ignored as for campaigns.
  kSignature,
};

NameVerdict ClassifyFileName(std::string_view name);

// The campaign file a kSignature name signs ("promo.yaml.alice.sig" -> "promo.yaml").
std::string SignedFileOf(std::string_view signature_name);

// Why a kRefused name is refused ("the name is not valid UTF-8 (byte 0xff)").
std::string NameRefusal(std::string_view name);

// The name as it may be shown and stored: control characters and bytes that are
// not UTF-8 escaped (`\n`, `\xff`). The name itself when it needs nothing.
std::string DisplayFileName(std::string_view name);

}  // namespace broadcastd
