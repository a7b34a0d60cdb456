#include "ingest/campaign_folder.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <set>

#include "core/log_value.h"
#include "core/time_format.h"
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

// What a campaign file must be, said with every refusal of one: whoever can write it
// decides what is sent to every user, and the daemon must be able to read it.
std::string Accepted(uid_t trusted) {
  return "; accepted: a regular file owned by root or the daemon's user (uid " +
         std::to_string(trusted) +
         "), not writable by group or others, readable by the daemon (mode 644: install -m 644 "
         "as root)";
}

std::string OwnerAndMode(const struct stat& st) {
  return "owner uid " + std::to_string(st.st_uid) + ", mode " + Octal(st.st_mode);
}

// Why a regular file is not trusted, or nothing.
std::optional<std::string> TrustRefusal(const struct stat& st, uid_t trusted) {
  if (!S_ISREG(st.st_mode)) return TypeRefusal(st.st_mode);
  if (st.st_uid != 0 && st.st_uid != trusted) {
    return "is owned by uid " + std::to_string(st.st_uid) +
           ", not by root or the daemon's user (uid " + std::to_string(trusted) + ")" +
           Accepted(trusted);
  }
  if (st.st_mode & S_IWOTH) {
    return "is world-writable (mode " + Octal(st.st_mode) + ")" + Accepted(trusted);
  }
  if (st.st_mode & S_IWGRP) {
    return "is group-writable (mode " + Octal(st.st_mode) + ")" + Accepted(trusted);
  }
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
  bool busy = false;  // another process's write lease: it is being written
};

std::string OpenErrorRefusal(int error, const struct stat& st, uid_t trusted) {
  if (error == ELOOP) return "is a symbolic link (links are never followed)";
  if (error == EACCES || error == EPERM) {
    return "cannot be read by the daemon's user (uid " + std::to_string(trusted) +
           "): permission denied (" + OwnerAndMode(st) + ")" + Accepted(trusted);
  }
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
    attempt.busy = errno == EWOULDBLOCK;
    attempt.refusal = OpenErrorRefusal(errno, before, trusted);
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

// At most limit + 1 bytes, from the file's start. The buffer starts at the size fstat gave
// (`size_hint`) plus one, and grows only for a file that grew since: a small file costs its own
// size, not the limit's (zeroing the limit's 256 KiB was most of the time of --check).
Result<std::string> ReadBounded(int fd, size_t limit, off_t size_hint) {
  const size_t hint = size_hint > 0 ? static_cast<size_t>(size_hint) : 0;
  std::string bytes(std::min(limit, std::max<size_t>(hint, 4095)) + 1, '\0');
  size_t got = 0;
  while (got < bytes.size()) {
    // From the start whatever was read before (a read tried again after a failure).
    const ssize_t n = ::pread(fd, bytes.data() + got, bytes.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(ErrorKind::kIo, std::string("cannot be read: ") + std::strerror(errno));
    if (n == 0) break;
    got += static_cast<size_t>(n);
    if (got == bytes.size() && bytes.size() <= limit) {
      bytes.resize(std::min(limit + 1, bytes.size() * 2), '\0');
    }
  }
  bytes.resize(got);
  return bytes;
}

uid_t TrustedUser(const FolderOptions& options) {
  return options.trusted_user.value_or(::geteuid());
}

Result<std::vector<std::string>> ListNames(int dir_fd, const fs::path& dir) {
  const int copy = ::dup(dir_fd);  // closedir closes the copy; dir_fd stays open
  DIR* stream = copy >= 0 ? ::fdopendir(copy) : nullptr;
  if (stream == nullptr) {
    const int error = errno;
    if (copy >= 0) (void)::close(copy);  // read only: nothing for close to lose
    return Fail(ErrorKind::kIo,
                "campaigns_dir " + dir.string() + ": cannot be listed: " + std::strerror(error));
  }
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* entry = ::readdir(stream)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
    errno = 0;
  }
  const int error = errno;
  (void)::closedir(stream);  // a folder read, not written: nothing for close to lose
  if (error != 0) {
    return Fail(ErrorKind::kIo,
                "campaigns_dir " + dir.string() + ": cannot be listed: " + std::strerror(error));
  }
  std::sort(names.begin(), names.end());
  return names;
}

// A lease broken while it is held (a writer opening the file in the instant between
// F_SETLEASE and F_UNLCK) sends SIGIO, whose default action ends the process.
void IgnoreLeaseBreaks() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current {};
    if (::sigaction(SIGIO, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
      (void)::signal(SIGIO, SIG_IGN);  // fails only for an invalid signal (EINVAL)
    }
  });
}

}  // namespace

WriterCheck CheckWriters(int fd) {
  IgnoreLeaseBreaks();
  if (::fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
    // Removing a lease this process holds does not fail on a valid descriptor; were it
    // left, it would go with the descriptor, which is closed after the read.
    (void)::fcntl(fd, F_SETLEASE, F_UNLCK);
    return WriterCheck::kNone;
  }
  const int error = errno;
  if (error == EAGAIN) return WriterCheck::kWriting;
  static std::atomic<bool> said{false};
  if ((error == EACCES || error == EPERM) && !said.exchange(true)) {
    spdlog::info(
        "campaigns.writer_check_unavailable reason={} action={}",
        LogValue(std::string("the kernel tells whether a file is open for writing only to its "
                             "owner or with CAP_LEASE: ") +
                 std::strerror(error)),
        LogValue("inotify's events and the settle time decide alone for such files"));
  }
  return WriterCheck::kUnknown;
}

std::string SignatureStamp(const ListedFile& file) {
  std::string stamp;
  for (const ListedFile& s : file.signatures) {
    stamp += s.name + ' ' + std::to_string(s.stamp.device) + ' ' + std::to_string(s.stamp.inode) +
             ' ' + std::to_string(s.stamp.size) + ' ' + std::to_string(s.stamp.mtime_ns) + ' ' +
             std::to_string(s.stamp.ctime_ns) + ' ' + s.refusal + '\n';
  }
  return stamp;
}

std::optional<TimePoint> FolderListing::NextLook() const {
  std::optional<TimePoint> next;
  for (const auto& f : unsettled) {
    if (!next || f.look_again < *next) next = f.look_again;
  }
  return next;
}

Store::FileStamp StampOf(const struct stat& st) {
  return Store::FileStamp{
      static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
      static_cast<int64_t>(st.st_size),
      static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
      static_cast<int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec};
}

namespace {

// What the settle time compares of a stamp (its ctime aside).
FileIdentity IdentityOfStamp(const Store::FileStamp& stamp) {
  return FileIdentity{stamp.device, stamp.inode, stamp.size, stamp.mtime_ns};
}

}  // namespace

CampaignFolder::CampaignFolder(fs::path dir, FolderOptions options)
    : dir_(std::move(dir)), options_(options), settle_(options.settle) {}

Result<FolderListing> CampaignFolder::Scan(TimePoint now) { return Read(&settle_, now); }

Result<FolderListing> CampaignFolder::ReadAll() const { return Read(nullptr, TimePoint{}); }

Result<FolderSnapshot> CampaignFolder::List() const {
  FolderSnapshot snapshot;
  snapshot.dir.reset(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!snapshot.dir) {
    const ErrorKind kind = errno == ENOENT   ? ErrorKind::kNotFound
                           : errno == EACCES ? ErrorKind::kPermission
                                             : ErrorKind::kIo;
    return Fail(kind, "campaigns_dir " + dir_.string() + ": " + std::strerror(errno));
  }
  const int dir_fd = snapshot.dir.get();
  struct stat dir_st {};
  if (::fstat(dir_fd, &dir_st) != 0) {
    return Fail(ErrorKind::kIo, "campaigns_dir " + dir_.string() + ": " + std::strerror(errno));
  }
  if (dir_st.st_mode & S_IWOTH) {
    return Fail(ErrorKind::kPermission,
                "campaigns_dir " + dir_.string() + " is world-writable (mode " +
                    Octal(dir_st.st_mode) +
                    "): anyone could drop a campaign in it, so nothing in it is read");
  }
  auto names = ListNames(dir_fd, dir_);
  if (!names) return std::unexpected(names.error());
  const uid_t trusted = TrustedUser(options_);
  std::map<std::string, std::vector<ListedFile>> signatures;  // by the file they sign
  for (std::string& name : *names) {
    const NameVerdict verdict = ClassifyFileName(name);
    switch (verdict) {
      case NameVerdict::kIgnored:
        continue;
      case NameVerdict::kRefused:
        snapshot.refused.push_back({DisplayFileName(name), NameRefusal(name)});
        continue;
      case NameVerdict::kCampaign:
      case NameVerdict::kSignature:
        break;
    }
    ListedFile listed{name, {}, ""};
    struct stat st {};
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // removed since the folder was listed
      listed.refusal = std::string("cannot be examined: ") + std::strerror(errno);
    } else {
      listed.stamp = StampOf(st);
      listed.refusal = TrustRefusal(st, trusted).value_or("");
    }
    if (verdict == NameVerdict::kSignature) {
      signatures[SignedFileOf(name)].push_back(std::move(listed));
    } else {
      snapshot.files.push_back(std::move(listed));
    }
  }
  for (ListedFile& file : snapshot.files) {
    if (auto it = signatures.find(file.name); it != signatures.end()) {
      file.signatures = std::move(it->second);
    }
  }
  return snapshot;
}

std::optional<FolderHold> CampaignFolder::CheckAvailable(const Result<FolderSnapshot>& listing,
                                                         size_t known_files, TimePoint now) {
  std::string why;
  std::optional<std::pair<uint64_t, uint64_t>> identity;
  struct stat st {};
  if (!listing) {
    why = "is missing (" + listing.error().message + ")";
  } else if (::fstat(listing->dir.get(), &st) == 0) {
    identity.emplace(static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino));
    if (identity_ && *identity_ != *identity) {
      why =
          "was replaced: its device or inode changed (an unmount, or a folder moved away and "
          "another put in its place)";
    } else if (listing->files.empty() && listing->refused.empty() && known_files >= 2) {
      why = "went from " + std::to_string(known_files) + " files to none";
    }
  }
  if (!why.empty() && hold_ && listing) {
    // An operator's word for the folder as it is: a marker touched since the hold began.
    struct stat marker {};
    if (::fstatat(listing->dir.get(), kConfirmFolderMarker, &marker, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISREG(marker.st_mode) &&
        static_cast<int64_t>(marker.st_mtim.tv_sec) * 1000 + marker.st_mtim.tv_nsec / 1'000'000 >=
            ToMillis(hold_->since)) {
      spdlog::warn("campaigns.confirmed dir={} was={} action={}", LogValue(dir_.string()),
                   LogValue(why), LogValue("the folder is taken as it is now"));
      why.clear();
    }
  }
  if (why.empty()) {
    if (identity) identity_ = identity;
    if (hold_) spdlog::info("campaigns.available dir={}", LogValue(dir_.string()));
    hold_.reset();
    return std::nullopt;
  }
  if (!hold_ || hold_->reason != why) {
    hold_ = FolderHold{why, hold_ ? hold_->since : now};
    spdlog::error(
        "campaigns.unavailable dir={} reason={} since={} action={}", LogValue(dir_.string()),
        LogValue(why), FormatRfc3339(hold_->since),
        LogValue(std::string("nothing read, nothing cancelled: the jobs are kept until it comes "
                             "back, or take it as it is: touch ") +
                 (dir_ / kConfirmFolderMarker).string()));
  }
  return hold_;
}

FileRead CampaignFolder::Read(int dir_fd, const std::string& name, TimePoint now, bool settle) {
  FileRead read = Open(dir_fd, name, now, settle);
  Load(read);
  return Finish(name, std::move(read), now);
}

FileRead CampaignFolder::Open(int dir_fd, const std::string& name, TimePoint now, bool settle) {
  return OpenOne(dir_fd, name, settle ? &settle_ : nullptr, now);
}

FileRead CampaignFolder::Open(int dir_fd, const ListedFile& listed, TimePoint now, bool settle) {
  if (settle && settle_.FirstLook(listed.name)) {
    FileRead read;
    read.kind = FileRead::Kind::kUnsettled;
    read.look_again = *settle_.Look(listed.name, IdentityOfStamp(listed.stamp), now);
    return read;
  }
  return Open(dir_fd, listed.name, now, settle);
}

FileRead CampaignFolder::Finish(const std::string& name, FileRead read, TimePoint now) {
  SettleTracker* settle = read.settle ? &settle_ : nullptr;
  read = FinishOne(name, std::move(read), settle, now);
  if (read.kind == FileRead::Kind::kReady && read.written_while_read) {
    // Settled when it was read before, and written to now: never half a version.
    read.kind = FileRead::Kind::kUnsettled;
    read.bytes.clear();
    read.look_again = now + options_.settle / 4;
  }
  return read;
}

FileRead CampaignFolder::OpenOne(int dir_fd, const std::string& name, SettleTracker* settle,
                                 TimePoint now) const {
  FileRead read;
  ++opened_;
  OpenAttempt attempt = OpenTrusted(dir_fd, name, TrustedUser(options_));
  if (attempt.gone) return read;  // kGone
  // Another process's write lease: it is being written (below), unless for --check.
  if (!attempt.file && !(attempt.busy && settle)) {
    read.kind = FileRead::Kind::kRefused;
    read.reason = attempt.refusal;
    return read;
  }
  if (settle) {
    // Never read while a process holds it open for writing, however still it looks.
    const WriterCheck writers =
        attempt.file ? CheckWriters(attempt.file->fd.get()) : WriterCheck::kWriting;
    settle->WriterSeen(name, writers, now);
    if (auto since = settle->WritingSince(name, now)) {
      read.kind = FileRead::Kind::kUnsettled;
      read.writing_since = since;
      // A look when the bound passes, to show it; its writer's close asks for one before.
      const TimePoint bound = *since + options_.writing_bound;
      read.look_again = bound > now ? bound : now + options_.writing_bound;
      return read;
    }
    // Created in the folder, never written to, and nobody holds it open for writing: a
    // hard link to a finished file.
    if (writers == WriterCheck::kNone && settle->CreatedWithoutWrite(name)) {
      settle->MarkWritten(name);
    }
    if (auto later = settle->Look(name, IdentityOf(attempt.file->st), now)) {
      read.kind = FileRead::Kind::kUnsettled;
      read.look_again = *later;
      return read;
    }
  }
  read.kind = FileRead::Kind::kOpen;
  read.fd = std::move(attempt.file->fd);
  read.opened = attempt.file->st;
  read.opened_at = now;
  read.settle = settle != nullptr;
  return read;
}

void CampaignFolder::Load(FileRead& read) const {
  if (read.kind != FileRead::Kind::kOpen) return;
  auto bytes = ReadBounded(read.fd.get(), options_.max_bytes, read.opened.st_size);
  if (!bytes) {
    read.kind = FileRead::Kind::kRefused;
    read.reason = bytes.error().message;
    read.fd.reset();
    return;
  }
  struct stat after {};
  if (::fstat(read.fd.get(), &after) != 0) after = read.opened;
  read.fd.reset();
  read.bytes = std::move(*bytes);
  read.stamp = StampOf(after);
  read.written_while_read = IdentityOf(after) != IdentityOf(read.opened);
  if (StampOf(read.opened) == read.stamp) {
    // The look's time, read through the caller's Clock before the open: earlier than the
    // read itself, so the margin is only ever stricter.
    const int64_t read_ns = std::chrono::nanoseconds(read.opened_at.time_since_epoch()).count();
    read.stable =
        read.stamp.ctime_ns + std::chrono::nanoseconds(options_.racy_margin).count() <= read_ns;
  }
  read.kind = FileRead::Kind::kReady;
}

FileRead CampaignFolder::FinishOne(const std::string& name, FileRead read, SettleTracker* settle,
                                   TimePoint now) const {
  if (read.kind == FileRead::Kind::kOpen) Load(read);
  if (read.kind != FileRead::Kind::kReady) return read;
  // Written to while we read: not settled after all.
  if (settle && read.written_while_read) {
    FileRead unsettled;
    unsettled.kind = FileRead::Kind::kUnsettled;
    unsettled.look_again = *settle->Look(name, IdentityOfStamp(read.stamp), now);
    return unsettled;
  }
  return read;
}

Result<FolderListing> CampaignFolder::Read(SettleTracker* settle, TimePoint now) const {
  auto snapshot = List();
  if (!snapshot) return std::unexpected(snapshot.error());
  FolderListing listing;
  listing.refused = std::move(snapshot->refused);
  std::set<std::string> seen;
  for (const ListedFile& file : snapshot->files) {
    FileRead read =
        FinishOne(file.name, OpenOne(snapshot->dir.get(), file.name, settle, now), settle, now);
    switch (read.kind) {
      case FileRead::Kind::kGone:
        continue;
      case FileRead::Kind::kRefused:
        listing.refused.push_back({file.name, read.reason});
        continue;
      case FileRead::Kind::kOpen:  // never: FinishOne reads an open file
      case FileRead::Kind::kUnsettled:
        seen.insert(file.name);
        listing.unsettled.push_back({file.name, read.look_again, read.writing_since});
        continue;
      case FileRead::Kind::kReady:
        seen.insert(file.name);
        listing.ready.push_back({file.name, std::move(read.bytes), IdentityOfStamp(read.stamp)});
        continue;
    }
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
  auto bytes = ReadBounded(attempt.file->fd.get(), options.max_bytes, attempt.file->st.st_size);
  if (!bytes) return Fail(bytes.error().kind, shown + ": " + bytes.error().message);
  return bytes;
}

}  // namespace broadcastd
