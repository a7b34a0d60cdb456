#pragma once
// Sends one broadcast to one app's endpoint and says what the answer proves.
//
// Getting the app token is a step of its own, before the job is claimed: a token
// failure is not an attempt and spends no budget. The POST is the attempt, and every
// POST is exactly one attempt: a 401 ends it (the token is dropped), and the resend
// is a new attempt that the windows must allow.

#include <filesystem>
#include <optional>
#include <string>

#include "config/config.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/target.h"
#include "easemob/answer.h"
#include "easemob/token_source.h"
#include "easemob/transport.h"

namespace broadcastd {

class BroadcastClient {
 public:
  // `credentials_dir` is $CREDENTIALS_DIRECTORY as the caller found it (empty
  // when unset). `transport` and `clock` must outlive the client. Thread-safe when
  // the transport is (CurlTransport is): the daemon sends on several endpoints of one
  // app at once, and reads CachedToken() while a fetch or a Send is in flight. The
  // caller keeps to one Token() fetch at a time.
  BroadcastClient(AppConfig app, std::filesystem::path credentials_dir, HttpTransport& transport,
                  const Clock& clock);

  const std::string& app_name() const { return app_.name; }

  // The token to send with, when one is cached and fresh; never does I/O.
  std::optional<std::string> CachedToken() const { return tokens_.Cached(); }
  // A token: the cached one, or one fetched now (a request to the token endpoint,
  // or a read of the token file). The error says which app, URL or file failed and
  // why, without the secret or a token.
  Result<std::string> Token();

  // POSTs `body` (from BuildRequestBody) to the target's endpoint with
  // Authorization: Bearer `token`, Content-Type and Accept application/json: one
  // request, never resent. A 401 is kRetry (the request was not applied) and drops
  // the cached token, so the next Token() fetches a new one. Every other answer is
  // classified by ClassifyBroadcastAnswer. No string in the answer holds the secret
  // or a token. Never throws.
  BroadcastAnswer Send(BroadcastTarget target, const std::string& body, const std::string& token);

 private:
  BroadcastAnswer Redacted(BroadcastAnswer answer) const;

  AppConfig app_;
  HttpTransport& transport_;
  TokenSource tokens_;
};

}  // namespace broadcastd
