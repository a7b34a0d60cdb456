#include "easemob/answer.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "easemob/vendor_body.h"

namespace broadcastd {
namespace {

constexpr size_t kMaxVendorText = 1024;

bool ContainsIgnoringCase(std::string_view haystack, std::string_view needle) {
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [](char a, char b) {
                          return std::tolower(static_cast<unsigned char>(a)) ==
                                 std::tolower(static_cast<unsigned char>(b));
                        });
  return it != haystack.end();
}

OutcomeClass ClassifyStatus(int status, std::string_view reason) {
  if (status == 429) return OutcomeClass::kRetry;
  if (status == 401) return OutcomeClass::kRetry;
  if (status == 403) {
    if (ContainsIgnoringCase(reason, "limit exceeded")) return OutcomeClass::kNextDay;
    if (ContainsIgnoringCase(reason, "unopened")) return OutcomeClass::kUnopened;
    return OutcomeClass::kPermanent;
  }
  if (status >= 400 && status < 500) return OutcomeClass::kPermanent;
  if (status >= 300 && status < 400) return OutcomeClass::kPermanent;
  return OutcomeClass::kUnknown;
}

std::string HttpDetail(const BroadcastAnswer& answer, bool json) {
  std::string detail = "HTTP " + std::to_string(*answer.http_status);
  if (!answer.vendor_error.empty()) detail += " " + answer.vendor_error;
  if (!answer.error_description.empty()) detail += ": " + answer.error_description;
  if (!json && !answer.response_body.empty()) detail += " (body is not JSON)";
  return detail;
}

}  // namespace

BroadcastAnswer ClassifyBroadcastAnswer(const TransportResult& result) {
  BroadcastAnswer answer;
  answer.retry_after = result.retry_after;
  switch (result.failure) {
    case TransportFailure::kNotSent:
      answer.outcome = OutcomeClass::kRetry;
      answer.detail = "not sent: " + result.detail;
      return answer;
    case TransportFailure::kMaybeSent:
      answer.outcome = OutcomeClass::kUnknown;
      answer.detail = "no answer after sending: " + result.detail;
      return answer;
    case TransportFailure::kNone:
      break;
  }

  const HttpResponse& response = result.response;
  answer.http_status = response.status;
  answer.response_body = Utf8Prefix(response.body, kMaxStoredResponseBody);
  std::optional<VendorBody> body = ReadVendorBody(response.body);
  if (body) {
    answer.vendor_error = Utf8Prefix(body->error, kMaxVendorText);
    answer.error_description = Utf8Prefix(body->error_description, kMaxVendorText);
  }

  if (response.status >= 200 && response.status < 300) {
    if (body && !body->broadcast_id.empty()) {
      answer.outcome = OutcomeClass::kSent;
      answer.broadcast_id = body->broadcast_id;
      answer.detail =
          "HTTP " + std::to_string(response.status) + ", broadcast id " + answer.broadcast_id;
    } else {
      answer.outcome = OutcomeClass::kUnknown;
      answer.detail = "HTTP " + std::to_string(response.status) +
                      " without a readable data.id; the broadcast may have been sent";
    }
    return answer;
  }

  // The three 403s differ only in their text. Without a JSON description
  // the raw body is the best evidence there is.
  std::string_view reason = answer.error_description;
  if (reason.empty()) reason = answer.response_body;
  answer.outcome = ClassifyStatus(response.status, reason);
  answer.detail = HttpDetail(answer, body.has_value());
  if (response.status >= 300 && response.status < 400) {
    answer.detail += " (redirect not followed; check the app's host)";
  }
  return answer;
}

}  // namespace broadcastd
