#include "easemob/answer.h"

#include <gtest/gtest.h>

#include <string>

#include "easemob/vendor_body.h"
#include "outcome_printer.h"

namespace broadcastd {
namespace {

TransportResult Http(int status, std::string body) {
  TransportResult result;
  result.response.status = status;
  result.response.body = std::move(body);
  return result;
}

std::string ErrorBody(std::string_view error, std::string_view description) {
  return R"({"error":")" + std::string(error) +
         R"(","exception":"EasemobException","timestamp":1690000000000,"duration":0,)"
         R"("error_description":")" +
         std::string(description) + R"("})";
}

std::string SuccessBody(std::string_view id_json) {
  return R"({"path":"/messages/broadcast","uri":"https://XXXX/XXXX/XXXX/messages/broadcast",)"
         R"("timestamp":1745565192019,"organization":"XXXX","application":"5371aaa4",)"
         R"("action":"post","data":{"id":)" +
         std::string(id_json) + R"(},"duration":0,"applicationName":"XXXX"})";
}

TEST(ClassifyTest, SeedSuccessKeepsTheExactId) {
  BroadcastAnswer answer = ClassifyBroadcastAnswer(Http(200, SuccessBody("1365344904091349007")));
  EXPECT_EQ(answer.outcome, OutcomeClass::kSent);
  EXPECT_EQ(answer.broadcast_id, "1365344904091349007");
  EXPECT_EQ(answer.http_status, 200);
  EXPECT_NE(answer.detail.find("1365344904091349007"), std::string::npos);
}

TEST(ClassifyTest, SeedSuccessOfTheOtherEndpoints) {
  // As printed on the page, including its odd indentation.
  const std::string body = R"({
  "path": "/messages/users/broadcast",
  "uri": "https://XXXX/XXXX/XXXX/messages/users/broadcast",
  "timestamp": 1699944653964,
  "organization": "XXXX",
  "application": "331d42e6-ad85-XXXX-XXXX-d1fb6fef9f12",
  "action": "post",
  "data": {
    "id": 1173998498812376874
   },
  "duration": 1,
  "applicationName": "XXXX"
})";
  BroadcastAnswer answer = ClassifyBroadcastAnswer(Http(200, body));
  EXPECT_EQ(answer.outcome, OutcomeClass::kSent);
  EXPECT_EQ(answer.broadcast_id, "1173998498812376874");
}

TEST(ClassifyTest, IdsBeyondDoublesAndUint64KeepEveryDigit) {
  for (const char* id : {"18446744073709551615", "99999999999999999999999", "9007199254740993", "0",
                         "1365344904091349007123456789012345678901234567890"}) {
    BroadcastAnswer answer = ClassifyBroadcastAnswer(Http(200, SuccessBody(id)));
    EXPECT_EQ(answer.outcome, OutcomeClass::kSent) << id;
    EXPECT_EQ(answer.broadcast_id, id);
  }
}

TEST(ClassifyTest, IdAsAStringOfDigitsIsRead) {
  BroadcastAnswer answer =
      ClassifyBroadcastAnswer(Http(200, SuccessBody(R"("99999999999999999999999")")));
  EXPECT_EQ(answer.outcome, OutcomeClass::kSent);
  EXPECT_EQ(answer.broadcast_id, "99999999999999999999999");
}

TEST(ClassifyTest, SuccessWithoutAReadableIdIsUnknown) {
  for (const std::string& body :
       {SuccessBody("1.5"), SuccessBody("-7"), SuccessBody("1e20"), SuccessBody("null"),
        SuccessBody(R"("abc")"), SuccessBody(R"("")"), SuccessBody("{}"), SuccessBody("[1]"),
        std::string(R"({"data":{}})"), std::string(R"({"id":1365344904091349007})"),
        std::string(R"({"data":[{"id":1}]})"), std::string(R"({"x":{"data":{"id":1}}})"),
        std::string(R"({"data":{"inner":{"id":1}}})"), std::string("{}"), std::string(""),
        std::string("OK"), std::string("<html>gateway</html>"),
        std::string(R"({"data":{"id":1365344904091349007})")}) {
    BroadcastAnswer answer = ClassifyBroadcastAnswer(Http(200, body));
    EXPECT_EQ(answer.outcome, OutcomeClass::kUnknown) << body;
    EXPECT_EQ(answer.broadcast_id, "") << body;
  }
}

TEST(ClassifyTest, UnknownFieldsAreIgnored) {
  const std::string body =
      R"({"error_code":0,"extra":[1,{"data":{"id":5}}],"data":{"x":true,"id":42,"y":[null]}})";
  BroadcastAnswer answer = ClassifyBroadcastAnswer(Http(200, body));
  EXPECT_EQ(answer.outcome, OutcomeClass::kSent);
  EXPECT_EQ(answer.broadcast_id, "42");
}

TEST(ClassifyTest, DuplicateKeysReadLikeADomParse) {
  EXPECT_EQ(ClassifyBroadcastAnswer(Http(200, R"({"data":{"id":7,"id":"x"}})")).outcome,
            OutcomeClass::kUnknown);
  EXPECT_EQ(ClassifyBroadcastAnswer(Http(200, R"({"data":{"id":7},"data":{}})")).outcome,
            OutcomeClass::kUnknown);
  BroadcastAnswer last = ClassifyBroadcastAnswer(Http(200, R"({"data":{"id":"x","id":8}})"));
  EXPECT_EQ(last.outcome, OutcomeClass::kSent);
  EXPECT_EQ(last.broadcast_id, "8");
}

TEST(ClassifyTest, RateLimitIsRetryWithRetryAfter) {
  TransportResult result =
      Http(429, ErrorBody("reach_limit", "This request has reached api limit"));
  result.retry_after = std::chrono::seconds(30);
  BroadcastAnswer answer = ClassifyBroadcastAnswer(result);
  EXPECT_EQ(answer.outcome, OutcomeClass::kRetry);
  EXPECT_EQ(answer.error_description, "This request has reached api limit");
  EXPECT_EQ(answer.retry_after, std::chrono::seconds(30));
  EXPECT_EQ(ClassifyBroadcastAnswer(Http(429, "Too Many Requests")).outcome, OutcomeClass::kRetry);
}

TEST(ClassifyTest, DailyLimitTextsOfAllThreeEndpointsAreNextDay) {
  for (const char* text :
       {"broadcast message limit exceeded", "online user broadcast limit exceeded",
        "chatroom broadcast limit exceeded"}) {
    BroadcastAnswer answer = ClassifyBroadcastAnswer(Http(403, ErrorBody("forbidden_op", text)));
    EXPECT_EQ(answer.outcome, OutcomeClass::kNextDay) << text;
    EXPECT_EQ(answer.vendor_error, "forbidden_op");
    EXPECT_EQ(answer.error_description, text);
    EXPECT_NE(answer.detail.find(text), std::string::npos);
  }
}

TEST(ClassifyTest, UnopenedIsItsOwnClass) {
  BroadcastAnswer answer = ClassifyBroadcastAnswer(
      Http(403, ErrorBody("forbidden_op", "message broadcast service is unopened")));
  EXPECT_EQ(answer.outcome, OutcomeClass::kUnopened);
}

TEST(ClassifyTest, Other403IsPermanent) {
  EXPECT_EQ(ClassifyBroadcastAnswer(Http(403, ErrorBody("forbidden_op", "user is banned"))).outcome,
            OutcomeClass::kPermanent);
  EXPECT_EQ(ClassifyBroadcastAnswer(Http(403, "")).outcome, OutcomeClass::kPermanent);
}

TEST(ClassifyTest, A403ThatIsNotJsonStillClassifiesByItsText) {
  EXPECT_EQ(ClassifyBroadcastAnswer(Http(403, "broadcast message limit exceeded")).outcome,
            OutcomeClass::kNextDay);
  EXPECT_EQ(ClassifyBroadcastAnswer(Http(403, "service is unopened")).outcome,
            OutcomeClass::kUnopened);
}

TEST(ClassifyTest, EveryVendor400IsPermanentAndKeepsItsText) {
  const std::pair<const char*, const char*> errors[] = {
      {"illegal_argument", "ext must be JSONObject"},
      {"illegal_argument", "from can't be empty"},
      {"illegal_argument", "target_type can only be 'users'"},
      {"illegal_argument", "target_type must be provided"},
      {"invalid_request_body", "Request body is invalid. Please check body is correct."},
  };
  for (const auto& [error, text] : errors) {
    BroadcastAnswer answer = ClassifyBroadcastAnswer(Http(400, ErrorBody(error, text)));
    EXPECT_EQ(answer.outcome, OutcomeClass::kPermanent) << text;
    EXPECT_EQ(answer.vendor_error, error);
    EXPECT_EQ(answer.error_description, text);
  }
}

TEST(ClassifyTest, Other4xxArePermanent) {
  EXPECT_EQ(ClassifyBroadcastAnswer(Http(404, ErrorBody("organization_application_not_found",
                                                        "Could not find application")))
                .outcome,
            OutcomeClass::kPermanent);
  EXPECT_EQ(ClassifyBroadcastAnswer(Http(413, "Request Entity Too Large")).outcome,
            OutcomeClass::kPermanent);
  EXPECT_EQ(ClassifyBroadcastAnswer(Http(405, "")).outcome, OutcomeClass::kPermanent);
  EXPECT_EQ(ClassifyBroadcastAnswer(Http(422, "{}")).outcome, OutcomeClass::kPermanent);
}

TEST(ClassifyTest, UnauthorizedThatReachesClassificationIsRetry) {
  EXPECT_EQ(ClassifyBroadcastAnswer(
                Http(401, ErrorBody("unauthorized", "Unable to authenticate (OAuth)")))
                .outcome,
            OutcomeClass::kRetry);
}

TEST(ClassifyTest, ServerErrorsAreUnknownEvenWithoutJson) {
  for (int status : {500, 502, 503, 504}) {
    BroadcastAnswer answer = ClassifyBroadcastAnswer(Http(status, "<html>Bad Gateway</html>"));
    EXPECT_EQ(answer.outcome, OutcomeClass::kUnknown) << status;
    EXPECT_EQ(answer.http_status, status);
    EXPECT_EQ(answer.response_body, "<html>Bad Gateway</html>");
    EXPECT_NE(answer.detail.find("not JSON"), std::string::npos) << answer.detail;
  }
}

TEST(ClassifyTest, RedirectIsNotFollowedAndPermanent) {
  BroadcastAnswer answer = ClassifyBroadcastAnswer(Http(301, ""));
  EXPECT_EQ(answer.outcome, OutcomeClass::kPermanent);
  EXPECT_NE(answer.detail.find("redirect"), std::string::npos);
}

TEST(ClassifyTest, TransportFailures) {
  TransportResult not_sent;
  not_sent.failure = TransportFailure::kNotSent;
  not_sent.detail = "connection refused";
  BroadcastAnswer retry = ClassifyBroadcastAnswer(not_sent);
  EXPECT_EQ(retry.outcome, OutcomeClass::kRetry);
  EXPECT_FALSE(retry.http_status.has_value());
  EXPECT_NE(retry.detail.find("connection refused"), std::string::npos);

  TransportResult maybe;
  maybe.failure = TransportFailure::kMaybeSent;
  maybe.detail = "timed out";
  // A stale response must not be read when the transport says there is none.
  maybe.response.status = 200;
  maybe.response.body = SuccessBody("1");
  BroadcastAnswer unknown = ClassifyBroadcastAnswer(maybe);
  EXPECT_EQ(unknown.outcome, OutcomeClass::kUnknown);
  EXPECT_FALSE(unknown.http_status.has_value());
  EXPECT_EQ(unknown.broadcast_id, "");
}

TEST(ClassifyTest, StoredBodyIsCappedOnACharacterBoundary) {
  std::string body(4095, 'x');
  body += "中文";  // 3-byte characters straddling the 4096 cut
  BroadcastAnswer answer = ClassifyBroadcastAnswer(Http(500, body));
  EXPECT_EQ(answer.response_body, std::string(4095, 'x'));
  std::string ascii(10000, 'y');
  EXPECT_EQ(ClassifyBroadcastAnswer(Http(502, ascii)).response_body.size(), 4096u);
}

TEST(Utf8PrefixTest, NeverSplitsASequence) {
  EXPECT_EQ(Utf8Prefix("abc", 10), "abc");
  EXPECT_EQ(Utf8Prefix("ab中", 3), "ab");
  EXPECT_EQ(Utf8Prefix("ab中", 4), "ab");
  EXPECT_EQ(Utf8Prefix("ab中", 5), "ab中");
  EXPECT_EQ(Utf8Prefix("abcd", 2), "ab");
}

TEST(VendorBodyTest, NotJsonIsNothing) {
  EXPECT_FALSE(ReadVendorBody("not json").has_value());
  EXPECT_FALSE(ReadVendorBody(R"({"data":{"id":1}} trailing)").has_value());
  EXPECT_FALSE(ReadVendorBody("").has_value());
  EXPECT_TRUE(ReadVendorBody("[]").has_value());
}

TEST(VendorBodyTest, DeepNestingDoesNotCrash) {
  std::string deep(100000, '[');
  deep += std::string(100000, ']');
  EXPECT_TRUE(ReadVendorBody(deep).has_value());
}

}  // namespace
}  // namespace broadcastd
