#pragma once
// Secrets and tokens live in files under $CREDENTIALS_DIRECTORY (systemd
// LoadCredential=), never in the config. Errors name the file, never its content.

#include <filesystem>
#include <string>
#include <string_view>

#include "core/error.h"

namespace broadcastd {

// Reads the credential `file` (`what` names its config key in errors, e.g.
// "client_secret_file"). A relative `file` is resolved under
// `credentials_dir`; that is an error when `credentials_dir` is empty.
// Trailing CR/LF are stripped. Fails on a missing, unreadable, empty or
// oversized (> 64 KiB) file, or one holding a control character (it would
// end up in an HTTP header or body).
Result<std::string> ReadCredentialFile(const std::filesystem::path& credentials_dir,
                                       const std::filesystem::path& file, std::string_view what);

}  // namespace broadcastd
