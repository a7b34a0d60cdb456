#include "core/error.h"

namespace broadcastd {

std::string_view ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kOther:
      return "other";
    case ErrorKind::kInvalid:
      return "invalid";
    case ErrorKind::kNotFound:
      return "not_found";
    case ErrorKind::kConflict:
      return "conflict";
    case ErrorKind::kIo:
      return "io";
    case ErrorKind::kCorrupt:
      return "corrupt";
    case ErrorKind::kUnavailable:
      return "unavailable";
    case ErrorKind::kPermission:
      return "permission";
  }
  return "other";
}

}  // namespace broadcastd
