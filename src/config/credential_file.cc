#include "config/credential_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace broadcastd {
namespace {

constexpr size_t kMaxCredentialBytes = 64 * 1024;

}  // namespace

Result<std::filesystem::path> LocateCredentialFile(const std::filesystem::path& credentials_dir,
                                                   const std::filesystem::path& file,
                                                   std::string_view what) {
  if (file.is_absolute()) return file;
  if (credentials_dir.empty()) {
    return Fail(ErrorKind::kInvalid,
                std::string(what) + ": a relative name, but CREDENTIALS_DIRECTORY is not set");
  }
  std::filesystem::path plain = credentials_dir / file;
  std::error_code ec;
  if (!std::filesystem::exists(plain, ec) && !file.has_parent_path()) {
    std::filesystem::path loaded = credentials_dir / ("broadcastd_" + file.string());
    if (std::filesystem::exists(loaded, ec)) return loaded;
  }
  return plain;
}

Result<std::string> ReadCredentialFile(const std::filesystem::path& credentials_dir,
                                       const std::filesystem::path& file, std::string_view what) {
  Result<std::filesystem::path> located = LocateCredentialFile(credentials_dir, file, what);
  if (!located) return std::unexpected(located.error());
  const std::filesystem::path& path = *located;
  // The file by its key: the value may be a secret pasted where a name belongs.
  const std::string name =
      std::string(what) +
      (file.is_absolute() ? " (the absolute path it names)" : " (under $CREDENTIALS_DIRECTORY)");

  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    return Fail(error == EACCES   ? ErrorKind::kPermission
                : error == ENOENT ? ErrorKind::kNotFound
                                  : ErrorKind::kIo,
                name + ": cannot open (" + std::strerror(error) + ")");
  }
  std::string content;
  content.resize(kMaxCredentialBytes + 1);
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  if (in.bad()) return Fail(ErrorKind::kIo, name + ": read error");
  content.resize(static_cast<size_t>(in.gcount()));
  if (content.size() > kMaxCredentialBytes)
    return Fail(ErrorKind::kInvalid, name + ": larger than 64 KiB");

  while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) {
    content.pop_back();
  }
  if (content.empty()) return Fail(ErrorKind::kInvalid, name + ": empty");
  bool control = std::any_of(content.begin(), content.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F;
  });
  if (control)
    return Fail(ErrorKind::kInvalid, name + ": holds a control character (a line break inside?)");
  return content;
}

}  // namespace broadcastd
