#pragma once
// One problem found in an input file, with where it is and which rule it broke.
// Shared by the document reader, the campaign loader and the config loader so
// that every validation error reads the same way.

#include <string>

namespace broadcastd {

struct Diagnostic {
  std::string file;
  int line = 0;    // 1-based; 0 = the whole file
  int column = 0;  // 1-based byte column; 0 = the whole line or file
  // Short stable name an operator can search for: "yaml.syntax", "limit.depth",
  // "schema.required", "rule.expires_after_send_at", ...
  std::string rule;
  // Why, naming the key path: "broadcasts[0].message.url is required for type img".
  std::string message;

  // "file:line:col: message [rule]"; line and column are left out when 0.
  std::string ToString() const;
};

}  // namespace broadcastd
