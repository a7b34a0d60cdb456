#include "easemob/broadcast_client.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fakes/fake_clock.h"
#include "fakes/scripted_transport.h"
#include "fakes/temp_dir.h"
#include "outcome_printer.h"

namespace broadcastd {
namespace {

constexpr char kSecret[] = "s3cr3t-YXA6-Zq9";
constexpr char kBody[] = R"({"target_type":"users","msg":{"type":"txt","msg":"hi"}})";
constexpr char kOk[] = R"({"action":"post","data":{"id":1365344904091349007},"duration":0})";
constexpr char k401[] =
    R"json({"error":"unauthorized","error_description":"Unable to authenticate (OAuth)"})json";

std::string TokenAnswer(const std::string& token) {
  return nlohmann::json{{"access_token", token}, {"expires_in", 7200}}.dump();
}

class BroadcastClientTest : public testing::Test {
 protected:
  BroadcastClientTest() {
    dir_.Write("main.secret", std::string(kSecret) + "\n");
    app_.name = "main";
    app_.host = "https://a1.example.com";
    app_.org = "org1";
    app_.app = "app1";
    app_.client_id = "client-id";
    app_.client_secret_file = "main.secret";
  }

  std::vector<HttpRequest> Broadcasts() const {
    std::vector<HttpRequest> out;
    for (const HttpRequest& r : transport_.requests()) {
      if (!r.url.ends_with("/token")) out.push_back(r);
    }
    return out;
  }

  // Every string the client produced that could reach a log, the database
  // or an operator.
  static std::vector<std::string> Strings(const BroadcastAnswer& a) {
    return {a.broadcast_id, a.vendor_error, a.error_description, a.response_body, a.detail};
  }

  TempDir dir_;
  AppConfig app_;
  ScriptedTransport transport_;
  FakeClock clock_{FromMillis(1'800'000'000'000)};
};

TEST_F(BroadcastClientTest, PostsToEachTargetWithBearerToken) {
  BroadcastClient client(app_, dir_.path(), transport_, clock_);
  EXPECT_FALSE(client.CachedToken().has_value());
  transport_.PushHttp(200, TokenAnswer("tok-A"));
  ASSERT_EQ(client.Token().value_or(""), "tok-A");
  EXPECT_EQ(client.CachedToken().value_or(""), "tok-A");
  const std::pair<BroadcastTarget, const char*> cases[] = {
      {BroadcastTarget::kUsers, "https://a1.example.com/org1/app1/messages/broadcast"},
      {BroadcastTarget::kOnlineUsers, "https://a1.example.com/org1/app1/messages/users/broadcast"},
      {BroadcastTarget::kChatrooms,
       "https://a1.example.com/org1/app1/messages/chatrooms/broadcast"}};
  for (const auto& [target, url] : cases) {
    transport_.PushHttp(200, kOk);
    BroadcastAnswer answer = client.Send(target, kBody, *client.CachedToken());
    EXPECT_EQ(answer.outcome, OutcomeClass::kSent);
    EXPECT_EQ(answer.broadcast_id, "1365344904091349007");
    const HttpRequest& request = transport_.requests().back();
    EXPECT_EQ(request.method, "POST");
    EXPECT_EQ(request.url, url);
    EXPECT_EQ(request.body, kBody);
    EXPECT_EQ(ScriptedTransport::Header(request, "Authorization"), "Bearer tok-A");
    EXPECT_EQ(ScriptedTransport::Header(request, "Content-Type"), "application/json");
    EXPECT_EQ(ScriptedTransport::Header(request, "Accept"), "application/json");
  }
  // One token for all three: it is cached.
  EXPECT_EQ(transport_.CountUrlSuffix("/token"), 1u);
}

// A 401 ends the attempt: one POST, never resent inside the call; the refused token
// is dropped so the next attempt (a new claim, which the windows must allow) gets a
// new one.
TEST_F(BroadcastClientTest, A401IsOnePostThenRetryAndDropsTheToken) {
  BroadcastClient client(app_, dir_.path(), transport_, clock_);
  transport_.PushHttp(200, TokenAnswer("tok-old"));
  transport_.PushHttp(401, k401);
  ASSERT_TRUE(client.Token().has_value());
  BroadcastAnswer answer = client.Send(BroadcastTarget::kChatrooms, kBody, "tok-old");
  EXPECT_EQ(answer.outcome, OutcomeClass::kRetry);
  EXPECT_EQ(answer.http_status, 401);
  EXPECT_EQ(Broadcasts().size(), 1u);
  EXPECT_EQ(transport_.unplayed(), 0u);
  EXPECT_FALSE(client.CachedToken().has_value());

  transport_.PushHttp(200, TokenAnswer("tok-new"));
  transport_.PushHttp(200, kOk);
  auto token = client.Token();
  ASSERT_EQ(token.value_or(""), "tok-new");
  EXPECT_EQ(client.Send(BroadcastTarget::kChatrooms, kBody, *token).outcome, OutcomeClass::kSent);
  std::vector<HttpRequest> sent = Broadcasts();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(ScriptedTransport::Header(sent[0], "Authorization"), "Bearer tok-old");
  EXPECT_EQ(ScriptedTransport::Header(sent[1], "Authorization"), "Bearer tok-new");
  EXPECT_EQ(transport_.CountUrlSuffix("/token"), 2u);
}

TEST_F(BroadcastClientTest, TokenFailureIsAnErrorAndPostsNothing) {
  BroadcastClient client(app_, dir_.path(), transport_, clock_);
  transport_.PushHttp(503, "down");
  auto token = client.Token();
  ASSERT_FALSE(token.has_value());
  EXPECT_EQ(token.error().kind, ErrorKind::kUnavailable);
  EXPECT_NE(token.error().message.find("token"), std::string::npos);
  EXPECT_TRUE(Broadcasts().empty());

  // A missing secret file is an error too, and asks nothing of the network.
  app_.client_secret_file = "absent.secret";
  BroadcastClient missing(app_, dir_.path(), transport_, clock_);
  const size_t before = transport_.requests().size();
  auto none = missing.Token();
  ASSERT_FALSE(none.has_value());
  EXPECT_NE(none.error().message.find("client_secret_file"), std::string::npos)
      << none.error().message;
  EXPECT_EQ(transport_.requests().size(), before);
}

TEST_F(BroadcastClientTest, NonAuthFailuresAreNeverResent) {
  BroadcastClient client(app_, dir_.path(), transport_, clock_);
  transport_.PushHttp(200, TokenAnswer("tok-1"));
  ASSERT_TRUE(client.Token().has_value());
  const std::pair<TransportResult, OutcomeClass> cases[] = {
      {[] {
         TransportResult r;
         r.failure = TransportFailure::kMaybeSent;
         return r;
       }(),
       OutcomeClass::kUnknown},
      {[] {
         TransportResult r;
         r.failure = TransportFailure::kNotSent;
         return r;
       }(),
       OutcomeClass::kRetry},
      {[] {
         TransportResult r;
         r.response.status = 500;
         return r;
       }(),
       OutcomeClass::kUnknown},
      {[] {
         TransportResult r;
         r.response.status = 429;
         return r;
       }(),
       OutcomeClass::kRetry},
  };
  size_t expected = 0;
  for (const auto& [result, outcome] : cases) {
    transport_.Push(result);
    EXPECT_EQ(client.Send(BroadcastTarget::kChatrooms, kBody, "tok-1").outcome, outcome);
    EXPECT_EQ(Broadcasts().size(), ++expected);
  }
}

TEST_F(BroadcastClientTest, TokenFileIsReReadAfter401) {
  app_.client_secret_file.reset();
  app_.token_file = "main.token";
  dir_.Write("main.token", "file-token-1\n");
  BroadcastClient client(app_, dir_.path(), transport_, clock_);
  transport_.PushHttp(200, kOk);
  EXPECT_EQ(client.Send(BroadcastTarget::kUsers, kBody, client.Token().value()).outcome,
            OutcomeClass::kSent);
  dir_.Write("main.token", "file-token-2\n");
  transport_.PushHttp(401, k401);
  transport_.PushHttp(200, kOk);
  EXPECT_EQ(client.Send(BroadcastTarget::kUsers, kBody, client.Token().value()).outcome,
            OutcomeClass::kRetry);
  EXPECT_EQ(client.Send(BroadcastTarget::kUsers, kBody, client.Token().value()).outcome,
            OutcomeClass::kSent);
  ASSERT_EQ(transport_.requests().size(), 3u);
  EXPECT_EQ(ScriptedTransport::Header(transport_.requests()[1], "Authorization"),
            "Bearer file-token-1");
  EXPECT_EQ(ScriptedTransport::Header(transport_.requests()[2], "Authorization"),
            "Bearer file-token-2");
  EXPECT_EQ(transport_.CountUrlSuffix("/token"), 0u);
}

TEST_F(BroadcastClientTest, NoSecretOrTokenInAnyOutput) {
  BroadcastClient client(app_, dir_.path(), transport_, clock_);
  std::vector<std::string> produced;
  const std::vector<std::string> tokens = {"tok-AAAA1111", "tok-BBBB2222", "tok-CCCC3333"};

  // Token endpoint refusing, and echoing the secret back.
  transport_.PushHttp(400, R"({"error":"invalid_grant","error_description":"secret )" +
                               std::string(kSecret) + R"( is wrong"})");
  // Transport failure whose text echoes the secret.
  transport_.PushFailure(TransportFailure::kNotSent, std::string("refused, body had ") + kSecret);
  // A token, then answers that echo it: 401, then 403 and 500.
  transport_.PushHttp(200, TokenAnswer(tokens[0]));
  transport_.PushHttp(
      401, R"({"error":"unauthorized","error_description":"token )" + tokens[0] + R"( expired"})");
  transport_.PushHttp(200, TokenAnswer(tokens[1]));
  transport_.PushHttp(403, R"({"error":"forbidden_op","error_description":"Bearer )" + tokens[1] +
                               R"( broadcast message limit exceeded"})");
  transport_.PushHttp(500, "internal error for Bearer " + tokens[1] + " and " + tokens[0]);
  transport_.PushFailure(TransportFailure::kMaybeSent,
                         "reset after Authorization: Bearer " + tokens[1]);
  transport_.PushHttp(401, k401);
  transport_.PushHttp(200, TokenAnswer(tokens[2]));
  transport_.PushHttp(401, "Bearer " + tokens[2] + " is invalid");

  std::vector<BroadcastAnswer> answers;
  for (int i = 0; i < 8; ++i) {
    auto token = client.Token();
    if (!token) {
      produced.push_back(token.error().message);
      continue;
    }
    answers.push_back(client.Send(BroadcastTarget::kUsers, kBody, *token));
  }
  EXPECT_EQ(transport_.unplayed(), 0u);
  ASSERT_EQ(answers.size(), 6u);
  EXPECT_EQ(answers[0].outcome, OutcomeClass::kRetry);
  EXPECT_EQ(answers[1].outcome, OutcomeClass::kNextDay);  // still classified by its text
  for (const BroadcastAnswer& answer : answers) {
    for (const std::string& s : Strings(answer)) produced.push_back(s);
  }

  size_t checked = 0;
  for (const std::string& s : produced) {
    EXPECT_EQ(s.find(kSecret), std::string::npos) << s;
    for (const std::string& token : tokens) EXPECT_EQ(s.find(token), std::string::npos) << s;
    checked += s.empty() ? 0 : 1;
  }
  EXPECT_GT(checked, 10u);  // the scan looked at real text
}

}  // namespace
}  // namespace broadcastd
