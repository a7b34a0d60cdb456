#pragma once
// The behaviour of the Easemob broadcast API as the vendor's page describes
// it (seed/broadcast-api.zh.txt), without the network: tokens, the three
// endpoints' body rules, their windows and daily budgets, and faults.
// main.cc puts it behind cpp-httplib on 127.0.0.1.

#include <cstdint>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <utility>

#include "core/clock.h"
#include "core/limits.h"
#include "core/target.h"

namespace broadcastd {

struct SimulatorConfig {
  std::string org;
  std::string app;
  std::string client_id;
  std::string client_secret;
  int64_t token_ttl_seconds = 7200;                      // 0: tokens never expire
  std::map<BroadcastTarget, EndpointLimits> limits;      // every target present
  uint64_t first_broadcast_id = 1365344904091349007ULL;  // above 2^53 on purpose
  std::filesystem::path log_file;                        // empty: no request log
};

struct SimRequest {
  std::string path;           // "/org/app/messages/broadcast"
  std::string authorization;  // the Authorization header, "" when absent
  std::string body;
  TimePoint now;
  int64_t arrival_us = 0;  // when the server read the request, µs since the epoch (0: unknown)
};

struct SimReply {
  int status = 200;
  std::string body;
  bool drop = false;         // close the connection without answering
  std::string broadcast_id;  // set on a 200 from a broadcast endpoint
};

class EasemobSimulator {
 public:
  explicit EasemobSimulator(SimulatorConfig config);

  // Answers one POST. `fault` is the scripted fault for this request, if any:
  // "drop" (no answer), "unopened", "limit" (the day's 403), "noid" (200
  // without data.id), "garbage" (200, not JSON), "401", "429", any other
  // status code, or "delay:MS" (the server waited; the answer is normal).
  // Every broadcast request that passes the token check counts against the
  // endpoint's windows (a 429 restarts them, as DESIGN.md assumes), and every
  // one that passes the windows against the UTC day's budget, whatever it is
  // answered. Appends one line to the request log. Thread-safe.
  SimReply Handle(const SimRequest& request, const std::optional<std::string>& fault);

 private:
  SimReply HandleToken(const SimRequest& request);
  SimReply HandleBroadcast(const SimRequest& request, BroadcastTarget target,
                           const std::optional<std::string>& fault);
  bool TokenValid(const std::string& authorization, TimePoint now) const;
  void Log(const SimRequest& request, const SimReply& reply,
           const std::optional<std::string>& fault);

  SimulatorConfig config_;
  std::mutex mutex_;
  std::mt19937_64 random_;
  std::map<std::string, std::optional<TimePoint>> tokens_;  // token -> expiry
  std::map<BroadcastTarget, std::deque<TimePoint>> history_;
  std::map<std::pair<BroadcastTarget, int64_t>, int> daily_used_;  // (target, UTC day)
  uint64_t next_id_;
  std::ofstream log_;
};

}  // namespace broadcastd
