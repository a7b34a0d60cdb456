#include "easemob/credential_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace broadcastd {
namespace {

constexpr size_t kMaxCredentialBytes = 64 * 1024;

}  // namespace

Result<std::string> ReadCredentialFile(const std::filesystem::path& credentials_dir,
                                       const std::filesystem::path& file, std::string_view what) {
  std::filesystem::path path = file;
  if (path.is_relative()) {
    if (credentials_dir.empty()) {
      return Fail(std::string(what) + " " + file.string() +
                  " is relative but CREDENTIALS_DIRECTORY is not set");
    }
    path = credentials_dir / file;
  }
  const std::string name = std::string(what) + " " + path.string();

  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(name + ": cannot open (" + std::strerror(errno) + ")");
  std::string content;
  content.resize(kMaxCredentialBytes + 1);
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  if (in.bad()) return Fail(name + ": read error");
  content.resize(static_cast<size_t>(in.gcount()));
  if (content.size() > kMaxCredentialBytes) return Fail(name + ": larger than 64 KiB");

  while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) {
    content.pop_back();
  }
  if (content.empty()) return Fail(name + ": empty");
  bool control = std::any_of(content.begin(), content.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F;
  });
  if (control) return Fail(name + ": holds a control character (a line break inside?)");
  return content;
}

}  // namespace broadcastd
