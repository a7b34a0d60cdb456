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

// Whether the kernel lists an flock held by `pid` on the file with inode `inode`.
// nullopt when /proc/locks cannot be read.
std::optional<bool> KernelListsFlock(int pid, ino_t inode) {
  std::ifstream locks("/proc/locks");
  if (!locks) return std::nullopt;
  std::string line;
  // "1: FLOCK  ADVISORY  WRITE 6001 fe:00:10953005 0 EOF"; blocked waiters carry "->".
  while (std::getline(locks, line)) {
    std::istringstream fields(line);
    std::string ordinal, kind, mode, access, device_inode;
    int holder = 0;
    fields >> ordinal >> kind;
    if (kind == "->") continue;
    fields >> mode >> access >> holder >> device_inode;
    if (!fields || kind != "FLOCK" || holder != pid) continue;
    auto colon = device_inode.rfind(':');
    if (colon == std::string::npos) continue;
    if (device_inode.substr(colon + 1) == std::to_string(inode)) return true;
  }
  return false;
}

}  // namespace

std::filesystem::path LockPathFor(const std::filesystem::path& database) {
  std::filesystem::path lock = database;
  lock += ".lock";
  return lock;
}

Result<DaemonLock> DaemonLock::Acquire(const std::filesystem::path& database) {
  std::filesystem::path lock_path = LockPathFor(database);
  int fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Fail("database " + database.string() + ": cannot open lock file " + lock_path.string() +
                ": " + std::strerror(errno));
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    std::optional<int> holder = ReadPid(fd);
    close(fd);
    if (err == EWOULDBLOCK) {
      return Fail("database " + database.string() + " is in use by another broadcastd (pid " +
                  (holder ? std::to_string(*holder) : std::string("unknown")) + ")");
    }
    return Fail("database " + database.string() + ": cannot lock " + lock_path.string() + ": " +
                std::strerror(err));
  }
  std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(fd, 0) != 0 ||
      pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    int err = errno;
    close(fd);
    return Fail("database " + database.string() + ": cannot write pid to " + lock_path.string() +
                ": " + std::strerror(err));
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
  (void)ftruncate(fd_, 0);
  close(fd_);  // drops the flock
  fd_ = -1;
}

std::optional<int> LockHolderPid(const std::filesystem::path& database) {
  std::filesystem::path lock_path = LockPathFor(database);
  int fd = open(lock_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::optional<int> pid = ReadPid(fd);
  struct stat st {};
  bool stat_ok = fstat(fd, &st) == 0;
  close(fd);
  if (!pid || !stat_ok) return std::nullopt;
  std::optional<bool> listed = KernelListsFlock(*pid, st.st_ino);
  if (listed) return *listed ? pid : std::nullopt;
  // No lock table: a pid left by a killed daemon names a dead process (or, rarely, a
  // reused pid, which only makes an operator command more cautious).
  if (kill(*pid, 0) == 0 || errno == EPERM) return pid;
  return std::nullopt;
}

}  // namespace broadcastd
