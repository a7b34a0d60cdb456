#include "document/plain_scalar.h"

#include <gtest/gtest.h>

namespace broadcastd {
namespace {

using nlohmann::json;

TEST(PlainScalarTest, NullForms) {
  for (const char* text : {"", "~", "null", "Null", "NULL"}) {
    EXPECT_TRUE(ResolvePlainScalar(text).is_null()) << text;
  }
}

TEST(PlainScalarTest, BoolFormsOfTheCoreSchemaOnly) {
  EXPECT_EQ(ResolvePlainScalar("true"), json(true));
  EXPECT_EQ(ResolvePlainScalar("True"), json(true));
  EXPECT_EQ(ResolvePlainScalar("FALSE"), json(false));
  // YAML 1.1 booleans are plain strings under 1.2.
  EXPECT_EQ(ResolvePlainScalar("yes"), json("yes"));
  EXPECT_EQ(ResolvePlainScalar("off"), json("off"));
  EXPECT_EQ(ResolvePlainScalar("tRUE"), json("tRUE"));
}

TEST(PlainScalarTest, DecimalIntegersThatFitInt64) {
  EXPECT_EQ(ResolvePlainScalar("0"), json(0));
  EXPECT_EQ(ResolvePlainScalar("-17"), json(-17));
  EXPECT_EQ(ResolvePlainScalar("+17"), json(17));
  json max = ResolvePlainScalar("9223372036854775807");
  ASSERT_TRUE(max.is_number_integer());
  EXPECT_EQ(max.get<int64_t>(), INT64_MAX);
  json min = ResolvePlainScalar("-9223372036854775808");
  ASSERT_TRUE(min.is_number_integer());
  EXPECT_EQ(min.get<int64_t>(), INT64_MIN);
}

TEST(PlainScalarTest, IntegersOutOfRangeKeepTheirDigits) {
  EXPECT_EQ(ResolvePlainScalar("9223372036854775808"), json("9223372036854775808"));
  EXPECT_EQ(ResolvePlainScalar("1365344904091349007123"), json("1365344904091349007123"));
}

TEST(PlainScalarTest, Floats) {
  EXPECT_EQ(ResolvePlainScalar("1.5"), json(1.5));
  EXPECT_EQ(ResolvePlainScalar("-.5"), json(-0.5));
  EXPECT_EQ(ResolvePlainScalar("2."), json(2.0));
  EXPECT_EQ(ResolvePlainScalar("1e3"), json(1000.0));
  EXPECT_EQ(ResolvePlainScalar("39.966"), json(39.966));
  EXPECT_TRUE(ResolvePlainScalar("39.966").is_number_float());
}

TEST(PlainScalarTest, EverythingElseIsAString) {
  for (const char* text : {"0x1F", "0o17", ".inf", "-.inf", ".nan", "1e999", "1.2.3", "12:30", "e5",
                           ".", "-", "+", "1e", "abc", "2027-03-01"}) {
    json value = ResolvePlainScalar(text);
    ASSERT_TRUE(value.is_string()) << text << " became " << value.dump();
    EXPECT_EQ(value.get<std::string>(), text);
  }
}

}  // namespace
}  // namespace broadcastd
