#include "core/time_format.h"

#include <gtest/gtest.h>

#include "core/limits.h"
#include "core/target.h"

namespace broadcastd {
namespace {

TEST(ParseMaxDelay, DurationsAndNone) {
  using std::chrono::hours;
  using std::chrono::minutes;
  EXPECT_EQ(ParseMaxDelay("90m").value(), minutes(90));
  EXPECT_EQ(ParseMaxDelay("24h").value(), hours(24));
  EXPECT_EQ(ParseMaxDelay("2d").value(), hours(48));
  EXPECT_EQ(ParseMaxDelay("3600s").value(), hours(1));
  EXPECT_EQ(ParseMaxDelay("none").value(), std::nullopt);
  for (const char* bad : {"", "h", "24", "24 h", "1.5h", "-1h", "+1h", "0m", "59s", "367d",
                          "99999999999999999999h", "24H", "None"}) {
    auto parsed = ParseMaxDelay(bad);
    EXPECT_FALSE(parsed.has_value()) << bad;
    if (!parsed) {
      EXPECT_NE(parsed.error().message.find("90m, 24h or 2d"), std::string::npos);
    }
  }
  EXPECT_EQ(FormatMaxDelay(hours(24)), "24h");
  EXPECT_EQ(FormatMaxDelay(hours(48)), "48h");
  EXPECT_EQ(FormatMaxDelay(minutes(90)), "90m");
  EXPECT_EQ(FormatMaxDelay(std::chrono::seconds(61)), "61s");
  EXPECT_EQ(FormatMaxDelay(std::nullopt), "none");
}

TEST(ParseRfc3339, OffsetIsApplied) {
  auto t = ParseRfc3339("2027-03-01T09:00:00+08:00");
  ASSERT_TRUE(t.has_value()) << t.error().message;
  EXPECT_EQ(FormatRfc3339(*t), "2027-03-01T01:00:00Z");
  auto z = ParseRfc3339("2027-03-01T01:00:00Z");
  ASSERT_TRUE(z.has_value());
  EXPECT_EQ(*t, *z);
  auto neg = ParseRfc3339("2027-02-28T20:30:00-04:30");
  ASSERT_TRUE(neg.has_value());
  EXPECT_EQ(FormatRfc3339(*neg), "2027-03-01T01:00:00Z");
}

TEST(ParseRfc3339, FractionKeptToTheMillisecond) {
  auto t = ParseRfc3339("2027-03-01T01:00:00.25Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(FormatRfc3339(*t), "2027-03-01T01:00:00.250Z");
  EXPECT_EQ(ToMillis(*t) % 1000, 250);
}

TEST(ParseRfc3339, EpochValue) {
  auto t = ParseRfc3339("1970-01-01T00:00:01Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(ToMillis(*t), 1000);
}

TEST(ParseRfc3339, RejectsWithReason) {
  struct Case {
    const char* text;
    const char* why;
  } cases[] = {
      {"2027-03-01T09:00:00", "missing offset"},
      {"2027-03-01", "missing 'T'"},
      {"2027-02-30T09:00:00Z", "no such date"},
      {"2027-03-01T25:00:00Z", "no such time"},
      {"2027-03-01T09:00:00+0800", "offset must be"},
      {"2027-03-01T09:00:00Z trailing", "unexpected text"},
      {"tomorrow", "date must be"},
      {"", "date must be"},
  };
  for (const auto& c : cases) {
    auto t = ParseRfc3339(c.text);
    ASSERT_FALSE(t.has_value()) << c.text;
    EXPECT_NE(t.error().message.find(c.why), std::string::npos)
        << c.text << " -> " << t.error().message;
  }
}

TEST(Target, NamesRoundTrip) {
  for (BroadcastTarget t : kAllTargets) {
    EXPECT_EQ(ParseTarget(TargetName(t)), t);
  }
  EXPECT_FALSE(ParseTarget("everyone").has_value());
  EXPECT_EQ(TargetPath(BroadcastTarget::kOnlineUsers), "/messages/users/broadcast");
}

TEST(DefaultLimits, MatchTheVendorPage) {
  auto users = DefaultLimits(BroadcastTarget::kUsers);
  ASSERT_EQ(users.windows.size(), 1u);
  EXPECT_EQ(users.windows[0].length, std::chrono::minutes(30));
  EXPECT_EQ(users.daily, 3);
  auto rooms = DefaultLimits(BroadcastTarget::kChatrooms);
  ASSERT_EQ(rooms.windows.size(), 2u);
  EXPECT_EQ(rooms.windows[1].count, 10);
  EXPECT_EQ(rooms.daily, 100);
  EXPECT_EQ(DefaultLimits(BroadcastTarget::kOnlineUsers).daily, 50);
}

}  // namespace
}  // namespace broadcastd
