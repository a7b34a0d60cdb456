#include "easemob/token_source.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <utility>

#include "config/credential_file.h"
#include "easemob/app_url.h"
#include "easemob/vendor_body.h"

namespace broadcastd {
namespace {

constexpr Duration kMaxRefreshMargin = std::chrono::seconds(60);
constexpr std::string_view kRedacted = "[redacted]";

void ReplaceAll(std::string& text, std::string_view what) {
  if (what.empty()) return;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + kRedacted.size())) {
    text.replace(at, what.size(), kRedacted);
  }
}

bool UsableInHeader(std::string_view token) {
  return std::all_of(token.begin(), token.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7F;
  });
}

}  // namespace

TokenSource::TokenSource(AppConfig app, std::filesystem::path credentials_dir,
                         HttpTransport& transport, const Clock& clock)
    : app_(std::move(app)),
      credentials_dir_(std::move(credentials_dir)),
      transport_(transport),
      clock_(clock) {}

std::optional<std::string> TokenSource::Cached() const {
  std::lock_guard lock(mu_);
  if (token_ && (!refresh_at_ || clock_.Now() < *refresh_at_)) return token_;
  return std::nullopt;
}

Result<std::string> TokenSource::Token() {
  if (std::optional<std::string> cached = Cached()) return *cached;
  {
    std::lock_guard lock(mu_);
    token_.reset();
    refresh_at_.reset();
  }

  if (app_.token_file) {
    Result<std::string> token =
        ReadCredentialFile(credentials_dir_, *app_.token_file, "app " + app_.name + ": token_file");
    if (!token) return token;
    if (!UsableInHeader(*token)) {
      return Fail(ErrorKind::kInvalid,
                  "app " + app_.name + ": token_file holds characters not allowed in a token");
    }
    Keep(*token, std::nullopt);
    return token;
  }
  return Fetch();
}

namespace {

// The client-credentials request for `app`'s token.
HttpRequest TokenRequest(const AppConfig& app, const std::string& url, const std::string& secret) {
  HttpRequest request;
  request.method = "POST";
  request.url = url;
  request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  nlohmann::json body = {{"grant_type", "client_credentials"},
                         {"client_id", app.client_id},
                         {"client_secret", secret}};
  request.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return request;
}

// What a refusal (any status but 200) says: only the vendor's error fields,
// never the raw body: it is not ours to know what a misbehaving server echoes back.
std::string RefusalMessage(const std::string& what, const HttpResponse& response) {
  std::string message = what + " answered HTTP " + std::to_string(response.status);
  if (std::optional<VendorBody> vendor = ReadVendorBody(response.body)) {
    if (!vendor->error.empty()) message += " " + Utf8Prefix(vendor->error, 200);
    if (!vendor->error_description.empty()) {
      message += ": " + Utf8Prefix(vendor->error_description, 200);
    }
  }
  return message;
}

struct TokenAnswer {
  std::string token;
  int64_t expires_in = 0;  // seconds; 0 when the answer gives none
};

// The token and its lifetime from a 200 answer's body.
Result<TokenAnswer> ReadTokenAnswer(const std::string& what, const std::string& body) {
  TokenAnswer answer;
  try {
    nlohmann::json json = nlohmann::json::parse(body);
    const auto token_it = json.find("access_token");
    if (token_it == json.end() || !token_it->is_string()) {
      return Fail(ErrorKind::kUnavailable, what + ": the answer holds no access_token");
    }
    answer.token = token_it->get<std::string>();
    const auto expires_it = json.find("expires_in");
    if (expires_it != json.end() && expires_it->is_number_integer()) {
      answer.expires_in = expires_it->get<int64_t>();
    }
  } catch (const std::exception&) {
    return Fail(ErrorKind::kUnavailable, what + ": the answer is not JSON");
  }
  if (answer.token.empty() || !UsableInHeader(answer.token)) {
    return Fail(ErrorKind::kUnavailable,
                what + ": the answer's access_token is empty or not usable in a header");
  }
  return answer;
}

// When a token asked for at `asked_at` is to be refreshed (none without a lifetime).
std::optional<TimePoint> RefreshAt(TimePoint asked_at, int64_t expires_in) {
  if (expires_in <= 0) return std::nullopt;
  // Refresh early: the vendor warns a token may stop working before
  // expires_in, and the clock between us and the server is not exact.
  const Duration lifetime = std::chrono::seconds(std::min<int64_t>(expires_in, int64_t{1} << 40));
  const Duration margin = std::min(kMaxRefreshMargin, lifetime / 10);
  return asked_at + lifetime - margin;
}

}  // namespace

Result<std::string> TokenSource::Fetch() {
  const std::string url = AppUrl(app_, "/token");
  const std::string what = "app " + app_.name + ": token request to " + url;
  if (!app_.client_secret_file) {
    return Fail(ErrorKind::kInvalid,
                "app " + app_.name + ": neither client_secret_file nor token_file is set");
  }
  Result<std::string> secret = ReadCredentialFile(credentials_dir_, *app_.client_secret_file,
                                                  "app " + app_.name + ": client_secret_file");
  if (!secret) return std::unexpected(secret.error());
  Remember(*secret);

  const TimePoint asked_at = clock_.Now();
  TransportResult result = transport_.Send(TokenRequest(app_, url, *secret));
  if (result.failure != TransportFailure::kNone) {
    return Fail(ErrorKind::kUnavailable, what + " failed: " + Redact(result.detail));
  }
  if (result.response.status != 200)
    return Fail(ErrorKind::kUnavailable, Redact(RefusalMessage(what, result.response)));
  Result<TokenAnswer> answer = ReadTokenAnswer(what, result.response.body);
  if (!answer) return std::unexpected(answer.error());
  Keep(answer->token, RefreshAt(asked_at, answer->expires_in));
  return answer->token;
}

void TokenSource::Keep(const std::string& token, std::optional<TimePoint> refresh_at) {
  Remember(token);
  std::lock_guard lock(mu_);
  token_ = token;
  refresh_at_ = refresh_at;
}

void TokenSource::Invalidate() {
  std::lock_guard lock(mu_);
  token_.reset();
  refresh_at_.reset();
}

void TokenSource::Remember(const std::string& sensitive) {
  // The most recent few are enough: a token refused by a 401 may still be
  // echoed in the answer to the request that carried it.
  std::lock_guard lock(mu_);
  std::erase(sensitive_, sensitive);
  if (sensitive_.size() >= 8) sensitive_.erase(sensitive_.begin());
  sensitive_.push_back(sensitive);
}

std::string TokenSource::Redact(std::string text) const {
  std::lock_guard lock(mu_);
  for (const std::string& sensitive : sensitive_) ReplaceAll(text, sensitive);
  return text;
}

}  // namespace broadcastd
