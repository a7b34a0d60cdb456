#include "easemob/token_source.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/credential_file.h"
#include "fakes/fake_clock.h"
#include "fakes/scripted_transport.h"
#include "fakes/temp_dir.h"

namespace broadcastd {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kSecret[] = "YXA6-client-secret-value";

std::string TokenAnswer(const std::string& token, int64_t expires_in) {
  return nlohmann::json{
      {"access_token", token}, {"expires_in", expires_in}, {"application", "331d42e6-ad85"}}
      .dump();
}

class TokenSourceTest : public testing::Test {
 protected:
  TokenSourceTest() {
    dir_.Write("main.secret", std::string(kSecret) + "\n");
    app_.name = "main";
    app_.host = "https://a1.example.com/";
    app_.org = "org1";
    app_.app = "app1";
    app_.client_id = "YXA6-client-id";
    app_.client_secret_file = "main.secret";
  }

  TempDir dir_;
  AppConfig app_;
  ScriptedTransport transport_;
  FakeClock clock_{FromMillis(1'800'000'000'000)};
};

TEST_F(TokenSourceTest, FetchesWithClientCredentials) {
  TokenSource tokens(app_, dir_.path(), transport_, clock_);
  transport_.PushHttp(200, TokenAnswer("token-1", 7200));
  Result<std::string> token = tokens.Token();
  ASSERT_TRUE(token) << token.error().message;
  EXPECT_EQ(*token, "token-1");

  ASSERT_EQ(transport_.requests().size(), 1u);
  const HttpRequest& request = transport_.requests()[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "https://a1.example.com/org1/app1/token");
  EXPECT_EQ(ScriptedTransport::Header(request, "Content-Type"), "application/json");
  EXPECT_EQ(ScriptedTransport::Header(request, "Accept"), "application/json");
  // The trailing newline of the secret file is not part of the secret.
  EXPECT_EQ(nlohmann::json::parse(request.body),
            (nlohmann::json{{"grant_type", "client_credentials"},
                            {"client_id", "YXA6-client-id"},
                            {"client_secret", kSecret}}));
}

TEST_F(TokenSourceTest, CachesUntilAMinuteBeforeExpiry) {
  TokenSource tokens(app_, dir_.path(), transport_, clock_);
  transport_.PushHttp(200, TokenAnswer("token-1", 7200));
  transport_.PushHttp(200, TokenAnswer("token-2", 7200));
  ASSERT_EQ(tokens.Token().value_or(""), "token-1");

  clock_.Advance(seconds(7200 - 60) - milliseconds(1));
  EXPECT_EQ(tokens.Token().value_or(""), "token-1");
  EXPECT_EQ(transport_.requests().size(), 1u);

  clock_.Advance(milliseconds(1));
  EXPECT_EQ(tokens.Token().value_or(""), "token-2");
  EXPECT_EQ(transport_.requests().size(), 2u);
}

TEST_F(TokenSourceTest, ShortLivedTokenRefreshesAtNinetyPercent) {
  TokenSource tokens(app_, dir_.path(), transport_, clock_);
  transport_.PushHttp(200, TokenAnswer("short", 300));  // margin: 10% = 30 s < 60 s
  transport_.PushHttp(200, TokenAnswer("next", 300));
  ASSERT_EQ(tokens.Token().value_or(""), "short");
  clock_.Advance(seconds(270) - milliseconds(1));
  EXPECT_EQ(tokens.Token().value_or(""), "short");
  clock_.Advance(milliseconds(1));
  EXPECT_EQ(tokens.Token().value_or(""), "next");
}

TEST_F(TokenSourceTest, TokenWithoutExpiryIsKeptUntilInvalidated) {
  TokenSource tokens(app_, dir_.path(), transport_, clock_);
  transport_.PushHttp(200, TokenAnswer("forever", 0));
  transport_.PushHttp(200, TokenAnswer("after-401", 0));
  ASSERT_EQ(tokens.Token().value_or(""), "forever");
  clock_.Advance(std::chrono::hours(24 * 365));
  EXPECT_EQ(tokens.Token().value_or(""), "forever");
  tokens.Invalidate();
  EXPECT_EQ(tokens.Token().value_or(""), "after-401");
  EXPECT_EQ(transport_.CountUrlSuffix("/token"), 2u);
}

TEST_F(TokenSourceTest, RefusedCredentialsNameTheUrlNotTheSecret) {
  TokenSource tokens(app_, dir_.path(), transport_, clock_);
  // A server that echoes what it was sent must not leak it through us.
  transport_.PushHttp(401, R"({"error":"unauthorized","error_description":"bad secret )" +
                               std::string(kSecret) + R"("})");
  Result<std::string> token = tokens.Token();
  ASSERT_FALSE(token);
  EXPECT_NE(token.error().message.find("https://a1.example.com/org1/app1/token"),
            std::string::npos);
  EXPECT_NE(token.error().message.find("401"), std::string::npos);
  EXPECT_NE(token.error().message.find("unauthorized"), std::string::npos);
  EXPECT_EQ(token.error().message.find(kSecret), std::string::npos) << token.error().message;
}

TEST_F(TokenSourceTest, BadAnswersAreErrors) {
  TokenSource tokens(app_, dir_.path(), transport_, clock_);
  transport_.PushFailure(TransportFailure::kNotSent, "connection refused");
  transport_.PushHttp(200, "not json");
  transport_.PushHttp(200, R"({"expires_in":7200})");
  transport_.PushHttp(200, TokenAnswer("", 7200));
  transport_.PushHttp(200, TokenAnswer("two words", 7200));
  for (const char* expected :
       {"connection refused", "not JSON", "no access_token", "empty", "not usable"}) {
    Result<std::string> token = tokens.Token();
    ASSERT_FALSE(token) << expected;
    EXPECT_NE(token.error().message.find(expected), std::string::npos) << token.error().message;
  }
  EXPECT_EQ(transport_.requests().size(), 5u);
}

// The error names the key, never its value: the value may be the secret itself,
// pasted where the file's name belongs.
TEST_F(TokenSourceTest, MissingSecretFileIsNamedByItsKeyAndNothingIsSent) {
  app_.client_secret_file = "YXA6pastedSecretValue_9Qz";
  TokenSource tokens(app_, dir_.path(), transport_, clock_);
  Result<std::string> token = tokens.Token();
  ASSERT_FALSE(token);
  EXPECT_NE(token.error().message.find("app main: client_secret_file"), std::string::npos)
      << token.error().message;
  EXPECT_EQ(token.error().message.find("pastedSecretValue"), std::string::npos)
      << token.error().message;
  EXPECT_TRUE(token.error().Is(ErrorKind::kNotFound));
  EXPECT_TRUE(transport_.requests().empty());
}

TEST_F(TokenSourceTest, RelativeSecretWithoutCredentialsDirectoryIsAnError) {
  TokenSource tokens(app_, "", transport_, clock_);
  Result<std::string> token = tokens.Token();
  ASSERT_FALSE(token);
  EXPECT_NE(token.error().message.find("CREDENTIALS_DIRECTORY"), std::string::npos);
  EXPECT_TRUE(transport_.requests().empty());
}

TEST_F(TokenSourceTest, TokenFileIsReadOnceAndReReadAfterInvalidate) {
  app_.client_secret_file.reset();
  app_.token_file = "main.token";
  dir_.Write("main.token", "file-token-1\r\n");
  TokenSource tokens(app_, dir_.path(), transport_, clock_);
  EXPECT_EQ(tokens.Token().value_or(""), "file-token-1");
  dir_.Write("main.token", "file-token-2\n");
  EXPECT_EQ(tokens.Token().value_or(""), "file-token-1");
  tokens.Invalidate();
  EXPECT_EQ(tokens.Token().value_or(""), "file-token-2");
  EXPECT_TRUE(transport_.requests().empty());
}

TEST_F(TokenSourceTest, RedactHidesSecretsAndEveryTokenSeen) {
  TokenSource tokens(app_, dir_.path(), transport_, clock_);
  transport_.PushHttp(200, TokenAnswer("token-old", 7200));
  transport_.PushHttp(200, TokenAnswer("token-new", 7200));
  ASSERT_TRUE(tokens.Token());
  tokens.Invalidate();
  ASSERT_TRUE(tokens.Token());
  EXPECT_EQ(tokens.Redact("a token-old b token-new c " + std::string(kSecret) + " d"),
            "a [redacted] b [redacted] c [redacted] d");
}

TEST(CredentialFileTest, RulesForFiles) {
  TempDir dir;
  dir.Write("ok", "value\n\n");
  dir.Write("empty", "\n");
  dir.Write("inner", "line1\nline2\n");
  dir.Write("big", std::string(70 * 1024, 'a'));
  EXPECT_EQ(ReadCredentialFile(dir.path(), "ok", "client_secret_file").value_or(""), "value");
  // An absolute path does not need the credentials directory.
  EXPECT_EQ(ReadCredentialFile("", dir.path() / "ok", "token_file").value_or(""), "value");
  for (const char* name : {"empty", "inner", "big", "absent"}) {
    Result<std::string> read = ReadCredentialFile(dir.path(), name, "token_file");
    ASSERT_FALSE(read) << name;
    EXPECT_NE(read.error().message.find("token_file (under $CREDENTIALS_DIRECTORY)"),
              std::string::npos)
        << read.error().message;
    EXPECT_EQ(read.error().message.find("line1"), std::string::npos);
    EXPECT_EQ(read.error().message.find(dir.path().string()), std::string::npos);
  }
}

// `LoadCredential=broadcastd:/etc/broadcastd/credentials` loads the folder's file
// main.secret as broadcastd_main.secret: the config still names it main.secret.
TEST(CredentialFileTest, FolderLoadedCredentialsAreFoundByTheirFileName) {
  TempDir dir;
  dir.Write("broadcastd_main.secret", "from-folder\n");
  EXPECT_EQ(ReadCredentialFile(dir.path(), "main.secret", "client_secret_file").value_or(""),
            "from-folder");
  // A credential loaded under the plain name wins.
  dir.Write("main.secret", "plain\n");
  EXPECT_EQ(ReadCredentialFile(dir.path(), "main.secret", "client_secret_file").value_or(""),
            "plain");
  EXPECT_EQ(LocateCredentialFile(dir.path(), "other.secret", "x").value_or(""),
            dir.path() / "other.secret");
}

}  // namespace
}  // namespace broadcastd
