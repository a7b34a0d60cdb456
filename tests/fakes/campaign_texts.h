#pragma once
// Campaign files for the ingestion tests: small, valid, and named by their id.

#include <string>

namespace broadcastd {

// One users broadcast in 2099 (never due), its message `text`.
inline std::string Once(const std::string& id, const std::string& text) {
  return "id: " + id + "\nbroadcasts:\n  - {name: b, target: users, send_at: " +
         "\"2099-01-01T00:00:00Z\", message: {type: txt, msg: \"" + text + "\"}}\n";
}

// A repeating chatrooms broadcast, every evening at 20:00 in Shanghai.
inline std::string Nightly(const std::string& id) {
  return "id: " + id +
         "\nbroadcasts:\n  - {name: n, target: chatrooms, repeat: {cron: \"0 20 * * *\", "
         "timezone: Asia/Shanghai}, message: {type: txt, msg: nightly}}\n";
}

}  // namespace broadcastd
