#pragma once
// One daemon per database. A second broadcastd on the same queue would send every job
// twice, so the daemon holds an exclusive flock on the database file itself for its
// whole life. A separate lock file could be removed (by hand, by a clean-up job) while
// the daemon runs, and a second daemon would then lock a new file of the same name;
// the database cannot be removed without taking the queue with it.
//
// flock(2) and SQLite's POSIX record locks (fcntl(2)) are separate lock tables on
// Linux: an flock on the database never blocks SQLite, in this process or another
// (tests/store/daemon_lock_test.cc checks it). Not so on NFS, where the kernel emulates
// flock with whole-file fcntl locks; SQLite's WAL mode does not work there anyway.
//
// "<database>.lock" still receives the holder's pid, for people and for systems without
// /proc/locks; it no longer carries the lock.
//
// Operator commands do not take the lock (they work while the daemon runs); they ask
// LockHolderPid to say whether a daemon is running.

#include <filesystem>
#include <optional>

#include "core/error.h"

namespace broadcastd {

class DaemonLock {
 public:
  // Takes flock(LOCK_EX | LOCK_NB) on `database` (created empty if missing, in its
  // folder, which must exist; SQLite takes an empty file for a new database) and
  // writes this process's pid into "<database>.lock". Fails with "database /x/queue.db
  // is in use by another broadcastd (pid 1234)" when another open file description
  // holds it: another process, or another DaemonLock in this one. The kernel releases
  // the lock if the process dies.
  static Result<DaemonLock> Acquire(const std::filesystem::path& database);

  DaemonLock(DaemonLock&& other) noexcept;
  DaemonLock& operator=(DaemonLock&& other) noexcept;
  DaemonLock(const DaemonLock&) = delete;
  DaemonLock& operator=(const DaemonLock&) = delete;
  // Clears the pid and releases the lock. REQUIRES: this process has no SQLite
  // connection to the database open any more: closing any descriptor of a file drops
  // every POSIX lock the process holds on it (fcntl(2)), SQLite's included.
  ~DaemonLock();

  const std::filesystem::path& lock_path() const { return lock_path_; }

 private:
  DaemonLock(int fd, std::filesystem::path lock_path) : fd_(fd), lock_path_(std::move(lock_path)) {}
  void Release();

  int fd_ = -1;  // a descriptor of the database file, holding the flock
  std::filesystem::path lock_path_;
};

// "<database>.lock": the pid file.
std::filesystem::path LockPathFor(const std::filesystem::path& database);

// The pid of the process holding the daemon lock on `database`, or nullopt when no
// process holds it. Never takes the lock itself, so it cannot make a daemon that is
// starting up fail, and never opens the database file (closing it would drop this
// process's SQLite locks): it looks the file's inode up in the kernel's lock table
// (/proc/locks), or, where that cannot be read, takes the pid from "<database>.lock"
// and checks that the process is alive.
std::optional<int> LockHolderPid(const std::filesystem::path& database);

}  // namespace broadcastd
