#include "signature/signature_verifier.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <system_error>

#include "signature/child_process.h"

namespace broadcastd {
namespace fs = std::filesystem;
namespace {

Result<std::string> ReadWhole(const fs::path& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Fail(ErrorKind::kInvalid,
                std::string("signatures.") + what + " " + path.string() + ": cannot be read");
  }
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

Status WriteWhole(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return Fail(ErrorKind::kIo, path.string() + ": cannot be written");
  return {};
}

Result<fs::path> MakeTempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/broadcastd-sig.XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    return Fail(ErrorKind::kIo, "a temporary folder for ssh-keygen cannot be made: " +
                                    std::system_category().message(errno));
  }
  return fs::path(pattern);
}

// The last non-empty line ssh-keygen wrote, as a reason.
std::string LastLine(const std::string& text, const std::string& otherwise) {
  std::string last;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) last = line;
  }
  return last.empty() ? otherwise : last;
}

std::vector<std::string> SplitPrincipals(const std::string& out) {
  std::vector<std::string> principals;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream parts(line);
    for (std::string p; std::getline(parts, p, ',');) {
      if (!p.empty()) principals.push_back(p);
    }
  }
  return principals;
}

}  // namespace

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

std::string EncodeCheck(const SignatureCheck& check) {
  return (check.valid ? "good\t" + check.principal : "bad\t" + check.reason);
}

std::optional<SignatureCheck> DecodeCheck(std::string_view text) {
  const size_t tab = text.find('\t');
  if (tab == std::string_view::npos) return std::nullopt;
  SignatureCheck check;
  const std::string_view kind = text.substr(0, tab);
  const std::string rest(text.substr(tab + 1));
  if (kind == "good") {
    check.valid = true;
    check.principal = rest;
  } else if (kind == "bad") {
    check.reason = rest;
  } else {
    return std::nullopt;
  }
  return check;
}

Result<std::shared_ptr<SignatureVerifier>> SignatureVerifier::Create(
    const SignatureConfig& config) {
  auto allowed = ReadWhole(config.allowed_signers, "allowed_signers");
  if (!allowed) return std::unexpected(allowed.error());
  std::optional<std::string> revoked;
  if (config.revoked) {
    auto bytes = ReadWhole(*config.revoked, "revoked");
    if (!bytes) return std::unexpected(bytes.error());
    revoked = std::move(*bytes);
  }
  auto dir = MakeTempDir();
  if (!dir) return std::unexpected(dir.error());
  std::shared_ptr<SignatureVerifier> verifier(new SignatureVerifier());
  verifier->config_ = config;
  verifier->dir_ = *dir;
  verifier->allowed_copy_ = *dir / "allowed_signers";
  if (Status st = WriteWhole(verifier->allowed_copy_, *allowed); !st) {
    return std::unexpected(st.error());
  }
  std::string digest_input = "allowed_signers\n" + Sha256Hex(*allowed);
  if (revoked) {
    verifier->revoked_copy_ = *dir / "revoked";
    if (Status st = WriteWhole(*verifier->revoked_copy_, *revoked); !st) {
      return std::unexpected(st.error());
    }
    digest_input += "\nrevoked\n" + Sha256Hex(*revoked);
  }
  verifier->signers_digest_ = Sha256Hex(digest_input);
  return verifier;
}

SignatureVerifier::~SignatureVerifier() {
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string SignatureVerifier::KeyOf(std::string_view file, std::string_view signature) const {
  return Sha256Hex(Sha256Hex(file) + "\n" + Sha256Hex(signature) + "\n" + signers_digest_);
}

std::optional<SignatureCheck> SignatureVerifier::Cached(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = cache_.find(key);
  if (it == cache_.end()) return std::nullopt;
  return it->second;
}

void SignatureVerifier::Remember(const std::string& key, const SignatureCheck& check) {
  std::lock_guard lock(mu_);
  cache_[key] = check;
}

std::vector<std::pair<std::string, SignatureCheck>> SignatureVerifier::TakeNew() {
  std::lock_guard lock(mu_);
  return std::exchange(new_, {});
}

SignatureCheck SignatureVerifier::Verify(std::string_view file, std::string_view signature) {
  const std::string key = KeyOf(file, signature);
  if (auto cached = Cached(key)) return *cached;
  SignatureCheck check = Run(file, signature);
  ++runs_;
  // A verdict that only says ssh-keygen could not run is not kept: tried again next time.
  if (check.valid || !check.reason.starts_with("ssh-keygen did not answer")) {
    std::lock_guard lock(mu_);
    cache_[key] = check;
    new_.emplace_back(key, check);
  }
  return check;
}

SignatureCheck SignatureVerifier::Run(std::string_view file, std::string_view signature) const {
  SignatureCheck check;
  // The signature in a file of its own (ssh-keygen reads it by name): never the folder's.
  std::string sig_path = (dir_ / "sig.XXXXXX").string();
  const int fd = ::mkstemp(sig_path.data());
  if (fd < 0) {
    check.reason = "ssh-keygen did not answer: a temporary file cannot be made";
    return check;
  }
  bool written =
      ::write(fd, signature.data(), signature.size()) == static_cast<ssize_t>(signature.size());
  if (::close(fd) != 0) written = false;  // a deferred write error surfaces here
  struct Remove {
    std::string path;
    ~Remove() { ::unlink(path.c_str()); }
  } remove{sig_path};
  if (!written) {
    check.reason = "ssh-keygen did not answer: a temporary file cannot be written";
    return check;
  }
  auto principals = FindPrincipals(sig_path);
  if (!principals) {
    check.reason = principals.error();
    return check;
  }
  return VerifyAs(*principals, sig_path, file);
}

std::expected<std::vector<std::string>, std::string> SignatureVerifier::FindPrincipals(
    const std::string& sig_path) const {
  auto find = RunChild(
      {"ssh-keygen", "-Y", "find-principals", "-s", sig_path, "-f", allowed_copy_.string()}, "",
      config_.verify_timeout);
  if (!find || find->timed_out) {
    return std::unexpected(
        "ssh-keygen did not answer: " +
        (find ? std::string("no answer within the time bound") : find.error().message));
  }
  std::vector<std::string> principals = SplitPrincipals(find->out);
  if (find->exit_code != 0 || principals.empty()) {
    return std::unexpected("not signed by a key in allowed_signers (" +
                           LastLine(find->err, "no principal matched") + ")");
  }
  return principals;
}

SignatureCheck SignatureVerifier::VerifyAs(const std::vector<std::string>& principals,
                                           const std::string& sig_path,
                                           std::string_view file) const {
  SignatureCheck check;
  std::string last_reason;
  for (const std::string& principal : principals) {
    std::vector<std::string> argv = {"ssh-keygen",          "-Y", "verify",  "-n",
                                     kSignatureNamespace,   "-I", principal, "-f",
                                     allowed_copy_.string()};
    if (revoked_copy_) {
      argv.push_back("-r");
      argv.push_back(revoked_copy_->string());
    }
    argv.push_back("-s");
    argv.push_back(sig_path);
    auto verify = RunChild(argv, std::string(file), config_.verify_timeout);
    if (!verify || verify->timed_out) {
      check.reason =
          "ssh-keygen did not answer: " +
          (verify ? std::string("no answer within the time bound") : verify.error().message);
      return check;
    }
    if (verify->exit_code == 0) {
      check.valid = true;
      check.principal = principal;
      return check;
    }
    last_reason = LastLine(verify->err, "verification failed");
  }
  check.reason = "signature of " + principals.front() + " not valid (" + last_reason + ")";
  return check;
}

namespace {

// A throwaway key (dir/key) and its signature of dir/message (dir/message.sig).
Status MakeThrowawaySignature(const fs::path& dir, Duration timeout) {
  const fs::path key = dir / "key";
  const fs::path message = dir / "message";
  if (Status st = WriteWhole(message, "broadcastd --check-config\n"); !st) return st;
  auto made =
      RunChild({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "check", "-f", key.string()},
               "", timeout);
  if (!made || made->exit_code != 0) {
    return Fail(ErrorKind::kInvalid,
                "signatures: ssh-keygen (openssh-client) cannot be run: " +
                    (made ? LastLine(made->err, "exit " + std::to_string(made->exit_code))
                          : made.error().message));
  }
  auto signed_ = RunChild(
      {"ssh-keygen", "-Y", "sign", "-n", kSignatureNamespace, "-f", key.string(), message.string()},
      "", timeout);
  if (!signed_ || signed_->exit_code != 0) {
    return Fail(ErrorKind::kInvalid,
                "signatures: ssh-keygen -Y sign failed: " +
                    (signed_ ? LastLine(signed_->err, "") : signed_.error().message));
  }
  return {};
}

// find-principals reads every line of the file (the throwaway key is in none), and names
// the ones it cannot parse as FILE:LINE: on stderr.
Status CheckAllowedSigners(const fs::path& dir, const fs::path& allowed, Duration timeout) {
  auto find = RunChild({"ssh-keygen", "-Y", "find-principals", "-s", (dir / "message.sig").string(),
                        "-f", allowed.string()},
                       "", timeout);
  if (!find) return std::unexpected(find.error());
  std::istringstream lines(find->err);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(allowed.string() + ":")) {
      return Fail(ErrorKind::kInvalid, "signatures.allowed_signers: " + line);
    }
  }
  if (find->err.find("No such file") != std::string::npos ||
      find->err.find("Permission denied") != std::string::npos) {
    return Fail(ErrorKind::kInvalid, "signatures.allowed_signers " + allowed.string() + ": " +
                                         LastLine(find->err, "cannot be read"));
  }
  return {};
}

// A verification of the throwaway signature, which only a revocation file that ssh-keygen
// cannot read makes fail.
Status CheckRevoked(const fs::path& dir, const fs::path& revoked, Duration timeout) {
  auto pub = ReadWhole(dir / "key.pub", "revoked");
  if (!pub) return std::unexpected(pub.error());
  const fs::path allowed = dir / "allowed";
  if (Status st = WriteWhole(allowed, "check@broadcastd " + *pub); !st) return st;
  auto verify = RunChild(
      {"ssh-keygen", "-Y", "verify", "-n", kSignatureNamespace, "-I", "check@broadcastd", "-f",
       allowed.string(), "-r", revoked.string(), "-s", (dir / "message.sig").string()},
      "broadcastd --check-config\n", timeout);
  if (!verify) return std::unexpected(verify.error());
  if (verify->exit_code != 0) {
    return Fail(ErrorKind::kInvalid, "signatures.revoked " + revoked.string() + ": " +
                                         LastLine(verify->err, "cannot be read"));
  }
  return {};
}

}  // namespace

Status CheckSignerFiles(const SignatureConfig& config) {
  auto dir = MakeTempDir();
  if (!dir) return std::unexpected(dir.error());
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{*dir};
  const Duration timeout = std::max(config.verify_timeout, Duration(5000));
  if (Status st = MakeThrowawaySignature(*dir, timeout); !st) return st;
  if (Status st = CheckAllowedSigners(*dir, config.allowed_signers, timeout); !st) return st;
  if (config.revoked) return CheckRevoked(*dir, *config.revoked, timeout);
  return {};
}

}  // namespace broadcastd
