#include "easemob/request_body.h"

#include <nlohmann/json.hpp>

namespace broadcastd {

std::string BuildRequestBody(const Broadcast& broadcast) {
  nlohmann::json body = nlohmann::json::object();
  // The all-users endpoint requires target_type; the other two do not
  // document it, so it is not sent there.
  if (broadcast.target == BroadcastTarget::kUsers) body["target_type"] = "users";
  if (broadcast.from) body["from"] = *broadcast.from;
  body["msg"] = broadcast.message;
  if (broadcast.ext) body["ext"] = *broadcast.ext;
  if (broadcast.target == BroadcastTarget::kChatrooms && broadcast.chatroom_msg_level) {
    body["chatroom_msg_level"] = *broadcast.chatroom_msg_level;
  }
  // Replacing invalid UTF-8 keeps dump() from throwing; the loader has
  // already rejected such text, so this only guards the contract.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace broadcastd
