#include "core/target.h"

namespace broadcastd {

std::string_view TargetName(BroadcastTarget target) {
  switch (target) {
    case BroadcastTarget::kUsers:
      return "users";
    case BroadcastTarget::kOnlineUsers:
      return "online_users";
    case BroadcastTarget::kChatrooms:
      return "chatrooms";
  }
  return "?";
}

std::optional<BroadcastTarget> ParseTarget(std::string_view name) {
  for (BroadcastTarget t : kAllTargets) {
    if (TargetName(t) == name) return t;
  }
  return std::nullopt;
}

std::string_view TargetPath(BroadcastTarget target) {
  switch (target) {
    case BroadcastTarget::kUsers:
      return "/messages/broadcast";
    case BroadcastTarget::kOnlineUsers:
      return "/messages/users/broadcast";
    case BroadcastTarget::kChatrooms:
      return "/messages/chatrooms/broadcast";
  }
  return "?";
}

}  // namespace broadcastd
