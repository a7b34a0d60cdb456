#pragma once
// One daemon per database. A second broadcastd on the same queue would send every job
// twice, so the daemon holds an exclusive flock on "<database>.lock" for its whole life.
// Operator commands do not take the lock (they work while the daemon runs); they ask
// LockHolderPid to say whether a daemon is running.

#include <filesystem>
#include <optional>

#include "core/error.h"

namespace broadcastd {

class DaemonLock {
 public:
  // Takes flock(LOCK_EX | LOCK_NB) on "<database>.lock" (created if missing, in the
  // database's folder, which must exist) and writes this process's pid into it.
  // Fails with "database /x/queue.db is in use by another broadcastd (pid 1234)" when
  // another open lock file description holds it: another process, or another DaemonLock
  // in this one. The kernel releases the lock if the process dies.
  static Result<DaemonLock> Acquire(const std::filesystem::path& database);

  DaemonLock(DaemonLock&& other) noexcept;
  DaemonLock& operator=(DaemonLock&& other) noexcept;
  DaemonLock(const DaemonLock&) = delete;
  DaemonLock& operator=(const DaemonLock&) = delete;
  // Clears the pid and releases the lock.
  ~DaemonLock();

  const std::filesystem::path& lock_path() const { return lock_path_; }

 private:
  DaemonLock(int fd, std::filesystem::path lock_path) : fd_(fd), lock_path_(std::move(lock_path)) {}
  void Release();

  int fd_ = -1;
  std::filesystem::path lock_path_;
};

// "<database>.lock".
std::filesystem::path LockPathFor(const std::filesystem::path& database);

// The pid of the process holding the daemon lock on `database`, or nullopt when no process
// holds it. Never takes the lock itself, so it cannot make a daemon that is starting up
// fail: it reads the pid from the file and checks the kernel's lock table (/proc/locks),
// or, where that cannot be read, that the process is alive.
std::optional<int> LockHolderPid(const std::filesystem::path& database);

}  // namespace broadcastd
