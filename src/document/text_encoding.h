#pragma once
// Byte-level checks run before a YAML parser sees the text.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace broadcastd {

struct EncodingProblem {
  size_t offset = 0;    // of the first offending byte
  std::string message;  // "invalid UTF-8 byte 0xff", "control character 0x01"
};

// The first byte that is not part of well-formed UTF-8 (overlong forms,
// surrogates and code points over U+10FFFF included), or a C0 control
// character other than tab, LF and CR, or DEL. YAML allows none of them.
std::optional<EncodingProblem> FindEncodingProblem(std::string_view text);

}  // namespace broadcastd
