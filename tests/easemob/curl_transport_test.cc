#include "easemob/curl_transport.h"

#include <gtest/gtest.h>

#include <chrono>

#include "loopback_server.h"

namespace broadcastd {
namespace {

using std::chrono::milliseconds;

constexpr char kBody[] = R"({"target_type":"users","msg":{"type":"txt","msg":"once only"}})";

HttpRequest Post(const std::string& url, const std::string& body = kBody) {
  HttpRequest request;
  request.method = "POST";
  request.url = url;
  request.headers = {{"Authorization", "Bearer tok"}, {"Content-Type", "application/json"}};
  request.body = body;
  return request;
}

CurlOptions ShortTimeouts() {
  CurlOptions options;
  options.connect_timeout = milliseconds(2000);
  options.total_timeout = milliseconds(2000);
  return options;
}

TEST(CurlTransportTest, ClosedWithoutAnswerIsMaybeSentAndNeverResent) {
  LoopbackServer server([](int fd, LoopbackServer& s) { s.ReadRequest(fd); });
  CurlTransport transport(ShortTimeouts());
  TransportResult result = transport.Send(Post(server.Url()));
  server.Stop();

  EXPECT_EQ(result.failure, TransportFailure::kMaybeSent) << result.detail;
  EXPECT_FALSE(result.detail.empty());
  const std::vector<RawRequest> requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(server.connections(), 1);
  EXPECT_TRUE(requests[0].head.starts_with("POST /org/app/messages/broadcast HTTP/1.1"));
  EXPECT_EQ(requests[0].body, kBody);
}

TEST(CurlTransportTest, EveryRequestOpensAFreshConnection) {
  // Answers with keep-alive, then closes: a client reusing the connection
  // would find it dead and (libcurl does) resend the POST.
  LoopbackServer server([](int fd, LoopbackServer& s) {
    if (!s.ReadRequest(fd)) return;
    LoopbackServer::Write(fd,
                          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                          "Connection: keep-alive\r\nKeep-Alive: timeout=60\r\n"
                          "Content-Length: 2\r\n\r\n{}");
  });
  CurlTransport transport(ShortTimeouts());
  TransportResult first = transport.Send(Post(server.Url(), "first"));
  TransportResult second = transport.Send(Post(server.Url(), "second"));
  server.Stop();

  EXPECT_EQ(first.failure, TransportFailure::kNone) << first.detail;
  EXPECT_EQ(first.response.status, 200);
  EXPECT_EQ(first.response.body, "{}");
  EXPECT_EQ(second.failure, TransportFailure::kNone) << second.detail;
  EXPECT_EQ(second.response.status, 200);
  EXPECT_EQ(server.connections(), 2);
  const std::vector<RawRequest> requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].body, "first");
  EXPECT_EQ(requests[1].body, "second");
}

TEST(CurlTransportTest, SendsHeadersAndReadsAnswerHeaders) {
  LoopbackServer server([](int fd, LoopbackServer& s) {
    if (!s.ReadRequest(fd)) return;
    const std::string body = R"({"error":"reach_limit"})";
    LoopbackServer::Write(fd,
                          "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\n"
                          "Content-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body);
  });
  CurlTransport transport(ShortTimeouts());
  TransportResult result = transport.Send(Post(server.Url()));
  server.Stop();

  ASSERT_EQ(result.failure, TransportFailure::kNone) << result.detail;
  EXPECT_EQ(result.response.status, 429);
  EXPECT_EQ(result.response.body, R"({"error":"reach_limit"})");
  EXPECT_EQ(result.retry_after, std::chrono::seconds(7));
  bool saw_retry_after = false;
  for (const auto& [name, value] : result.response.headers) {
    saw_retry_after |= name == "Retry-After" && value == "7";
  }
  EXPECT_TRUE(saw_retry_after);

  const std::string head = server.requests().at(0).head;
  EXPECT_NE(head.find("\r\nAuthorization: Bearer tok"), std::string::npos) << head;
  EXPECT_NE(head.find("\r\nContent-Type: application/json"), std::string::npos) << head;
  EXPECT_EQ(head.find("Expect:"), std::string::npos) << head;
}

TEST(CurlTransportTest, RetryAfterInThePastIsIgnored) {
  // curl before 8.12 turns a past HTTP date into a negative number.
  LoopbackServer server([](int fd, LoopbackServer& s) {
    if (!s.ReadRequest(fd)) return;
    LoopbackServer::Write(
        fd,
        "HTTP/1.1 429 Too Many Requests\r\n"
        "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\nContent-Length: 0\r\n\r\n");
  });
  CurlTransport transport(ShortTimeouts());
  TransportResult result = transport.Send(Post(server.Url()));
  server.Stop();
  ASSERT_EQ(result.failure, TransportFailure::kNone) << result.detail;
  EXPECT_EQ(result.response.status, 429);
  EXPECT_FALSE(result.retry_after.has_value()) << result.retry_after->count();
}

TEST(CurlTransportTest, TlsHandshakeFailureIsNotSent) {
  // Whatever the client says first (its TLS hello), the answer is not TLS:
  // the handshake fails and no HTTP request can have been written.
  std::atomic<size_t> received = 0;
  LoopbackServer server([&received](int fd, LoopbackServer&) {
    char buffer[4096];
    pollfd ready{fd, POLLIN, 0};
    if (poll(&ready, 1, 2000) > 0) received = static_cast<size_t>(read(fd, buffer, sizeof buffer));
    LoopbackServer::Write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  });
  CurlTransport transport(ShortTimeouts());
  TransportResult result = transport.Send(
      Post("https://127.0.0.1:" + std::to_string(server.port()) + "/org/app/messages/broadcast"));
  server.Stop();
  EXPECT_EQ(result.failure, TransportFailure::kNotSent) << result.detail;
  EXPECT_GT(received, 0u);  // the client did connect and speak TLS
  EXPECT_TRUE(server.requests().empty());
}

TEST(CurlTransportTest, RedirectIsNotFollowed) {
  LoopbackServer server([](int fd, LoopbackServer& s) {
    if (!s.ReadRequest(fd)) return;
    LoopbackServer::Write(fd,
                          "HTTP/1.1 307 Temporary Redirect\r\nLocation: /elsewhere\r\n"
                          "Content-Length: 0\r\n\r\n");
  });
  CurlTransport transport(ShortTimeouts());
  TransportResult result = transport.Send(Post(server.Url()));
  server.Stop();
  EXPECT_EQ(result.failure, TransportFailure::kNone);
  EXPECT_EQ(result.response.status, 307);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(CurlTransportTest, ConnectionRefusedIsNotSent) {
  // Bound but not listening: the kernel refuses every connection.
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);

  CurlTransport transport(ShortTimeouts());
  TransportResult result = transport.Send(
      Post("http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/org/app/token"));
  close(fd);
  EXPECT_EQ(result.failure, TransportFailure::kNotSent) << result.detail;
}

TEST(CurlTransportTest, ConnectTimeoutIsNotSent) {
  // A listener with a full accept queue drops further SYNs, so the next
  // connect hangs until the connect timeout: nothing of the request left.
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(listener, 0), 0);
  socklen_t length = sizeof address;
  getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  int filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(connect(filler, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);

  CurlOptions options;
  options.connect_timeout = milliseconds(300);
  options.total_timeout = milliseconds(5000);
  CurlTransport transport(options);
  TransportResult result =
      transport.Send(Post("http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/x"));
  close(filler);
  close(listener);
  EXPECT_EQ(result.failure, TransportFailure::kNotSent) << result.detail;
  EXPECT_NE(result.detail.find("curl error 28"), std::string::npos) << result.detail;
}

TEST(CurlTransportTest, PlainHttpToNonLoopbackIsRefusedBeforeConnecting) {
  // 192.0.2.1 (TEST-NET-1) is black-holed: a connect attempt would hang for the whole
  // connect timeout (a minute) and end as a timeout. Refusal comes before any attempt,
  // and says so: what happened, not how fast.
  CurlOptions options;
  options.connect_timeout = milliseconds(60000);
  options.total_timeout = milliseconds(60000);
  CurlTransport transport(options);
  TransportResult result = transport.Send(Post("http://192.0.2.1/org/app/messages/broadcast"));
  EXPECT_EQ(result.failure, TransportFailure::kNotSent);
  EXPECT_NE(result.detail.find("non-loopback"), std::string::npos) << result.detail;
}

TEST(CurlTransportTest, SilentServerTimesOutAsMaybeSent) {
  LoopbackServer server([](int fd, LoopbackServer& s) {
    if (s.ReadRequest(fd)) s.WaitForStop();
  });
  CurlOptions options;
  options.connect_timeout = milliseconds(2000);
  options.total_timeout = milliseconds(300);
  CurlTransport transport(options);
  TransportResult result = transport.Send(Post(server.Url()));
  server.Stop();
  EXPECT_EQ(result.failure, TransportFailure::kMaybeSent) << result.detail;
  EXPECT_NE(result.detail.find("curl error 28"), std::string::npos) << result.detail;
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.connections(), 1);
}

TEST(CurlTransportTest, HeaderWithLineBreakIsRefused) {
  CurlTransport transport(ShortTimeouts());
  HttpRequest request = Post("http://127.0.0.1:1/x");
  request.headers.emplace_back("Authorization", "Bearer a\r\nX-Injected: 1");
  EXPECT_EQ(transport.Send(request).failure, TransportFailure::kNotSent);
}

TEST(UrlPolicyTest, HttpsAnywhereHttpOnlyToLoopback) {
  for (const char* ok : {"https://a1.easemob.com/org/app/token", "https://192.0.2.1/x",
                         "http://127.0.0.1:8080/x", "http://127.1.2.3/x", "http://localhost:9/x",
                         "http://LOCALHOST/x", "http://[::1]:9/x", "HTTP://127.0.0.1/x"}) {
    EXPECT_TRUE(CheckUrlPolicy(ok)) << ok;
  }
  for (const char* refused :
       {"http://192.0.2.1/x", "http://a1.easemob.com/x", "http://localhost.evil.example/x",
        "http://127.0.0.1.evil.example/x", "http://[::2]/x", "http://10.0.0.1/x",
        "ftp://127.0.0.1/x", "file:///etc/passwd", "gopher://localhost/", "not a url", ""}) {
    EXPECT_FALSE(CheckUrlPolicy(refused)) << refused;
  }
}

}  // namespace
}  // namespace broadcastd
