#pragma once
// Real OpenSSH keys made for a test (ssh-keygen -t ed25519), signatures made with them
// (ssh-keygen -Y sign) and an allowed_signers file naming them.

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace broadcastd::test_keys {

class SignerKeys {
 public:
  explicit SignerKeys(std::filesystem::path dir) : dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_);
  }
  const std::filesystem::path& dir() const { return dir_; }

  // Makes a key named `name` (dir/name, dir/name.pub).
  std::filesystem::path Make(const std::string& name) {
    const auto key = dir_ / name;
    Run("ssh-keygen -q -t ed25519 -N '' -C " + name + " -f '" + key.string() + "'");
    return key;
  }
  std::string PublicKey(const std::string& name) const { return Read(dir_ / (name + ".pub")); }
  // An allowed_signers line: "PRINCIPAL [OPTIONS] KEY".
  std::string Line(const std::string& principal, const std::string& name,
                   const std::string& options = "") const {
    return principal + (options.empty() ? "" : " " + options) + " " + PublicKey(name);
  }
  // Signs `file` with key `name` in `ns`; returns the signature's bytes (and leaves no file).
  std::string Sign(const std::string& name, const std::filesystem::path& file,
                   const std::string& ns = "broadcastd") const {
    const auto sig = std::filesystem::path(file.string() + ".sig");
    std::filesystem::remove(sig);
    Run("ssh-keygen -q -Y sign -n " + ns + " -f '" + (dir_ / name).string() + "' '" +
        file.string() + "' 2>/dev/null");
    std::string bytes = Read(sig);
    std::filesystem::remove(sig);
    return bytes;
  }
  // Signs these bytes (written to a scratch file first).
  std::string SignBytes(const std::string& name, const std::string& bytes,
                        const std::string& ns = "broadcastd") const {
    const auto file = dir_ / "scratch";
    Write(file, bytes);
    return Sign(name, file, ns);
  }

  static void Write(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  }
  static std::string Read(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  static void Run(const std::string& command) {
    if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
  }
  std::filesystem::path dir_;
};

}  // namespace broadcastd::test_keys
