#include "core/log_value.h"

#include <gtest/gtest.h>

#include <string>

namespace broadcastd {
namespace {

TEST(LogValue, BareTokensStayAsTheyAre) {
  EXPECT_EQ(LogValue("spring-sale.yaml"), "spring-sale.yaml");
  EXPECT_EQ(LogValue("1365344904091349007"), "1365344904091349007");
}

TEST(LogValue, SpacesQuotesAndEqualsAreQuoted) {
  EXPECT_EQ(LogValue("a b"), "\"a b\"");
  EXPECT_EQ(LogValue("k=v"), "\"k=v\"");
  EXPECT_EQ(LogValue("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(LogValue("back\\slash"), "\"back\\\\slash\"");
  EXPECT_EQ(LogValue(""), "\"\"");
}

TEST(LogValue, ANewlineCannotStartAForgedLine) {
  const std::string forged = "x.yaml\ninfo broadcast.sent job=77";
  const std::string v = LogValue(forged);
  EXPECT_EQ(v.find('\n'), std::string::npos);
  EXPECT_EQ(v, "\"x.yaml\\ninfo broadcast.sent job=77\"");
  EXPECT_EQ(LogValue("a\rb\tc"), "\"a\\rb\\tc\"");
}

TEST(LogValue, ControlBytesAndInvalidUtf8AreHexEscaped) {
  EXPECT_EQ(LogValue(std::string("a\x1b[31mb", 7)), "\"a\\x1b[31mb\"");
  EXPECT_EQ(LogValue(std::string("a\0b", 3)), "\"a\\x00b\"");
  EXPECT_EQ(LogValue("bad\xff\xfe"), "\"bad\\xff\\xfe\"");
  // An overlong encoding of '/' and a lone surrogate are not valid UTF-8.
  EXPECT_EQ(LogValue("\xc0\xaf"), "\"\\xc0\\xaf\"");
  EXPECT_EQ(LogValue("\xed\xa0\x80"), "\"\\xed\\xa0\\x80\"");
  // U+0085 (NEL) and U+2028 end lines in some viewers.
  EXPECT_EQ(LogValue("a\xc2\x85"), "\"a\\xc2\\x85\"");
  EXPECT_EQ(LogValue("a\xe2\x80\xa8"), "\"a\\xe2\\x80\\xa8\"");
}

TEST(LogValue, ValidUtf8IsKept) {
  EXPECT_EQ(LogValue("春季促销"), "\"春季促销\"");
  EXPECT_EQ(EscapeControl("春季 ok"), "春季 ok");
}

TEST(EscapeControl, KeepsQuotesButNoControlCharacter) {
  EXPECT_EQ(EscapeControl("say \"hi\"\nnext"), "say \"hi\"\\nnext");
}

}  // namespace
}  // namespace broadcastd
