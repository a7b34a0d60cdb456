#pragma once
// Secrets and tokens live in files under $CREDENTIALS_DIRECTORY (systemd
// LoadCredential=), never in the config. Errors name the config key that points
// at the file, never the file's content, and never the key's value either: an
// operator who pastes the secret itself as the value of client_secret_file must
// not find it in a log line, an error or the database.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace broadcastd {

// Why this process cannot read `path`, as an operator needs it: a missing file is not a
// folder on the way that this user may not enter, nor a file this user may not read.
struct ReadAccess {
  enum Kind {
    kReadable,
    kNoFile,          // the folder is there, the file is not
    kNoFolder,        // `folder` (on the way) does not exist
    kFolderClosed,    // `folder` cannot be entered (listed) by this user
    kFileClosed,      // the file is there, this user may not read it
    kNotRegularFile,  // a folder, a device, ...
    kOther,           // `error` says what
  } kind = kReadable;
  std::filesystem::path folder;  // kNoFolder, kFolderClosed
  std::string owner_mode;        // kFolderClosed, kFileClosed: "owner root, mode 0700"
  std::string error;             // kOther: strerror's text
};
ReadAccess CheckReadAccess(const std::filesystem::path& path);

// ReadAccess as the end of a message: "no such file", "cannot tell whether it is there: the
// folder /etc/broadcastd/credentials cannot be entered by user alice (uid 1000) (owner root,
// mode 0700)", "not readable by user alice (uid 1000) (owner root, mode 0600)". `show_folders`
// false: folders are not named
// ("a folder on its path"), for a path that is itself a config value.
std::string DescribeReadAccess(const ReadAccess& access, bool show_folders = true);

// "alice (uid 1000)": the user this process runs as (its effective uid).
std::string EffectiveUserDescription();

// Where the credential the config names `file` is: an absolute path as it is; a
// relative name NAME under `credentials_dir`, as NAME or, when that does not
// exist, as broadcastd_NAME (what `LoadCredential=broadcastd:/etc/broadcastd/credentials`
// makes of the file NAME in that folder). Fails (naming `what`, not `file`) when
// `file` is relative and `credentials_dir` is empty.
Result<std::filesystem::path> LocateCredentialFile(const std::filesystem::path& credentials_dir,
                                                   const std::filesystem::path& file,
                                                   std::string_view what);

// Reads the credential `file` (`what` names its config key in errors, e.g.
// "app main: client_secret_file"), located as above.
// Trailing CR/LF are stripped. Fails on a missing, unreadable, empty or
// oversized (> 64 KiB) file, or one holding a control character (it would
// end up in an HTTP header or body).
Result<std::string> ReadCredentialFile(const std::filesystem::path& credentials_dir,
                                       const std::filesystem::path& file, std::string_view what);

}  // namespace broadcastd
