#include "ingest/campaign_folder.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include "core/unique_fd.h"
#include "ingest/file_name_rules.h"

namespace broadcastd {
namespace fs = std::filesystem;
namespace {

std::string Octal(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// Why a file of this type is never read.
std::string TypeRefusal(mode_t mode) {
  if (S_ISLNK(mode)) return "is a symbolic link (links are never followed)";
  if (S_ISFIFO(mode)) return "is a FIFO, not a regular file";
  if (S_ISSOCK(mode)) return "is a socket, not a regular file";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "is a device, not a regular file";
  if (S_ISDIR(mode)) return "is a directory, not a regular file";
  return "is not a regular file";
}

// Why a regular file is not trusted, or nothing: whoever can write it decides
// what is sent to every user.
std::optional<std::string> TrustRefusal(const struct stat& st, uid_t trusted) {
  if (!S_ISREG(st.st_mode)) return TypeRefusal(st.st_mode);
  if (st.st_uid != 0 && st.st_uid != trusted) {
    return "is owned by uid " + std::to_string(st.st_uid) +
           ", not by root or the daemon's user (uid " + std::to_string(trusted) + ")";
  }
  if (st.st_mode & S_IWOTH) return "is world-writable (mode " + Octal(st.st_mode) + ")";
  if (st.st_mode & S_IWGRP) return "is group-writable (mode " + Octal(st.st_mode) + ")";
  return std::nullopt;
}

struct OpenFile {
  UniqueFd fd;
  struct stat st {};
};

// What happened when a file was opened: open and trusted, refused, or gone
// (removed since the folder was listed).
struct OpenAttempt {
  std::optional<OpenFile> file;
  std::string refusal;
  bool gone = false;
};

std::string OpenErrorRefusal(int error) {
  if (error == ELOOP) return "is a symbolic link (links are never followed)";
  if (error == EACCES || error == EPERM) return "cannot be read: permission denied";
  if (error == ENXIO) return "is a socket or device, not a regular file";
  return std::string("cannot be opened: ") + std::strerror(error);
}

OpenAttempt OpenTrusted(int dir_fd, const std::string& name, uid_t trusted) {
  OpenAttempt attempt;
  // The type first, without opening: a device is never opened at all.
  struct stat before {};
  if (::fstatat(dir_fd, name.c_str(), &before, AT_SYMLINK_NOFOLLOW) != 0) {
    attempt.gone = errno == ENOENT;
    attempt.refusal = std::string("cannot be examined: ") + std::strerror(errno);
    return attempt;
  }
  if (!S_ISREG(before.st_mode)) {
    attempt.refusal = TypeRefusal(before.st_mode);
    return attempt;
  }
  // It may have been swapped since: O_NOFOLLOW and O_NONBLOCK hold whatever is
  // there now, and the verdict is taken on the descriptor itself.
  UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd) {
    attempt.gone = errno == ENOENT;
    attempt.refusal = OpenErrorRefusal(errno);
    return attempt;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    attempt.refusal = std::string("cannot be examined: ") + std::strerror(errno);
    return attempt;
  }
  if (auto why = TrustRefusal(st, trusted)) {
    attempt.refusal = *why;
    return attempt;
  }
  attempt.file.emplace(OpenFile{std::move(fd), st});
  return attempt;
}

// At most limit + 1 bytes.
Result<std::string> ReadBounded(int fd, size_t limit) {
  std::string bytes(limit + 1, '\0');
  size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(ErrorKind::kIo, std::string("cannot be read: ") + std::strerror(errno));
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  bytes.resize(got);
  return bytes;
}

uid_t TrustedUser(const FolderOptions& options) {
  return options.trusted_user.value_or(::geteuid());
}

Result<std::vector<std::string>> ListNames(int dir_fd, const fs::path& dir) {
  DIR* stream = ::fdopendir(::dup(dir_fd));
  if (stream == nullptr) {
    return Fail(ErrorKind::kIo,
                "campaigns_dir " + dir.string() + ": cannot be listed: " + std::strerror(errno));
  }
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* entry = ::readdir(stream)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
    errno = 0;
  }
  const int error = errno;
  ::closedir(stream);
  if (error != 0) {
    return Fail(ErrorKind::kIo,
                "campaigns_dir " + dir.string() + ": cannot be listed: " + std::strerror(error));
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

std::optional<TimePoint> FolderListing::NextLook() const {
  std::optional<TimePoint> next;
  for (const auto& f : unsettled) {
    if (!next || f.look_again < *next) next = f.look_again;
  }
  return next;
}

CampaignFolder::CampaignFolder(fs::path dir, FolderOptions options)
    : dir_(std::move(dir)), options_(options), settle_(options.settle) {}

Result<FolderListing> CampaignFolder::Scan(TimePoint now) { return Read(&settle_, now); }

Result<FolderListing> CampaignFolder::ReadAll() const { return Read(nullptr, TimePoint{}); }

Result<FolderListing> CampaignFolder::Read(SettleTracker* settle, TimePoint now) const {
  UniqueFd dir_fd(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd) {
    const ErrorKind kind = errno == ENOENT   ? ErrorKind::kNotFound
                           : errno == EACCES ? ErrorKind::kPermission
                                             : ErrorKind::kIo;
    return Fail(kind, "campaigns_dir " + dir_.string() + ": " + std::strerror(errno));
  }
  struct stat dir_st {};
  if (::fstat(dir_fd.get(), &dir_st) != 0) {
    return Fail(ErrorKind::kIo, "campaigns_dir " + dir_.string() + ": " + std::strerror(errno));
  }
  if (dir_st.st_mode & S_IWOTH) {
    return Fail(ErrorKind::kPermission,
                "campaigns_dir " + dir_.string() + " is world-writable (mode " +
                    Octal(dir_st.st_mode) +
                    "): anyone could drop a campaign in it, so nothing in it is read");
  }
  auto names = ListNames(dir_fd.get(), dir_);
  if (!names) return std::unexpected(names.error());

  const uid_t trusted = TrustedUser(options_);
  FolderListing listing;
  std::set<std::string> seen;
  for (const std::string& name : *names) {
    switch (ClassifyFileName(name)) {
      case NameVerdict::kIgnored:
        continue;
      case NameVerdict::kRefused:
        listing.refused.push_back({DisplayFileName(name), NameRefusal(name)});
        continue;
      case NameVerdict::kCampaign:
        break;
    }
    OpenAttempt attempt = OpenTrusted(dir_fd.get(), name, trusted);
    if (attempt.gone) continue;
    if (!attempt.file) {
      listing.refused.push_back({name, attempt.refusal});
      continue;
    }
    seen.insert(name);
    FileIdentity identity = IdentityOf(attempt.file->st);
    if (settle) {
      if (auto later = settle->Look(name, identity, now)) {
        listing.unsettled.push_back({name, *later});
        continue;
      }
    }
    auto bytes = ReadBounded(attempt.file->fd.get(), options_.max_bytes);
    if (!bytes) {
      listing.refused.push_back({name, bytes.error().message});
      continue;
    }
    // Written to while we read: not settled after all.
    struct stat after {};
    if (settle && ::fstat(attempt.file->fd.get(), &after) == 0 && IdentityOf(after) != identity) {
      listing.unsettled.push_back({name, *settle->Look(name, IdentityOf(after), now)});
      continue;
    }
    listing.ready.push_back({name, std::move(*bytes), identity});
  }
  if (settle) settle->KeepOnly(seen);
  return listing;
}

Result<std::string> ReadTrustedFile(const fs::path& path, const FolderOptions& options) {
  const std::string shown = DisplayFileName(path.string());
  const std::string name = path.filename().string();
  if (DisplayFileName(name) != name) {
    return Fail(ErrorKind::kPermission, shown + ": refused: " + NameRefusal(name));
  }
  const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
  UniqueFd dir_fd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd) {
    return Fail(errno == ENOENT ? ErrorKind::kNotFound : ErrorKind::kIo,
                shown + ": " + std::strerror(errno));
  }
  OpenAttempt attempt = OpenTrusted(dir_fd.get(), name, TrustedUser(options));
  if (attempt.gone) return Fail(ErrorKind::kNotFound, shown + ": no such file");
  if (!attempt.file) return Fail(ErrorKind::kPermission, shown + ": refused: " + attempt.refusal);
  auto bytes = ReadBounded(attempt.file->fd.get(), options.max_bytes);
  if (!bytes) return Fail(bytes.error().kind, shown + ": " + bytes.error().message);
  return bytes;
}

}  // namespace broadcastd
