#pragma once
// Whether a campaign file has settled: a file is read only once its writer is
// done with it, never half-written.
//
// A file has settled
//  - right after an inotify IN_CLOSE_WRITE or IN_MOVED_TO for its name (the
//    writer closed it, or it was renamed in whole): MarkWritten;
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

class SettleTracker {
 public:
  explicit SettleTracker(Duration settle = std::chrono::seconds(2)) : settle_(settle) {}

  // The writer of `name` is done with it (IN_CLOSE_WRITE, IN_MOVED_TO): the
  // next look finds it settled whatever its mtime.
  void MarkWritten(const std::string& name);

  // Records this look at `name`. Returns nothing when the file has settled,
  // else when to look again (after `now`).
  std::optional<TimePoint> Look(const std::string& name, const FileIdentity& id, TimePoint now);

  // Whether a look at `name` now would be its first, with no writer's event for it:
  // such a look never finds it settled, whatever it shows.
  bool FirstLook(const std::string& name) const {
    return !seen_.contains(name) && !written_.contains(name);
  }

  // Forgets every name not in `seen` (files gone since): a name that comes back
  // is looked at afresh.
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
};

}  // namespace broadcastd
