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
//  - signatures: "<file>.sig" and "<file>.<label>.sig" beside a campaign file are its
//    detached signatures (signed campaigns); listed with it, under the same rules of
//    names, trust and settling. A signature of no listed file is ignored;
//  - settled: the daemon reads a file only once its writer is done with it
//    (settle_tracker.h). A file not settled yet is reported with the time to
//    look again, so that the caller keeps what it had from the earlier version.
//    Before it reads a file the daemon also asks the kernel whether any process
//    holds it open for writing: fcntl(F_SETLEASE, F_RDLCK) fails with EAGAIN while
//    one does (the lease is dropped at once). The kernel answers only for a file the
//    daemon's user owns, or with CAP_LEASE; for the others (EACCES, EPERM) the events
//    and the settle time decide alone. A file open for writing is never read.
// At most max_bytes + 1 bytes are read from a file: a larger one is rejected by
// the loader without ever being read whole.

#include <sys/stat.h>
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/unique_fd.h"
#include "document/document.h"
#include "ingest/settle_tracker.h"
#include "store/store.h"

namespace broadcastd {

struct FolderOptions {
  Duration settle{std::chrono::seconds(2)};
  // A file's stamp is trusted to tell that it has not changed only when its ctime was at
  // least this old when its content was read, by the time of the look that opened it (the
  // caller's Clock; it precedes the read): file times move in steps of the kernel's tick
  // (or coarser), so a write right after a read may leave every field as it was. A file
  // read sooner is read again at the next scan.
  Duration racy_margin{std::chrono::seconds(1)};
  size_t max_bytes = DocumentLimits{}.max_bytes;
  // The user whose files are trusted besides root's; the effective user when empty.
  std::optional<uid_t> trusted_user;
  // A file held open for writing this long is reported as such (FileRead::writing_since),
  // so that it is shown and logged; it is still not read.
  Duration writing_bound{std::chrono::minutes(5)};
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
  std::optional<TimePoint> writing_since;  // held open for writing since then
};
struct RefusedFile {
  std::string name;
  std::string reason;  // "is a symbolic link (never followed)"
  friend bool operator==(const RefusedFile&, const RefusedFile&) = default;
};

// One campaign file of a listing, as fstatat (not following links) saw it: nothing
// opened, nothing read.
struct ListedFile {
  std::string name;
  Store::FileStamp stamp;
  // Why it would be refused by what the listing shows (not a regular file, untrusted
  // owner or mode); empty when it may be read.
  std::string refusal;
  // A campaign file's detached signatures in the folder (file_name_rules.h, kSignature),
  // by name, listed under the same rules: read, settled and trusted like the file.
  std::vector<ListedFile> signatures = {};
};

// What a file's signatures showed in a listing (names, stamps, refusals), as one text: while
// it is the same, they have not changed.
std::string SignatureStamp(const ListedFile& file);

// The folder at one moment: its descriptor (files are opened relative to it, later
// ones too) and its campaign files by name.
struct FolderSnapshot {
  UniqueFd dir;
  std::vector<ListedFile> files;     // by name
  std::vector<RefusedFile> refused;  // names that cannot be shown
};

// What became of one listed file when it was opened.
struct FileRead {
  // kOpen: opened and judged, not read yet (CampaignFolder::Open).
  enum class Kind { kReady, kUnsettled, kRefused, kGone, kOpen };
  Kind kind = Kind::kGone;
  std::string bytes;       // kReady: at most max_bytes + 1
  Store::FileStamp stamp;  // kReady: fstat on the descriptor after the read
  // kReady: ctime was racy_margin old when it was read: the stamp may be kept.
  bool stable = false;
  // kReady without the settle time: its identity moved during the read (Read then
  // reports it unsettled).
  bool written_while_read = false;
  TimePoint look_again;  // kUnsettled
  // kUnsettled: a writer holds it open (inotify's events, or the kernel's word), since
  // the first look that saw it so.
  std::optional<TimePoint> writing_since;
  std::string reason;  // kRefused
  // kOpen, and kReady until Finish: the file, as fstat saw it when opened, and the `now`
  // of the look that opened it.
  UniqueFd fd;
  struct stat opened {};
  TimePoint opened_at;
  bool settle = false;  // the settle time applies to it
};

struct FolderListing {
  std::vector<ReadyFile> ready;          // by name
  std::vector<UnsettledFile> unsettled;  // present, not read yet
  std::vector<RefusedFile> refused;      // present, never read
  // The earliest look_again of the unsettled files.
  std::optional<TimePoint> NextLook() const;
};

// Why campaigns_dir is unavailable, since when (CampaignFolder::CheckAvailable).
struct FolderHold {
  std::string reason;  // "was replaced: …", "went from 4 files to none", "is missing: …"
  TimePoint since;
};

// The marker an operator touches in campaigns_dir to have the folder taken as it is
// (an empty or another folder) once the daemon holds it unavailable.
inline constexpr const char* kConfirmFolderMarker = ".broadcastd-confirm";

class CampaignFolder {
 public:
  explicit CampaignFolder(std::filesystem::path dir, FolderOptions options = {});

  const std::filesystem::path& dir() const { return dir_; }
  // After a reload that moved campaigns_dir.
  // The same folder again (a reload) keeps what is known of its identity.
  void SetDir(std::filesystem::path dir) {
    if (dir == dir_) return;
    dir_ = std::move(dir);
    identity_.reset();
    hold_.reset();
  }

  // Whether a listing may be taken as what the folder holds, so that a file not in it
  // was removed. Not when the folder is missing (`listing` failed with kNotFound; for a
  // folder Known() only, else the caller fails as ever), when
  // its device or inode changed since the last listing taken (an unmount that left the
  // mount point, a folder moved away and another put in its place), or when it went
  // from several files (`known_files`, what the store has) to none: then the reason,
  // logged once (campaigns.unavailable), and the caller neither reads nor cancels
  // anything. It is taken again when it comes back as it was, or when an operator
  // touched kConfirmFolderMarker in it after the hold began (campaigns.available).
  // Whether a listing of this folder was taken before (so that its absence now is news).
  bool Known() const { return identity_.has_value(); }
  std::optional<FolderHold> CheckAvailable(const Result<FolderSnapshot>& listing,
                                           size_t known_files, TimePoint now);

  // inotify said the writer of `name` is done (IN_CLOSE_WRITE, IN_MOVED_TO).
  void MarkWritten(const std::string& name) { settle_.MarkWritten(name); }
  // inotify said `name` was written to (IN_MODIFY): never read before its close. True
  // for the first such event since its last close (worth a look: the bound's timer).
  bool MarkWriting(const std::string& name) { return settle_.MarkWriting(name); }
  // inotify said `name` was created (IN_CREATE), or left the folder (IN_DELETE,
  // IN_MOVED_FROM).
  void MarkCreated(const std::string& name) { settle_.MarkCreated(name); }
  void Forget(const std::string& name) { settle_.Forget(name); }

  const FolderOptions& options() const { return options_; }

  // The daemon's look: trusted files that have settled are read, the others
  // reported. Remembers what it saw for the next look. Fails (naming the folder)
  // only when the folder cannot be listed or is world-writable: nothing is read.
  Result<FolderListing> Scan(TimePoint now);

  // --check's look: the same rules without the settle time (nothing is unsettled).
  Result<FolderListing> ReadAll() const;

  // The daemon's look in two steps, so that a file whose stamp has not changed is never
  // opened: List takes the folder's listing (fails as Scan does); Read opens one listed
  // file and reads it under every rule of Scan, the settle time only when `settle`
  // (a file whose stamp says it was read before, unchanged, has settled).
  Result<FolderSnapshot> List() const;
  FileRead Read(int dir_fd, const std::string& name, TimePoint now, bool settle);
  // Read in three steps, so that the bytes may be read on another thread: Open does what
  // Read does up to the read, on the caller's thread (the settle time is the folder's),
  // and gives a kOpen file or what became of it; Load reads a kOpen file, on any thread
  // (several at once; it touches nothing of the folder's); Finish, on the caller's thread
  // again, gives what Read would have given.
  FileRead Open(int dir_fd, const std::string& name, TimePoint now, bool settle);
  // Open for a listed file: at the first look of its name (no inotify event for it)
  // the listing's stat is all the settle time needs, and the file is not opened: it is
  // unsettled whatever it shows (SettleTracker). A cold start's first look at every
  // file is then a listing alone.
  FileRead Open(int dir_fd, const ListedFile& listed, TimePoint now, bool settle);
  void Load(FileRead& read) const;
  FileRead Finish(const std::string& name, FileRead read, TimePoint now);
  // Forgets what the settle time knows of files not in `seen` (gone since).
  void KeepOnly(const std::set<std::string>& seen) { settle_.KeepOnly(seen); }

  // How many files were opened to be read, for tests: a file known unchanged never is.
  uint64_t opened() const { return opened_; }

 private:
  Result<FolderListing> Read(SettleTracker* settle, TimePoint now) const;

  FileRead OpenOne(int dir_fd, const std::string& name, SettleTracker* settle, TimePoint now) const;
  FileRead FinishOne(const std::string& name, FileRead read, SettleTracker* settle,
                     TimePoint now) const;

  std::filesystem::path dir_;
  FolderOptions options_;
  std::optional<std::pair<uint64_t, uint64_t>> identity_;  // device, inode when last taken
  std::optional<FolderHold> hold_;
  SettleTracker settle_;
  mutable uint64_t opened_ = 0;
};

Store::FileStamp StampOf(const struct stat& st);

// What the kernel says of the writers of an open file (fcntl F_SETLEASE, F_RDLCK).
// REQUIRES: `fd` open read-only. Leaves no lease behind. The first kUnknown for want of
// permission is logged once per process (campaigns.writer_check_unavailable).
WriterCheck CheckWriters(int fd);

// One file named by its path (--check with files named on the command line):
// the file rules of the folder (a name that can be shown, O_NOFOLLOW, fstat
// judged, never blocking), not the folder's; no settle time. A refusal is
// ErrorKind::kPermission, "<path>: refused: <reason>".
Result<std::string> ReadTrustedFile(const std::filesystem::path& path,
                                    const FolderOptions& options = {});

}  // namespace broadcastd
