#include "config/app_host.h"

#include <gtest/gtest.h>

#include "config/config.h"

namespace broadcastd {
namespace {

TEST(AppHostTest, HttpsToAnyHost) {
  EXPECT_EQ(CheckAppHost("https://a1.easemob.com").value_or("?"), "https://a1.easemob.com");
  EXPECT_EQ(CheckAppHost("https://a1.easemob.com/").value_or("?"), "https://a1.easemob.com");
  EXPECT_EQ(CheckAppHost("https://10.0.0.1:8443").value_or("?"), "https://10.0.0.1:8443");
  EXPECT_EQ(CheckAppHost("https://[2001:db8::1]").value_or("?"), "https://[2001:db8::1]");
}

TEST(AppHostTest, HttpOnlyToLoopback) {
  for (const char* ok : {"http://127.0.0.1:8080", "http://127.1.2.3", "http://localhost:9000",
                         "http://LOCALHOST", "http://[::1]:8080", "http://[::1]"}) {
    EXPECT_TRUE(CheckAppHost(ok).has_value()) << ok;
  }
  for (const char* bad :
       {"http://a1.easemob.com", "http://10.0.0.1", "http://128.0.0.1", "http://[::2]",
        "http://localhost.evil.com", "http://127.0.0.1.nip.io", "http://0.0.0.0"}) {
    auto r = CheckAppHost(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_NE(r.error().message.find("http:// is allowed only to loopback addresses"),
              std::string::npos)
        << bad << ": " << r.error().message;
  }
}

TEST(AppHostTest, OnlySchemeHostAndPort) {
  for (const char* bad :
       {"a1.easemob.com", "ftp://a1.easemob.com", "https://", "https://:443",
        "https://a1.easemob.com/org/app", "https://user@a1.easemob.com",
        "https://a1.easemob.com?x=1", "https://a1.easemob.com:0", "https://a1.easemob.com:70000",
        "https://a1.easemob.com:port", "http://::1", "https://[::1", "https://[::1]x"}) {
    EXPECT_FALSE(CheckAppHost(bad).has_value()) << bad;
  }
}

TEST(AppHostTest, Ipv6NeedsBrackets) {
  for (const char* ok :
       {"https://[2001:db8::1]:8443", "http://[::1]:8080/", "http://[0:0:0:0:0:0:0:1]"}) {
    EXPECT_TRUE(CheckAppHost(ok).has_value()) << ok;
  }
  for (const char* bad : {"https://2001:db8::1", "https://[2001:db8::1", "https://[]",
                          "http://[::2]:8080", "https://[::1]]"}) {
    EXPECT_FALSE(CheckAppHost(bad).has_value()) << bad;
  }
}

TEST(AppHostTest, NoUserInfo) {
  for (const char* bad : {"https://user:secret@a1.easemob.com", "https://:@a1.easemob.com",
                          "https://@a1.easemob.com", "http://user@127.0.0.1:8080"}) {
    auto r = CheckAppHost(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_NE(r.error().message.find("without user"), std::string::npos) << r.error().message;
  }
}

TEST(AppHostTest, PortFrom1To65535) {
  EXPECT_TRUE(CheckAppHost("https://a1.easemob.com:1").has_value());
  EXPECT_TRUE(CheckAppHost("https://a1.easemob.com:65535").has_value());
  for (const char* bad :
       {"https://a1.easemob.com:65536", "https://a1.easemob.com:99999", "https://a1.easemob.com:-1",
        "http://[::1]:70000", "http://127.0.0.1:0"}) {
    EXPECT_FALSE(CheckAppHost(bad).has_value()) << bad;
  }
}

// http_listen (config.h): the same parser, a port required (0: any free port).
TEST(ListenAddressTest, HostAndPort) {
  auto v6 = ParseListenAddress("[::1]:9464");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 9464);
  EXPECT_TRUE(v6->loopback);
  auto any = ParseListenAddress("0.0.0.0:0");
  ASSERT_TRUE(any.has_value());
  EXPECT_EQ(any->port, 0);
  EXPECT_FALSE(any->loopback);
  for (const char* bad : {"9464", "127.0.0.1:", "127.0.0.1:65536", "::1:80", "[::1:80",
                          "user@127.0.0.1:80", "127.0.0.1:80/metrics", "example.com:80"}) {
    EXPECT_FALSE(ParseListenAddress(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace broadcastd
