#include "config/credential_file.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <utility>

namespace broadcastd {
namespace {

constexpr size_t kMaxCredentialBytes = 64 * 1024;

ReadAccess Access(ReadAccess::Kind kind, std::filesystem::path folder = {},
                  std::string owner_mode = {}, std::string error = {}) {
  return ReadAccess{kind, std::move(folder), std::move(owner_mode), std::move(error)};
}

std::string OwnerMode(const struct stat& st) {
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  std::string owner = "uid " + std::to_string(st.st_uid);
  if (const passwd* pw = ::getpwuid(st.st_uid)) owner = pw->pw_name;
  return "owner " + owner + ", mode " + mode;
}

// The first folder of `path`'s way that does not exist or cannot be entered.
ReadAccess FolderOnTheWay(const std::filesystem::path& path) {
  std::filesystem::path folder;
  for (const auto& part : path.parent_path()) {
    folder /= part;
    struct stat st {};
    if (::stat(folder.c_str(), &st) != 0) {
      if (errno == EACCES) continue;  // the folder above it is the closed one: seen already
      return Access(ReadAccess::kNoFolder, folder);
    }
    if (!S_ISDIR(st.st_mode)) return Access(ReadAccess::kNoFolder, folder);
    if (::access(folder.c_str(), X_OK) != 0) {
      return Access(ReadAccess::kFolderClosed, folder, OwnerMode(st));
    }
  }
  return Access(ReadAccess::kOther, {}, {}, std::strerror(EACCES));
}

}  // namespace

std::string EffectiveUserDescription() {
  const uid_t uid = ::geteuid();
  const std::string id = "uid " + std::to_string(uid);
  if (const passwd* pw = ::getpwuid(uid)) return std::string(pw->pw_name) + " (" + id + ")";
  return id;
}

ReadAccess CheckReadAccess(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int error = errno;
    if (error == EACCES) return FolderOnTheWay(path.is_absolute() ? path : "." / path);
    if (error == ENOENT || error == ENOTDIR) {
      ReadAccess way = FolderOnTheWay(path);
      if (way.kind == ReadAccess::kNoFolder) return way;
      return Access(ReadAccess::kNoFile);
    }
    return Access(ReadAccess::kOther, {}, {}, std::strerror(error));
  }
  if (!S_ISREG(st.st_mode)) return Access(ReadAccess::kNotRegularFile);
  if (::access(path.c_str(), R_OK) != 0) {
    return Access(ReadAccess::kFileClosed, {}, OwnerMode(st));
  }
  return {};
}

std::string DescribeReadAccess(const ReadAccess& access, bool show_folders) {
  const std::string folder =
      show_folders ? "the folder " + access.folder.string() : "a folder on its path";
  switch (access.kind) {
    case ReadAccess::kReadable:
      return "readable";
    case ReadAccess::kNoFile:
      return "no such file";
    case ReadAccess::kNoFolder:
      return "no such file: " + (show_folders ? "no folder " + access.folder.string()
                                              : std::string("a folder on its path is missing"));
    case ReadAccess::kFolderClosed:
      return "cannot tell whether it is there: " + folder + " cannot be entered by user " +
             EffectiveUserDescription() + (show_folders ? " (" + access.owner_mode + ")" : "");
    case ReadAccess::kFileClosed:
      return "not readable by user " + EffectiveUserDescription() + " (" + access.owner_mode + ")";
    case ReadAccess::kNotRegularFile:
      return "not a regular file";
    case ReadAccess::kOther:
      return access.error;
  }
  return access.error;
}

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
    // Folders are named only when the config gave a name under the credentials folder.
    const std::string why = error == EACCES || error == ENOENT || error == ENOTDIR
                                ? DescribeReadAccess(CheckReadAccess(path),
                                                     file.is_relative() && !file.has_parent_path())
                                : std::string(std::strerror(error));
    return Fail(error == EACCES   ? ErrorKind::kPermission
                : error == ENOENT ? ErrorKind::kNotFound
                                  : ErrorKind::kIo,
                name + ": cannot open: " + why);
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
