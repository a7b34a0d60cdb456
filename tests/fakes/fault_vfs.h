#pragma once
// A SQLite VFS that injects I/O failures, in the spirit of LevelDB's SpecialEnv:
// it wraps the default VFS and, when armed, fails chosen calls with a chosen
// SQLite error (SQLITE_FULL: the disk is full; SQLITE_IOERR: the disk failed).
// Open a Store on it with Store::Open(path, mode, FaultVfs::kName).
//
//   FaultVfs& faults = FaultVfs::Get();          // registers it once
//   faults.Arm(FaultVfs::kWrite, 0, SQLITE_FULL); // every write fails from now on
//   ...
//   faults.Heal();                                // the disk has room again
//
// Switchable at run time from any thread; one instance per process.

#include <atomic>

namespace broadcastd {

class FaultVfs {
 public:
  static constexpr const char* kName = "broadcastd-fault";
  // Which calls a fault applies to (a bit set).
  enum Op : int { kWrite = 1, kSync = 2, kOpen = 4, kTruncate = 8 };

  // The process's fault VFS, registered with SQLite (not as the default) on first use.
  static FaultVfs& Get();

  // After `pass` more matching calls succeed, every later matching call fails with
  // `code` until Heal().
  void Arm(int ops, int pass, int code);
  void Heal();
  // Matching calls failed since the last Arm.
  int failures() const { return failures_.load(); }

  // Internal: asks whether a call of kind `op` must fail; 0 when it must not.
  int Check(Op op);

 private:
  FaultVfs() = default;
  std::atomic<int> ops_{0};
  std::atomic<int> pass_{0};
  std::atomic<int> code_{0};
  std::atomic<int> failures_{0};
};

}  // namespace broadcastd
