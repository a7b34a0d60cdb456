#include "document/diagnostic.h"

namespace broadcastd {

std::string Diagnostic::ToString() const {
  std::string out = file;
  if (line > 0) {
    out += ':' + std::to_string(line);
    if (column > 0) out += ':' + std::to_string(column);
  }
  out += ": " + message + " [" + rule + "]";
  return out;
}

}  // namespace broadcastd
