#pragma once
// Sends one broadcast to one app's endpoint and says what the answer proves.

#include <filesystem>
#include <string>

#include "config/config.h"
#include "core/clock.h"
#include "core/target.h"
#include "easemob/answer.h"
#include "easemob/token_source.h"
#include "easemob/transport.h"

namespace broadcastd {

class BroadcastClient {
 public:
  // `credentials_dir` is $CREDENTIALS_DIRECTORY as the caller found it (empty
  // when unset). `transport` and `clock` must outlive the client. One request
  // at a time: the client is not thread-safe.
  BroadcastClient(AppConfig app, std::filesystem::path credentials_dir, HttpTransport& transport,
                  const Clock& clock);

  // POSTs `body` (from BuildRequestBody) to the target's endpoint with
  // Authorization: Bearer <token>, Content-Type and Accept application/json.
  // A failure to get a token is kRetry: nothing was sent. On a 401 the token
  // is refreshed ONCE and the request resent (the 401 proves the first was
  // not applied); a second 401 is kRetry. Every other answer is classified by
  // ClassifyBroadcastAnswer. No string in the answer holds the secret or a
  // token. Never throws.
  BroadcastAnswer Send(BroadcastTarget target, const std::string& body);

 private:
  TransportResult Post(const std::string& url, const std::string& token, const std::string& body);
  BroadcastAnswer Redacted(BroadcastAnswer answer) const;

  AppConfig app_;
  HttpTransport& transport_;
  TokenSource tokens_;
};

}  // namespace broadcastd
