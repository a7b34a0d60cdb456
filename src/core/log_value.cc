#include "core/log_value.h"

#include <cstdint>

namespace broadcastd {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Length of the valid UTF-8 sequence starting at text[i], or 0 if invalid.
size_t Utf8Length(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  const uint8_t b0 = byte(i);
  size_t len = 0;
  uint32_t min = 0;
  uint32_t cp = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2, min = 0x80, cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3, min = 0x800, cp = b0 & 0x0F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4, min = 0x10000, cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  // C1 controls and the line/paragraph separators end lines in some viewers.
  if ((cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029) return 0;
  return len;
}

void AppendEscaped(std::string_view text, bool in_quotes, std::string& out) {
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<uint8_t>(text[i]);
    if (c >= 0x80) {
      if (size_t len = Utf8Length(text, i); len > 0) {
        out.append(text.substr(i, len));
        i += len;
        continue;
      }
    }
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '"':
        out += in_quotes ? "\\\"" : "\"";
        break;
      case '\\':
        out += in_quotes ? "\\\\" : "\\";
        break;
      default:
        if (c < 0x20 || c >= 0x7F) {
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
}

bool IsBareToken(std::string_view text) {
  if (text.empty()) return false;
  for (char ch : text) {
    const auto c = static_cast<uint8_t>(ch);
    if (c <= 0x20 || c >= 0x7F || c == '"' || c == '\\' || c == '=') return false;
  }
  return true;
}

}  // namespace

std::string LogValue(std::string_view text) {
  if (IsBareToken(text)) return std::string(text);
  std::string out = "\"";
  AppendEscaped(text, true, out);
  out += '"';
  return out;
}

std::string EscapeControl(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  AppendEscaped(text, false, out);
  return out;
}

}  // namespace broadcastd
