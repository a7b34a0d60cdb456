#pragma once
// The three broadcast endpoints.

#include <array>
#include <optional>
#include <string_view>

namespace broadcastd {

enum class BroadcastTarget { kUsers, kOnlineUsers, kChatrooms };

inline constexpr std::array<BroadcastTarget, 3> kAllTargets = {
    BroadcastTarget::kUsers, BroadcastTarget::kOnlineUsers, BroadcastTarget::kChatrooms};

// "users", "online_users", "chatrooms": the names in campaigns, config, the
// database and --status.
std::string_view TargetName(BroadcastTarget target);
std::optional<BroadcastTarget> ParseTarget(std::string_view name);

// Path under /{org}/{app}: "/messages/broadcast", "/messages/users/broadcast",
// "/messages/chatrooms/broadcast".
std::string_view TargetPath(BroadcastTarget target);

}  // namespace broadcastd
