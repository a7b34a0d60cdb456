#pragma once
// Checks detached signatures of campaign files with OpenSSH's own ssh-keygen (never
// cryptography of ours), the way git checks signed commits:
//
//   ssh-keygen -Y find-principals -s SIG -f allowed_signers          -> who may have signed
//   ssh-keygen -Y verify -n broadcastd -I PRINCIPAL -f allowed_signers [-r revoked] -s SIG
//                                                    (the file's bytes on stdin) -> good or not
//
// each a child process (child_process.h) bounded in time. A verdict depends on the file's
// bytes, the signature's bytes and the bytes of allowed_signers and the revocation file as
// they were read when the verifier was made (a copy of them is what ssh-keygen reads), so it
// is worked out once per such (file, signature, signers) and kept: a rescan, and a restart
// given the verdicts the store kept (Remember), runs nothing for unchanged bytes. A key's
// validity (valid-after, valid-before) is judged when the signature is first checked.
//
// Threads: Verify blocks for as long as ssh-keygen runs and is meant for the ingest checkers'
// threads, never the daemon's loop; every member is safe to call from several threads.

#include <atomic>
#include <expected>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "core/error.h"

namespace broadcastd {

// The namespace every campaign signature is made in (ssh-keygen -Y sign -n broadcastd).
inline constexpr const char* kSignatureNamespace = "broadcastd";

struct SignatureCheck {
  bool valid = false;
  std::string principal;  // valid: who signed, as allowed_signers names them
  std::string reason;     // not valid: why, in ssh-keygen's words where it gave some
  friend bool operator==(const SignatureCheck&, const SignatureCheck&) = default;
};

// A verdict as one line of text (stored) and back.
std::string EncodeCheck(const SignatureCheck& check);
std::optional<SignatureCheck> DecodeCheck(std::string_view text);

// SHA-256 of `bytes`, 64 hex digits.
std::string Sha256Hex(std::string_view bytes);

class SignatureVerifier {
 public:
  // Reads allowed_signers and the revocation file and keeps a private copy of them for
  // ssh-keygen. Fails (naming the file) when one cannot be read.
  static Result<std::shared_ptr<SignatureVerifier>> Create(const SignatureConfig& config);
  ~SignatureVerifier();
  SignatureVerifier(const SignatureVerifier&) = delete;
  SignatureVerifier& operator=(const SignatureVerifier&) = delete;

  // SHA-256 of the signers files' bytes as read: part of every key.
  const std::string& signers_digest() const { return signers_digest_; }
  // The key of one verdict.
  std::string KeyOf(std::string_view file, std::string_view signature) const;

  // The verdict on `signature` over `file`: the kept one, else ssh-keygen's (and kept).
  SignatureCheck Verify(std::string_view file, std::string_view signature);
  std::optional<SignatureCheck> Cached(const std::string& key) const;
  // A verdict kept elsewhere (the store), made with these same signers files.
  void Remember(const std::string& key, const SignatureCheck& check);
  // The verdicts worked out since the last call, to be kept (the store).
  std::vector<std::pair<std::string, SignatureCheck>> TakeNew();

  // How many verdicts ssh-keygen was run for, for tests and the benchmark.
  uint64_t runs() const { return runs_.load(); }

 private:
  SignatureVerifier() = default;
  SignatureCheck Run(std::string_view file, std::string_view signature) const;
  // ssh-keygen -Y find-principals: who allowed_signers says may have made the signature at
  // `sig_path`; else why none.
  std::expected<std::vector<std::string>, std::string> FindPrincipals(
      const std::string& sig_path) const;
  // ssh-keygen -Y verify as each of `principals` in turn: the first that verifies.
  SignatureCheck VerifyAs(const std::vector<std::string>& principals, const std::string& sig_path,
                          std::string_view file) const;

  SignatureConfig config_;
  std::filesystem::path dir_;  // private copies of the signers files, the signatures checked
  std::filesystem::path allowed_copy_;
  std::optional<std::filesystem::path> revoked_copy_;
  std::string signers_digest_;
  mutable std::mutex mu_;
  std::map<std::string, SignatureCheck> cache_;              // GUARDED_BY(mu_)
  std::vector<std::pair<std::string, SignatureCheck>> new_;  // GUARDED_BY(mu_)
  std::atomic<uint64_t> runs_{0};
};

// --check-config: whether ssh-keygen reads allowed_signers (every line) and the revocation
// file without complaint. Makes a throwaway key and signature in a temporary folder to ask
// it. The error names the file and quotes ssh-keygen.
Status CheckSignerFiles(const SignatureConfig& config);

}  // namespace broadcastd
