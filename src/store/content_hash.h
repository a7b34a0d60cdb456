#pragma once
// Identifies a campaign file's content, so re-reading an unchanged file changes nothing.

#include <string>
#include <string_view>

namespace broadcastd {

// SHA-256 of `bytes` as 64 lower-case hex digits.
std::string ContentHash(std::string_view bytes);

}  // namespace broadcastd
