#include "config/app_host.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace broadcastd
