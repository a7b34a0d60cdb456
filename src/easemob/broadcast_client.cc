#include "easemob/broadcast_client.h"

#include <utility>

#include "easemob/app_url.h"

namespace broadcastd {
namespace {

bool IsUnauthorized(const TransportResult& result) {
  return result.failure == TransportFailure::kNone && result.response.status == 401;
}

BroadcastAnswer NoToken(const Error& error) {
  BroadcastAnswer answer;
  answer.outcome = OutcomeClass::kRetry;
  answer.detail = "not sent: no app token: " + error.message;
  return answer;
}

}  // namespace

BroadcastClient::BroadcastClient(AppConfig app, std::filesystem::path credentials_dir,
                                 HttpTransport& transport, const Clock& clock)
    : app_(app),
      transport_(transport),
      tokens_(std::move(app), std::move(credentials_dir), transport, clock) {}

TransportResult BroadcastClient::Post(const std::string& url, const std::string& token,
                                      const std::string& body) {
  HttpRequest request;
  request.method = "POST";
  request.url = url;
  request.headers = {{"Authorization", "Bearer " + token},
                     {"Content-Type", "application/json"},
                     {"Accept", "application/json"}};
  request.body = body;
  return transport_.Send(request);
}

BroadcastAnswer BroadcastClient::Send(BroadcastTarget target, const std::string& body) {
  const std::string url = AppUrl(app_, TargetPath(target));

  Result<std::string> token = tokens_.Token();
  if (!token) return Redacted(NoToken(token.error()));
  TransportResult result = Post(url, *token, body);

  if (IsUnauthorized(result)) {
    // A 401 proves the request was not applied, so one resend with a new
    // token cannot deliver the broadcast twice. Only one: a token that is
    // refused again points at the credentials, not at expiry.
    tokens_.Invalidate();
    token = tokens_.Token();
    if (!token) return Redacted(NoToken(token.error()));
    result = Post(url, *token, body);
    if (IsUnauthorized(result)) {
      tokens_.Invalidate();
      BroadcastAnswer answer = ClassifyBroadcastAnswer(result);
      answer.detail += " (refused again after a new token)";
      return Redacted(std::move(answer));
    }
  }
  return Redacted(ClassifyBroadcastAnswer(result));
}

BroadcastAnswer BroadcastClient::Redacted(BroadcastAnswer answer) const {
  answer.vendor_error = tokens_.Redact(std::move(answer.vendor_error));
  answer.error_description = tokens_.Redact(std::move(answer.error_description));
  answer.response_body = tokens_.Redact(std::move(answer.response_body));
  answer.detail = tokens_.Redact(std::move(answer.detail));
  return answer;
}

}  // namespace broadcastd
