#include "signature/signature_rule.h"

#include <algorithm>

namespace broadcastd {

std::string SignatureJudgement::SignersLine() const {
  std::string line;
  for (const std::string& s : signers) line += (line.empty() ? "" : ", ") + s;
  return line;
}

SignatureJudgement JudgeSignatures(const std::set<BroadcastTarget>& targets,
                                   const SignatureConfig& config,
                                   const std::vector<FileSignature>& signatures) {
  SignatureJudgement judgement;
  std::set<std::string> signers;
  for (const FileSignature& s : signatures) {
    if (s.check.valid) {
      signers.insert(s.check.principal);
    } else {
      judgement.problems.push_back(s.name + ": " + s.check.reason);
    }
  }
  judgement.signers.assign(signers.begin(), signers.end());
  // The target that needs the most signers, the first in kAllTargets' order on a tie.
  std::optional<BroadcastTarget> strictest;
  int needed = 0;
  for (BroadcastTarget target : kAllTargets) {
    if (!targets.contains(target)) continue;
    auto it = config.required.find(target);
    const int n = it == config.required.end() ? 0 : it->second;
    if (n > needed) {
      needed = n;
      strictest = target;
    }
  }
  const int has = static_cast<int>(signers.size());
  if (strictest && has < needed) {
    std::string hold = "unsigned: " + std::string(TargetName(*strictest)) + " needs " +
                       std::to_string(needed) + (needed == 1 ? " signer" : " signers") + ", has " +
                       std::to_string(has);
    if (has > 0) hold += " (" + judgement.SignersLine() + ")";
    judgement.hold = std::move(hold);
  }
  return judgement;
}

}  // namespace broadcastd
