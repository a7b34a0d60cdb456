#pragma once
// A validated campaign: what one YAML file in campaigns_dir asks for.
// Produced by the loader (campaign/loader.h) only after the schema and the
// cross-field rules passed, so every field here is already known good.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/target.h"

namespace broadcastd {

struct Repeat {
  std::string cron;                // 5 fields, e.g. "0 20 * * *"
  std::string timezone;            // IANA name, e.g. "Asia/Shanghai"
  std::optional<TimePoint> until;  // last instant an occurrence may fall on
};

// A broadcast's own lateness guard (`max_delay`), in place of the config's.
struct MaxDelay {
  std::optional<Duration> limit;  // nullopt: "none", sent however late
};

struct Broadcast {
  std::string name;  // [A-Za-z0-9._-]{1,64}, unique in the campaign: the broadcast's identity
  BroadcastTarget target = BroadcastTarget::kUsers;
  std::optional<TimePoint> send_at;     // not before; with repeat: first occurrence not before
  std::optional<TimePoint> expires_at;  // not with repeat (see README: each occurrence
                                        // expires when the next one is due)
  // Not with repeat. A one-shot not sent by due + this expires (the earlier of this and
  // expires_at); absent: the config's max_delay.
  std::optional<MaxDelay> max_delay;
  std::optional<Repeat> repeat;
  std::optional<std::string> from;                // non-empty when present
  std::optional<std::string> chatroom_msg_level;  // chatrooms only: high | normal | low
  nlohmann::json message;                         // {"type": "txt", "msg": "…"} etc.
  std::optional<nlohmann::json> ext;              // a JSON object when present
};

struct Campaign {
  std::string id;   // [A-Za-z0-9._-]{1,64}: the campaign's identity, whatever file carries it
  std::string app;  // empty when the file names none (resolved against the config)
  int64_t priority = 0;
  std::vector<Broadcast> broadcasts;
};

}  // namespace broadcastd
