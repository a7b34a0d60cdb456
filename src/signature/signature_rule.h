#pragma once
// The two-person rule: how many distinct people must have signed a campaign file, given the
// targets its broadcasts reach (SignatureConfig::required), and what a campaign that falls
// short waits with.

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/target.h"
#include "signature/signature_verifier.h"

namespace broadcastd {

// One signature file of a campaign file, and its verdict.
struct FileSignature {
  std::string name;  // "promo.yaml.alice.sig"
  SignatureCheck check;
};

struct SignatureJudgement {
  std::vector<std::string> signers;  // distinct principals of the valid signatures, sorted
  // Signatures that do not count: "promo.yaml.bob.sig: not signed by a key in ...".
  std::vector<std::string> problems;
  // Why the campaign's jobs wait: "unsigned: users needs 2 signers, has 1
  // (alice@example.com)"; none when it has enough.
  std::optional<std::string> hold;
  // The signers as one line ("alice@example.com, bob@example.com"), as stored and shown.
  std::string SignersLine() const;
};

// The most any of `targets` requires decides; a target not in `required` needs none.
SignatureJudgement JudgeSignatures(const std::set<BroadcastTarget>& targets,
                                   const SignatureConfig& config,
                                   const std::vector<FileSignature>& signatures);

}  // namespace broadcastd
