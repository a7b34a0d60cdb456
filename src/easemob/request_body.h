#pragma once
// The JSON body of one broadcast request, shaped like the vendor's examples
// (seed/broadcast-api.zh.txt).

#include <string>

#include "campaign/campaign.h"

namespace broadcastd {

// REQUIRES a validated Broadcast (campaign/loader.h): message is a JSON object
// with "type", ext (when present) a JSON object, from (when present) non-empty.
// Returns the serialized body: {"target_type":"users"} on the all-users
// endpoint only, "from" when given, "msg" (the message as validated), "ext"
// when given, "chatroom_msg_level" when given and the target is chatrooms.
// Integers in the message or ext keep their exact digits.
std::string BuildRequestBody(const Broadcast& broadcast);

}  // namespace broadcastd
