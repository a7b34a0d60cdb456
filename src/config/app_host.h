#pragma once
// Internal to bd_config: the rule for an app's `host`.

#include <string>
#include <string_view>

#include "core/error.h"

namespace broadcastd {

// Accepts "https://host[:port]" and, because credentials would cross the
// network in clear otherwise, "http://" only to a loopback address (127.0.0.0/8,
// [::1] or localhost). No user info, path, query or fragment (one trailing "/"
// is dropped). Returns the host without the trailing slash; the error says why
// without repeating the key.
Result<std::string> CheckAppHost(std::string_view host);

}  // namespace broadcastd
