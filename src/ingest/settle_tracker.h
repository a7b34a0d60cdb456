#pragma once
// Whether a campaign file has settled: a file is read only once its writer is
// done with it, never half-written.
//
// A file being written never settles: once inotify said it was written to
// (IN_MODIFY) it waits for its IN_CLOSE_WRITE (or a rename over it), however long its
// writer pauses; the folder reader also asks the kernel whether anyone holds it open
// for writing (campaign_folder.h) and counts a yes the same way.
//
// A file has settled
//  - right after an inotify IN_CLOSE_WRITE or IN_MOVED_TO for its name (the
//    writer closed it, or it was renamed in whole): MarkWritten;
//  - created (IN_CREATE) and never written to since, when the kernel says nobody
//    holds it open for writing: a hard link made in the folder (CreatedWithoutWrite);
//  - otherwise when its identity (device, inode, size, mtime in ns) is the same
//    as at the previous look and its mtime is at least the settle time old by
//    the caller's clock. Every write(2) moves the mtime, so a file still being
//    written is never that old. At the first look of a name there is nothing to
//    compare with, however old its mtime (a writer may have stalled with the
//    file half-written): it waits for the next look, a quarter of the settle
//    time later at the soonest. At start-up that is the only delay.
// An mtime in the future (a skewed clock, `touch -d`) counts from when the
// identity was first seen instead, so such a file is not held back for ever.

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "core/clock.h"

namespace broadcastd {

struct FileIdentity {
  uint64_t device = 0;
  uint64_t inode = 0;
  int64_t size = 0;
  int64_t mtime_ns = 0;  // since the Unix epoch
  friend bool operator==(const FileIdentity&, const FileIdentity&) = default;
};

FileIdentity IdentityOf(const struct stat& st);
TimePoint ModificationTime(const FileIdentity& id);

// What the kernel says of the writers of a file (campaign_folder.h, CheckWriters).
enum class WriterCheck {
  kNone,     // nobody holds it open for writing
  kWriting,  // a process holds it open for writing (or a write lease)
  kUnknown,  // the kernel would not say: not the file's owner without CAP_LEASE, or a
             // file system without leases
};

class SettleTracker {
 public:
  explicit SettleTracker(Duration settle = std::chrono::seconds(2)) : settle_(settle) {}

  // The writer of `name` is done with it (IN_CLOSE_WRITE, IN_MOVED_TO): the
  // next look finds it settled whatever its mtime.
  void MarkWritten(const std::string& name);

  // inotify saw a write to `name` (IN_MODIFY): it is open for writing until its
  // IN_CLOSE_WRITE. Returns true when it was not known to be written already (the
  // first write is worth a look; the others are not).
  bool MarkWriting(const std::string& name);
  // inotify saw `name` created (IN_CREATE): by a writer (a write or its close follows)
  // or as a hard link (nothing follows).
  void MarkCreated(const std::string& name);
  // `name` left the folder (IN_DELETE, IN_MOVED_FROM): what its writer did is moot.
  void Forget(const std::string& name);

  // Since when `name` has been open for writing, as far as events or the kernel told
  // (WriterSeen): nothing when no writer is known. The time is that of the first look
  // that found it so.
  std::optional<TimePoint> WritingSince(const std::string& name, TimePoint now);
  // What the kernel said, at a look at `now`, of the writers of `name`. When it says
  // nobody writes it, a writer known from events is forgotten too (it closed the file;
  // the settle time still applies); when it would not say, what it said before was of
  // another file.
  void WriterSeen(const std::string& name, WriterCheck check, TimePoint now);
  // Created (IN_CREATE) and not written to since.
  bool CreatedWithoutWrite(const std::string& name) const { return created_.contains(name); }

  // Records this look at `name`. Returns nothing when the file has settled,
  // else when to look again (after `now`).
  std::optional<TimePoint> Look(const std::string& name, const FileIdentity& id, TimePoint now);

  // Whether a look at `name` now would be its first, with no writer's event for it:
  // such a look never finds it settled, whatever it shows.
  bool FirstLook(const std::string& name) const {
    return !seen_.contains(name) && !written_.contains(name) && !writing_.contains(name) &&
           !created_.contains(name);
  }

  // Forgets every name not in `seen` (files gone since): a name that comes back
  // is looked at afresh. What inotify or the kernel said of a writer is kept until
  // Forget, MarkWritten or the kernel's word: its file may appear in a later listing,
  // and the time it has been written since must not start over.
  void KeepOnly(const std::set<std::string>& seen);

  Duration settle() const { return settle_; }

 private:
  struct Seen {
    FileIdentity id;
    TimePoint since;  // when this identity was first seen
  };
  Duration settle_;
  std::map<std::string, Seen> seen_;
  std::set<std::string> written_;
  // Written to (IN_MODIFY) and not closed since; the time once a look saw it so.
  std::map<std::string, std::optional<TimePoint>> writing_;
  // Held open for writing by the kernel's word, since the first look that saw it.
  std::map<std::string, TimePoint> held_;
  std::set<std::string> created_;
};

}  // namespace broadcastd
