#include "easemob/broadcast_client.h"

#include <utility>

#include "easemob/app_url.h"

namespace broadcastd {

BroadcastClient::BroadcastClient(AppConfig app, std::filesystem::path credentials_dir,
                                 HttpTransport& transport, const Clock& clock)
    : app_(app),
      transport_(transport),
      tokens_(std::move(app), std::move(credentials_dir), transport, clock) {}

Result<std::string> BroadcastClient::Token() {
  Result<std::string> token = tokens_.Token();
  if (!token) {
    Error error = token.error();
    error.message = tokens_.Redact(std::move(error.message));
    if (error.kind == ErrorKind::kOther) error.kind = ErrorKind::kUnavailable;
    return std::unexpected(std::move(error));
  }
  return token;
}

BroadcastAnswer BroadcastClient::Send(BroadcastTarget target, const std::string& body,
                                      const std::string& token) {
  HttpRequest request;
  request.method = "POST";
  request.url = AppUrl(app_, TargetPath(target));
  request.headers = {{"Authorization", "Bearer " + token},
                     {"Content-Type", "application/json"},
                     {"Accept", "application/json"}};
  request.body = body;
  TransportResult result = transport_.Send(request);

  BroadcastAnswer answer = ClassifyBroadcastAnswer(result);
  if (result.failure == TransportFailure::kNone && result.response.status == 401) {
    // The token was refused: it is of no more use. The 401 proves this request was
    // not applied; sending it again is a new attempt, which the caller schedules.
    tokens_.Invalidate();
    answer.detail += " (the token was refused; a new one is fetched before the next attempt)";
  }
  return Redacted(std::move(answer));
}

BroadcastAnswer BroadcastClient::Redacted(BroadcastAnswer answer) const {
  answer.vendor_error = tokens_.Redact(std::move(answer.vendor_error));
  answer.error_description = tokens_.Redact(std::move(answer.error_description));
  answer.response_body = tokens_.Redact(std::move(answer.response_body));
  answer.detail = tokens_.Redact(std::move(answer.detail));
  return answer;
}

}  // namespace broadcastd
