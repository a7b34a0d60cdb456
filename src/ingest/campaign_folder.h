#pragma once
// Lists and reads campaigns_dir the way sudo reads its includedir and cron
// reads cron.d, for the daemon and for --check alike:
//
//  - names: only *.yaml / *.yml; temporaries of editors and tools are ignored;
//    a name that is not UTF-8 or holds a control character is refused
//    (file_name_rules.h);
//  - trust: each file is opened relative to the folder's descriptor with
//    O_RDONLY|O_NOFOLLOW|O_NONBLOCK|O_CLOEXEC and judged by fstat on that
//    descriptor: a regular file, owned by root or the daemon's effective user,
//    neither group- nor world-writable. Symlinks, FIFOs, sockets, devices,
//    directories and unreadable files are refused with the reason. Nothing ever
//    blocks on a file. The folder itself must not be world-writable, or nothing
//    in it is read;
//  - settled: the daemon reads a file only once its writer is done with it
//    (settle_tracker.h). A file not settled yet is reported with the time to
//    look again, so that the caller keeps what it had from the earlier version.
// At most max_bytes + 1 bytes are read from a file: a larger one is rejected by
// the loader without ever being read whole.

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "document/document.h"
#include "ingest/settle_tracker.h"

namespace broadcastd {

struct FolderOptions {
  Duration settle{std::chrono::seconds(2)};
  size_t max_bytes = DocumentLimits{}.max_bytes;
  // The user whose files are trusted besides root's; the effective user when empty.
  std::optional<uid_t> trusted_user;
};

// Names in a listing are as shown and stored: valid UTF-8 without control
// characters (a refused name is escaped, see DisplayFileName).
struct ReadyFile {
  std::string name;
  std::string bytes;  // at most max_bytes + 1
  FileIdentity identity;
};
struct UnsettledFile {
  std::string name;
  TimePoint look_again;
};
struct RefusedFile {
  std::string name;
  std::string reason;  // "is a symbolic link (never followed)"
  friend bool operator==(const RefusedFile&, const RefusedFile&) = default;
};

struct FolderListing {
  std::vector<ReadyFile> ready;          // by name
  std::vector<UnsettledFile> unsettled;  // present, not read yet
  std::vector<RefusedFile> refused;      // present, never read
  // The earliest look_again of the unsettled files.
  std::optional<TimePoint> NextLook() const;
};

class CampaignFolder {
 public:
  explicit CampaignFolder(std::filesystem::path dir, FolderOptions options = {});

  const std::filesystem::path& dir() const { return dir_; }
  // After a reload that moved campaigns_dir.
  void SetDir(std::filesystem::path dir) { dir_ = std::move(dir); }

  // inotify said the writer of `name` is done (IN_CLOSE_WRITE, IN_MOVED_TO).
  void MarkWritten(const std::string& name) { settle_.MarkWritten(name); }

  // The daemon's look: trusted files that have settled are read, the others
  // reported. Remembers what it saw for the next look. Fails (naming the folder)
  // only when the folder cannot be listed or is world-writable: nothing is read.
  Result<FolderListing> Scan(TimePoint now);

  // --check's look: the same rules without the settle time (nothing is unsettled).
  Result<FolderListing> ReadAll() const;

 private:
  Result<FolderListing> Read(SettleTracker* settle, TimePoint now) const;

  std::filesystem::path dir_;
  FolderOptions options_;
  SettleTracker settle_;
};

// One file named by its path (--check with files named on the command line):
// the file rules of the folder (a name that can be shown, O_NOFOLLOW, fstat
// judged, never blocking), not the folder's; no settle time. A refusal is
// ErrorKind::kPermission, "<path>: refused: <reason>".
Result<std::string> ReadTrustedFile(const std::filesystem::path& path,
                                    const FolderOptions& options = {});

}  // namespace broadcastd
