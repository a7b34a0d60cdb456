#pragma once
// The app token for the broadcast endpoints (reference/easemob-api.md, "App
// token"): fetched with client_credentials and cached, or read from a file.

#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/error.h"
#include "easemob/transport.h"

namespace broadcastd {

class TokenSource {
 public:
  // REQUIRES exactly one of app.client_secret_file and app.token_file.
  // `credentials_dir` is $CREDENTIALS_DIRECTORY as the caller found it
  // (empty when unset); relative credential paths resolve under it.
  // `transport` and `clock` must outlive this object.
  TokenSource(AppConfig app, std::filesystem::path credentials_dir, HttpTransport& transport,
              const Clock& clock);

  // A token to use now. With client_secret_file: the cached token while it
  // is fresh, else one POST {host}/{org}/{app}/token whose answer is cached
  // until min(60 s, 10% of expires_in) before it expires (expires_in 0 or
  // absent: until Invalidate). With token_file: the file's content, read
  // once and kept until Invalidate. Errors say which app, URL or file failed
  // and why; they never hold the secret or a token. Not thread-safe.
  Result<std::string> Token();

  // The cached token when it is fresh (Token() would answer it without a request or
  // a file read), else nothing. Never does I/O.
  std::optional<std::string> Cached() const;

  // Forgets the cached token (the server refused it with a 401), so the next
  // Token() fetches a new one or re-reads the token file.
  void Invalidate();

  // `text` with every token and secret this source has handled replaced by
  // "[redacted]": for strings that leave the client.
  std::string Redact(std::string text) const;

 private:
  Result<std::string> Fetch();

  AppConfig app_;
  std::filesystem::path credentials_dir_;
  HttpTransport& transport_;
  const Clock& clock_;
  void Remember(const std::string& sensitive);
  // Caches `token` (and remembers it for Redact) until `refresh_at`.
  void Keep(const std::string& token, std::optional<TimePoint> refresh_at);

  mutable std::mutex mu_;  // guards the three members below
  std::optional<std::string> token_;
  std::optional<TimePoint> refresh_at_;  // absent: no known expiry
  std::vector<std::string> sensitive_;   // recent secrets and tokens, kept only for Redact
};

}  // namespace broadcastd
