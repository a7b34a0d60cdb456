#include "simulator.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <nlohmann/json.hpp>

#include "core/time_format.h"

namespace broadcastd {
namespace {

using nlohmann::json;

constexpr int64_t kDayMillis = 86'400'000;
constexpr std::string_view kApplicationUuid = "5371aaa4-4a53-11ee-9c6e-2bc6b3e401d7";

SimReply ErrorReply(int status, std::string_view error, std::string_view description,
                    TimePoint now) {
  json body = {{"error", error},
               {"exception", "EasemobSimulatorException"},
               {"timestamp", ToMillis(now)},
               {"duration", 0},
               {"error_description", description}};
  return SimReply{status, body.dump(), false, ""};
}

std::string_view DailyLimitText(BroadcastTarget target) {
  switch (target) {
    case BroadcastTarget::kUsers:
      return "broadcast message limit exceeded";
    case BroadcastTarget::kOnlineUsers:
      return "online user broadcast limit exceeded";
    case BroadcastTarget::kChatrooms:
      return "chatroom broadcast limit exceeded";
  }
  return "limit exceeded";
}

constexpr std::string_view kInvalidBody = "Request body is invalid. Please check body is correct.";

// The vendor's 400s, in the order its table lists them.
std::optional<SimReply> CheckBody(BroadcastTarget target, std::string_view text, TimePoint now) {
  json body;
  try {
    body = json::parse(text);
  } catch (const std::exception&) {
    return ErrorReply(400, "invalid_request_body", kInvalidBody, now);
  }
  if (!body.is_object()) return ErrorReply(400, "invalid_request_body", kInvalidBody, now);
  if (body.contains("ext") && !body["ext"].is_object()) {
    return ErrorReply(400, "illegal_argument", "ext must be JSONObject", now);
  }
  if (body.contains("from")) {
    if (!body["from"].is_string())
      return ErrorReply(400, "invalid_request_body", kInvalidBody, now);
    if (body["from"].get<std::string>().empty()) {
      return ErrorReply(400, "illegal_argument", "from can't be empty", now);
    }
  }
  if (target == BroadcastTarget::kUsers) {
    if (!body.contains("target_type")) {
      return ErrorReply(400, "illegal_argument", "target_type must be provided", now);
    }
    if (body["target_type"] != "users") {
      return ErrorReply(400, "illegal_argument", "target_type can only be 'users'", now);
    }
  }
  static constexpr std::array<std::string_view, 8> kTypes = {"txt",  "img", "audio", "video",
                                                             "file", "loc", "cmd",   "custom"};
  const auto msg = body.find("msg");
  if (msg == body.end() || !msg->is_object() || !msg->contains("type") ||
      !(*msg)["type"].is_string() ||
      std::find(kTypes.begin(), kTypes.end(), (*msg)["type"].get<std::string>()) == kTypes.end()) {
    return ErrorReply(400, "invalid_request_body", kInvalidBody, now);
  }
  if (target == BroadcastTarget::kChatrooms && body.contains("chatroom_msg_level")) {
    const json& level = body["chatroom_msg_level"];
    if (level != "high" && level != "normal" && level != "low") {
      return ErrorReply(400, "invalid_request_body", kInvalidBody, now);
    }
  }
  return std::nullopt;
}

std::optional<int> StatusFault(std::string_view fault) {
  int status = 0;
  auto [end, ec] = std::from_chars(fault.data(), fault.data() + fault.size(), status);
  if (ec != std::errc() || end != fault.data() + fault.size() || status < 100 || status > 599) {
    return std::nullopt;
  }
  return status;
}

}  // namespace

EasemobSimulator::EasemobSimulator(SimulatorConfig config)
    : config_(std::move(config)),
      random_(std::random_device{}()),
      next_id_(config_.first_broadcast_id) {
  if (!config_.log_file.empty()) log_.open(config_.log_file, std::ios::app);
}

SimReply EasemobSimulator::Handle(const SimRequest& request,
                                  const std::optional<std::string>& fault) {
  std::lock_guard lock(mutex_);
  const std::string prefix = "/" + config_.org + "/" + config_.app;
  SimReply reply;
  std::optional<std::string> played;
  if (request.path == prefix + "/token") {
    reply = HandleToken(request);
  } else {
    reply = ErrorReply(404, "organization_application_not_found",
                       "Could not find application for " + request.path, request.now);
    for (BroadcastTarget target : kAllTargets) {
      if (request.path == prefix + std::string(TargetPath(target))) {
        played = fault;
        reply = HandleBroadcast(request, target, fault);
      }
    }
  }
  Log(request, reply, played);
  return reply;
}

SimReply EasemobSimulator::HandleToken(const SimRequest& request) {
  bool granted = false;
  try {
    json body = json::parse(request.body);
    granted = body.is_object() && body.value("grant_type", "") == "client_credentials" &&
              body.value("client_id", "") == config_.client_id &&
              body.value("client_secret", "") == config_.client_secret;
  } catch (const std::exception&) {
    return ErrorReply(400, "invalid_request_body", kInvalidBody, request.now);
  }
  if (!granted) {
    return ErrorReply(401, "unauthorized", "client_id or client_secret is invalid", request.now);
  }
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string token = "YWMt";
  for (int i = 0; i < 40; ++i) token += kAlphabet[random_() % kAlphabet.size()];
  std::optional<TimePoint> expiry;
  if (config_.token_ttl_seconds > 0) {
    expiry = request.now + std::chrono::seconds(config_.token_ttl_seconds);
  }
  tokens_[token] = expiry;
  json answer = {{"access_token", token},
                 {"expires_in", config_.token_ttl_seconds},
                 {"application", kApplicationUuid}};
  return SimReply{200, answer.dump(), false, ""};
}

bool EasemobSimulator::TokenValid(const std::string& authorization, TimePoint now) const {
  constexpr std::string_view kBearer = "Bearer ";
  if (!authorization.starts_with(kBearer)) return false;
  auto it = tokens_.find(authorization.substr(kBearer.size()));
  return it != tokens_.end() && (!it->second || now < *it->second);
}

SimReply EasemobSimulator::HandleBroadcast(const SimRequest& request, BroadcastTarget target,
                                           const std::optional<std::string>& fault) {
  const TimePoint now = request.now;
  // "delay:MS" was played by the server before calling us.
  std::string f = fault.value_or("");
  if (f.starts_with("delay:")) f.clear();
  if (f == "401" || !TokenValid(request.authorization, now)) {
    return ErrorReply(401, "unauthorized", "Unable to authenticate due to expired access token",
                      now);
  }

  // Count first, answer second: a request the server saw uses the windows
  // and the day's budget whatever it is answered, scripted faults included.
  const EndpointLimits& limits = config_.limits.at(target);
  std::deque<TimePoint>& history = history_[target];
  bool over_window = false;
  Duration longest{0};
  for (const RateWindow& window : limits.windows) {
    longest = std::max(longest, window.length);
    const auto in_window = std::count_if(history.begin(), history.end(),
                                         [&](TimePoint t) { return t > now - window.length; });
    if (in_window >= window.count) over_window = true;
  }
  history.push_back(now);
  while (!history.empty() && history.front() <= now - longest) history.pop_front();
  int& used = daily_used_[{target, ToMillis(now) / kDayMillis}];
  const bool over_daily = !over_window && used >= limits.daily;
  if (!over_window && !over_daily) ++used;

  if (f == "drop") return SimReply{0, "", true, ""};
  if (f == "unopened") {
    return ErrorReply(403, "forbidden_op", "message broadcast service is unopened", now);
  }
  if (f == "garbage") return SimReply{200, "<html>upstream says hello</html>", false, ""};
  if (f == "429" || over_window) {
    return ErrorReply(429, "reach_limit", "This request has reached api limit", now);
  }
  if (f == "limit" || over_daily) {
    return ErrorReply(403, "forbidden_op", DailyLimitText(target), now);
  }
  if (std::optional<int> status = StatusFault(f)) {
    return ErrorReply(*status, "simulated_fault", "simulated fault " + f, now);
  }
  if (std::optional<SimReply> invalid = CheckBody(target, request.body, now)) return *invalid;

  const std::string path(TargetPath(target));
  json answer = {{"path", path},
                 {"uri", "https://easemob-sim/" + config_.org + "/" + config_.app + path},
                 {"timestamp", ToMillis(now)},
                 {"organization", config_.org},
                 {"application", kApplicationUuid},
                 {"action", "post"},
                 {"duration", 0},
                 {"applicationName", config_.app}};
  if (f == "noid") {
    answer["data"] = json::object();
    return SimReply{200, answer.dump(), false, ""};
  }
  const uint64_t id = next_id_++;
  answer["data"] = {{"id", id}};  // a JSON integer, as the vendor sends it
  return SimReply{200, answer.dump(), false, std::to_string(id)};
}

void EasemobSimulator::Log(const SimRequest& request, const SimReply& reply,
                           const std::optional<std::string>& fault) {
  if (!log_.is_open()) return;
  json line = {{"time", FormatRfc3339(request.now)},
               {"time_ms", ToMillis(request.now)},
               {"path", request.path},
               {"status", reply.status}};
  // The token request carries the client secret: its body is never logged.
  if (request.arrival_us != 0) line["time_us"] = request.arrival_us;
  if (!request.path.ends_with("/token")) line["body"] = request.body;
  if (!reply.broadcast_id.empty()) line["id"] = reply.broadcast_id;
  if (reply.drop) line["dropped"] = true;
  if (fault && !fault->empty()) line["fault"] = *fault;
  log_ << line.dump(-1, ' ', false, json::error_handler_t::replace) << std::endl;
}

}  // namespace broadcastd
