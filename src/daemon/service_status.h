#pragma once
// What `systemctl status broadcastd` shows on its Status: line (sd_notify
// STATUS=): what the daemon is doing, e.g.
//   "sending job 12 (main/users); 11 queued; next main/online_users at 09:00:00Z;
//    1 unknown needs an operator"
// With several requests in flight: "sending jobs 12 (main/users), 14
// (main/chatrooms); ...". The text is built from plain facts (testable without
// systemd); the daemon's loop calls ServiceStatus::Update once a turn, which tells
// systemd only when the text changed. Update costs O(endpoints log n) at most, and
// nothing when no fact it depends on changed: no forecast of the queue, no job
// bodies, however long the queue.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"

namespace broadcastd {

class Engine;

struct ServiceStatusFacts {
  struct Sending {
    int64_t job = 0;
    std::string endpoint;  // "main/users"
  };
  TimePoint now;
  size_t queued = 0;                         // scheduled and ready jobs
  std::vector<Sending> sending;              // the requests in flight, by endpoint
  std::optional<std::string> next_endpoint;  // the next forecast send, if any soon
  std::optional<TimePoint> next_at;
  std::vector<std::string> paused;  // "main/users", sorted
  size_t unknown = 0;               // jobs an operator must resolve
};

// One line, parts joined by "; ". Times are HH:MM:SSZ on the day of `now`, else
// full RFC 3339. No control character survives (systemd reads one line).
std::string ServiceStatusText(const ServiceStatusFacts& facts);

class ServiceStatus {
 public:
  // How far ahead the next send is looked for.
  static constexpr Duration kLookAhead = std::chrono::hours(48);

  // Gathers the facts when anything they depend on may have changed (the queue's
  // size, the requests in flight, the engine's next wake, another process's commit)
  // and, when the text differs from the last one sent, sends it to systemd.
  // `now` is a reading of both clocks (Clock::Read), as the engine's scheduler uses.
  void Update(Engine& engine, const Instant& now);
  const std::string& text() const { return text_; }

 private:
  struct Fingerprint {
    size_t queued = 0;
    std::vector<int64_t> sending;
    std::optional<TimePoint> wake;
    int64_t data_version = 0;
    bool operator==(const Fingerprint&) const = default;
  };
  std::optional<Fingerprint> last_;
  std::string text_;
};

}  // namespace broadcastd
