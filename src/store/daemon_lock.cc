#include "store/daemon_lock.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

namespace broadcastd {

namespace {

// The pid written in the lock file, if it holds one.
std::optional<int> ReadPid(int fd) {
  char buffer[32] = {};
  ssize_t n = pread(fd, buffer, sizeof(buffer) - 1, 0);
  if (n <= 0) return std::nullopt;
  int pid = 0;
  const char* end = buffer + n;
  auto [ptr, ec] = std::from_chars(buffer, end, pid);
  if (ec != std::errc() || ptr == buffer || pid <= 0) return std::nullopt;
  return pid;
}

// The pid of a process the kernel lists as holding an exclusive flock on the file
// (device, inode). nullopt when /proc/locks cannot be read; 0 when nobody holds one.
std::optional<int> KernelFlockHolder(dev_t device, ino_t inode) {
  std::ifstream locks("/proc/locks");
  if (!locks) return std::nullopt;
  std::string line;
  // "1: FLOCK  ADVISORY  WRITE 6001 fe:00:10953005 0 EOF"; blocked waiters carry "->".
  // "major:minor:inode"; only the inode is compared: overlay file systems report
  // another device to stat() than the kernel lists here.
  (void)device;
  const std::string wanted = ":" + std::to_string(inode);
  while (std::getline(locks, line)) {
    std::istringstream fields(line);
    std::string ordinal, kind, mode, access, device_inode;
    int holder = 0;
    fields >> ordinal >> kind;
    if (kind == "->") continue;
    fields >> mode >> access >> holder >> device_inode;
    if (!fields || kind != "FLOCK" || access != "WRITE") continue;
    if (device_inode.ends_with(wanted)) return holder;
  }
  return 0;
}

}  // namespace

std::filesystem::path LockPathFor(const std::filesystem::path& database) {
  std::filesystem::path lock = database;
  lock += ".lock";
  return lock;
}

Result<DaemonLock> DaemonLock::Acquire(const std::filesystem::path& database) {
  // Read-only is enough for flock: a database the daemon may not write still gets
  // locked here, and Store::Open then says why it cannot be used.
  int fd = open(database.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0 && (errno == EACCES || errno == EROFS))
    fd = open(database.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Fail(ErrorKind::kIo,
                "database " + database.string() +
                    ": cannot open it to take the daemon lock: " + std::strerror(errno));
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    struct stat st {};
    std::optional<int> holder;
    if (fstat(fd, &st) == 0) {
      std::optional<int> listed = KernelFlockHolder(st.st_dev, st.st_ino);
      if (listed && *listed > 0) holder = *listed;
    }
    // This process has no SQLite connection yet: closing drops nothing of SQLite's. Not
    // checked: a descriptor only locked, never written; it is gone even if close fails.
    (void)close(fd);
    if (!holder) {
      int pid_fd = open(LockPathFor(database).c_str(), O_RDONLY | O_CLOEXEC);
      if (pid_fd >= 0) {
        holder = ReadPid(pid_fd);
        (void)close(pid_fd);  // read only: nothing for close to lose
      }
    }
    if (err == EWOULDBLOCK) {
      return Fail(ErrorKind::kConflict,
                  "database " + database.string() + " is in use by another broadcastd (pid " +
                      (holder ? std::to_string(*holder) : std::string("unknown")) + ")");
    }
    return Fail(ErrorKind::kIo,
                "database " + database.string() + ": cannot lock it: " + std::strerror(err));
  }
  // The pid file is for people; a failure to write it does not stop the daemon.
  std::filesystem::path lock_path = LockPathFor(database);
  int pid_fd = open(lock_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (pid_fd >= 0) {
    std::string pid = std::to_string(getpid()) + "\n";
    (void)!write(pid_fd, pid.data(), pid.size());
    (void)close(pid_fd);  // likewise: a pid file not written is no reason to stop
  }
  return DaemonLock(fd, std::move(lock_path));
}

DaemonLock::DaemonLock(DaemonLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), lock_path_(std::move(other.lock_path_)) {}

DaemonLock& DaemonLock::operator=(DaemonLock&& other) noexcept {
  if (this != &other) {
    Release();
    fd_ = std::exchange(other.fd_, -1);
    lock_path_ = std::move(other.lock_path_);
  }
  return *this;
}

DaemonLock::~DaemonLock() { Release(); }

void DaemonLock::Release() {
  if (fd_ < 0) return;
  // An empty file says "nobody" to LockHolderPid even where /proc/locks is unreadable.
  (void)truncate(lock_path_.c_str(), 0);
  // Drops the flock. Not checked: the descriptor is gone even when close fails.
  (void)close(fd_);
  fd_ = -1;
}

std::optional<int> LockHolderPid(const std::filesystem::path& database) {
  struct stat st {};
  if (stat(database.c_str(), &st) != 0) return std::nullopt;
  std::optional<int> listed = KernelFlockHolder(st.st_dev, st.st_ino);
  if (listed) return *listed > 0 ? listed : std::nullopt;
  // No lock table: a pid left by a killed daemon names a dead process (or, rarely, a
  // reused pid, which only makes an operator command more cautious).
  int fd = open(LockPathFor(database).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::optional<int> pid = ReadPid(fd);
  (void)close(fd);  // read only: nothing for close to lose
  if (!pid) return std::nullopt;
  if (kill(*pid, 0) == 0 || errno == EPERM) return pid;
  return std::nullopt;
}

}  // namespace broadcastd
