#pragma once
// Secrets and tokens live in files under $CREDENTIALS_DIRECTORY (systemd
// LoadCredential=), never in the config. Errors name the config key that points
// at the file, never the file's content, and never the key's value either: an
// operator who pastes the secret itself as the value of client_secret_file must
// not find it in a log line, an error or the database.

#include <filesystem>
#include <string>
#include <string_view>

#include "core/error.h"

namespace broadcastd {

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
