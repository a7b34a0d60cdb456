// The campaign rules JSON Schema cannot say, and the structure around the
// message: each with its rule name and exact position.

#include <gtest/gtest.h>

#include "campaign_test_util.h"

namespace broadcastd {
namespace {

// One broadcast whose keys start on line 2 at column 5 ("  - " then the key); its
// name and the campaign's id come last, so they move no position.
std::string Broadcast(const std::string& lines) {
  return "broadcasts:\n  - " + lines + "    message: {type: txt, msg: hi}\n    name: b\nid: c\n";
}

TEST(CampaignRulesTest, TimesMustBeRealRfc3339Instants) {
  Diagnostic d =
      OnlyError(Broadcast("target: users\n"
                          "    send_at: \"2027-02-30T09:00:00+08:00\"\n"));
  EXPECT_EQ(d.rule, "rule.time");
  EXPECT_EQ(d.line, 3);
  EXPECT_EQ(d.column, 14);
  EXPECT_TRUE(d.message.starts_with("broadcasts[0].send_at: ")) << d.message;
}

TEST(CampaignRulesTest, TimesWithoutOffsetBreakTheSchemaPatternOnce) {
  Diagnostic d =
      OnlyError(Broadcast("target: users\n"
                          "    send_at: \"2027-03-01T09:00:00\"\n"));
  EXPECT_EQ(d.rule, "schema.pattern");
  EXPECT_EQ(d.line, 3);
  EXPECT_NE(d.message.find("RFC 3339 with an offset"), std::string::npos) << d.message;
  // A plain (unquoted) time is a string as well and is accepted.
  Campaign c =
      Valid(Broadcast("target: users\n"
                      "    send_at: 2027-03-01T09:00:00+08:00\n"));
  EXPECT_TRUE(c.broadcasts[0].send_at.has_value());
}

TEST(CampaignRulesTest, ExpiresAtMustBeAfterSendAt) {
  Diagnostic d =
      OnlyError(Broadcast("target: users\n"
                          "    send_at: \"2027-03-01T09:00:00+08:00\"\n"
                          "    expires_at: \"2027-03-01T01:00:00Z\"\n"));
  EXPECT_EQ(d.rule, "rule.expires_after_send_at");
  EXPECT_EQ(d.line, 4);
  EXPECT_EQ(d.column, 17);
  EXPECT_EQ(d.message,
            "broadcasts[0].expires_at (2027-03-01T01:00:00Z) must be after send_at "
            "(2027-03-01T01:00:00Z)");
  Valid(
      Broadcast("target: users\n"
                "    send_at: \"2027-03-01T09:00:00+08:00\"\n"
                "    expires_at: \"2027-03-01T01:00:00.001Z\"\n"));
  // Without send_at, any expiry is fine.
  Valid(
      Broadcast("target: users\n"
                "    expires_at: \"2020-01-01T00:00:00Z\"\n"));
}

TEST(CampaignRulesTest, ChatroomMsgLevelOnlyForChatrooms) {
  for (const char* target : {"users", "online_users"}) {
    Diagnostic d = OnlyError(Broadcast(std::string("target: ") + target +
                                       "\n"
                                       "    chatroom_msg_level: high\n"));
    EXPECT_EQ(d.rule, "rule.chatroom_msg_level_target");
    EXPECT_EQ(d.line, 3);
    EXPECT_EQ(d.column, 5);
    EXPECT_EQ(d.message, std::string("broadcasts[0].chatroom_msg_level is only for target "
                                     "chatrooms (this is ") +
                             target + ")");
  }
  for (const char* level : {"high", "normal", "low"}) {
    Valid(Broadcast(std::string("target: chatrooms\n    chatroom_msg_level: ") + level + "\n"));
  }
  Diagnostic bad_level =
      OnlyError(Broadcast("target: chatrooms\n    chatroom_msg_level: urgent\n"));
  EXPECT_EQ(bad_level.rule, "schema.enum");
  EXPECT_EQ(bad_level.message,
            "broadcasts[0].chatroom_msg_level must be one of: high, normal, low (not urgent)");
}

TEST(CampaignRulesTest, ExpiresAtIsNotAllowedWithRepeat) {
  Diagnostic d =
      OnlyError(Broadcast("target: users\n"
                          "    repeat: {cron: \"0 20 * * *\", timezone: Asia/Shanghai}\n"
                          "    expires_at: \"2027-03-01T01:00:00Z\"\n"));
  EXPECT_EQ(d.rule, "rule.expires_with_repeat");
  EXPECT_EQ(d.line, 4);
  EXPECT_EQ(d.column, 5);
}

TEST(CampaignRulesTest, MaxDelayIsNotAllowedWithRepeat) {
  Diagnostic d =
      OnlyError(Broadcast("target: users\n"
                          "    repeat: {cron: \"0 20 * * *\", timezone: Asia/Shanghai}\n"
                          "    max_delay: 2h\n"));
  EXPECT_EQ(d.rule, "rule.max_delay_with_repeat");
  EXPECT_EQ(d.line, 4);
  EXPECT_EQ(d.column, 5);
}

TEST(CampaignRulesTest, MaxDelayIsADurationWithinBoundsOrNone) {
  Campaign c = Valid(Broadcast("target: users\n    max_delay: 90m\n"));
  ASSERT_TRUE(c.broadcasts[0].max_delay.has_value());
  EXPECT_EQ(c.broadcasts[0].max_delay->limit, std::chrono::minutes(90));
  Campaign none = Valid(Broadcast("target: users\n    max_delay: none\n"));
  ASSERT_TRUE(none.broadcasts[0].max_delay.has_value());
  EXPECT_FALSE(none.broadcasts[0].max_delay->limit.has_value());
  EXPECT_FALSE(Valid(Broadcast("target: users\n")).broadcasts[0].max_delay.has_value());

  Diagnostic range = OnlyError(Broadcast("target: users\n    max_delay: 400d\n"));
  EXPECT_EQ(range.rule, "rule.max_delay");
  EXPECT_EQ(range.line, 3);
  EXPECT_EQ(range.column, 16);
  EXPECT_TRUE(range.message.starts_with("broadcasts[0].max_delay: \"400d\" is out of range"))
      << range.message;

  Diagnostic form = OnlyError(Broadcast("target: users\n    max_delay: 1 day\n"));
  EXPECT_EQ(form.rule, "schema.pattern");
  EXPECT_EQ(form.line, 3);
  EXPECT_NE(form.message.find("90m, 24h or 2d"), std::string::npos) << form.message;
}

TEST(CampaignRulesTest, UntilMustBeAfterSendAt) {
  Diagnostic d =
      OnlyError(Broadcast("target: users\n"
                          "    send_at: \"2027-03-01T00:00:00Z\"\n"
                          "    repeat:\n"
                          "      cron: \"0 20 * * *\"\n"
                          "      timezone: Asia/Shanghai\n"
                          "      until: \"2027-02-28T00:00:00Z\"\n"));
  EXPECT_EQ(d.rule, "rule.until_after_send_at");
  EXPECT_EQ(d.line, 7);
  EXPECT_EQ(d.column, 14);
  EXPECT_EQ(d.message,
            "broadcasts[0].repeat.until (2027-02-28T00:00:00Z) must be after send_at "
            "(2027-03-01T00:00:00Z)");
  // until without send_at is fine.
  Valid(Broadcast(
      "target: users\n"
      "    repeat: {cron: \"0 20 * * *\", timezone: UTC, until: \"2020-01-01T00:00:00Z\"}\n"));
}

TEST(CampaignRulesTest, RepeatNeedsCronAndTimezoneAndNothingElse) {
  Diagnostic missing = OnlyError(Broadcast("target: users\n    repeat: {cron: \"0 20 * * *\"}\n"));
  EXPECT_EQ(missing.rule, "schema.required");
  EXPECT_EQ(missing.message, "broadcasts[0].repeat.timezone is required");
  Diagnostic extra = OnlyError(
      Broadcast("target: users\n    repeat: {cron: \"0 20 * * *\", timezone: UTC, count: 3}\n"));
  EXPECT_EQ(extra.rule, "schema.unknown_key");
  EXPECT_EQ(extra.line, 3);
  EXPECT_EQ(extra.column, 49);
  EXPECT_EQ(extra.message,
            "broadcasts[0].repeat.count is not a known key (allowed: cron, timezone, until)");
}

TEST(CampaignRulesTest, NamesAreUnique) {
  std::vector<Diagnostic> errors = Errors(
      "broadcasts:\n"
      "  - {name: a, target: users, message: {type: txt, msg: x}}\n"
      "  - {name: \"2\", target: users, message: {type: txt, msg: x}}\n"
      "  - {name: b, target: users, message: {type: txt, msg: x}}\n"
      "  - {name: a, target: users, message: {type: txt, msg: x}}\n"
      "  - {target: users, name: \"2\", message: {type: txt, msg: x}}\n"
      "id: c\n");
  ASSERT_EQ(errors.size(), 2u) << Describe(errors);
  EXPECT_EQ(errors[0].rule, "rule.unique_name");
  EXPECT_EQ(errors[0].line, 5);
  EXPECT_EQ(errors[0].column, 12);
  EXPECT_EQ(errors[0].message, "broadcasts[3] has the name 'a' already used by broadcasts[0]");
  EXPECT_EQ(errors[1].line, 6);
  EXPECT_EQ(errors[1].column, 27);
  EXPECT_EQ(errors[1].message, "broadcasts[4] has the name '2' already used by broadcasts[1]");
}

// A name is a broadcast's identity: required, and of the same form as a campaign id.
TEST(CampaignRulesTest, EveryBroadcastHasAValidName) {
  Diagnostic missing = OnlyError(
      "id: c\n"
      "broadcasts:\n"
      "  - {target: users, message: {type: txt, msg: x}}\n");
  EXPECT_EQ(missing.rule, "schema.required");
  EXPECT_EQ(missing.line, 3);
  EXPECT_EQ(missing.message, "broadcasts[0].name is required");
  Diagnostic bad = OnlyError(
      "id: c\n"
      "broadcasts:\n"
      "  - {name: \"kick off\", target: users, message: {type: txt, msg: x}}\n");
  EXPECT_EQ(bad.rule, "schema.pattern");
  EXPECT_EQ(bad.line, 3);
  EXPECT_EQ(bad.column, 12);
  Diagnostic too_long = OnlyError("id: c\nbroadcasts:\n  - {name: " + std::string(65, 'n') +
                                  ", target: users, message: {type: txt, msg: x}}\n");
  EXPECT_EQ(too_long.rule, "schema.pattern");
  Campaign longest = Valid("id: c\nbroadcasts:\n  - {name: " + std::string(64, 'n') +
                           ", target: users, message: {type: txt, msg: x}}\n");
  EXPECT_EQ(longest.broadcasts.at(0).name, std::string(64, 'n'));
}

TEST(CampaignRulesTest, CronExpressionMustBeValid) {
  Diagnostic d =
      OnlyError(Broadcast("target: users\n"
                          "    repeat: {cron: \"0 25 * * *\", timezone: Asia/Shanghai}\n"));
  EXPECT_EQ(d.rule, "rule.cron");
  EXPECT_EQ(d.line, 3);
  EXPECT_EQ(d.column, 20);
  EXPECT_TRUE(d.message.starts_with("broadcasts[0].repeat.cron: ")) << d.message;
  EXPECT_NE(d.message.find("25"), std::string::npos) << d.message;
}

TEST(CampaignRulesTest, CronThatNeverFiresIsRefused) {
  Diagnostic d =
      OnlyError(Broadcast("target: users\n"
                          "    repeat: {cron: \"0 0 31 4 *\", timezone: UTC}\n"));
  EXPECT_EQ(d.rule, "rule.cron_never");
  EXPECT_EQ(d.line, 3);
  EXPECT_EQ(d.column, 20);
  EXPECT_EQ(d.message, "broadcasts[0].repeat.cron: \"0 0 31 4 *\" matches no day that exists");
  // Rare is not never: 29 February comes round.
  Valid(
      Broadcast("target: users\n"
                "    repeat: {cron: \"0 0 29 2 *\", timezone: UTC}\n"));
}

TEST(CampaignRulesTest, TimezoneMustBeKnown) {
  Diagnostic d =
      OnlyError(Broadcast("target: users\n"
                          "    repeat: {cron: \"0 20 * * *\", timezone: Mars/Olympus_Mons}\n"));
  EXPECT_EQ(d.rule, "rule.timezone");
  EXPECT_EQ(d.line, 3);
  EXPECT_EQ(d.column, 44);
  EXPECT_NE(d.message.find("Mars/Olympus_Mons"), std::string::npos) << d.message;
}

TEST(CampaignStructureTest, UnknownKeysAreAllReportedAtTheirKeys) {
  std::vector<Diagnostic> errors = Errors(
      "id: x\n"
      "colour: red\n"
      "size: 3\n"
      "broadcasts:\n"
      "  - target: users\n"
      "    sendat: \"2027-03-01T00:00:00Z\"\n"
      "    message: {type: txt, msg: hi}\n"
      "    retries: 3\n"
      "    zz: 1\n"
      "    name: b\n");
  ASSERT_EQ(errors.size(), 5u) << Describe(errors);
  EXPECT_EQ(errors[0].ToString(),
            "c.yaml:2:1: colour is not a known key (allowed: app, broadcasts, id, priority) "
            "[schema.unknown_key]");
  EXPECT_EQ(errors[1].line, 3);
  EXPECT_EQ(errors[2].line, 6);
  EXPECT_EQ(errors[2].column, 5);
  EXPECT_TRUE(
      errors[2].message.starts_with("broadcasts[0].sendat is not a known key (allowed: "
                                    "chatroom_msg_level, expires_at, ext, from, max_delay, "
                                    "message, name, repeat, send_at, target)"))
      << errors[2].message;
  EXPECT_EQ(errors[3].line, 8);
  EXPECT_EQ(errors[4].line, 9);
  for (const Diagnostic& d : errors) EXPECT_EQ(d.rule, "schema.unknown_key");
}

TEST(CampaignStructureTest, UnknownKeysWithQuotesAreReportedToo) {
  Diagnostic d = OnlyError(
      "\"it's\": 1\n"
      "broadcasts: [{name: b, target: users, message: {type: txt, msg: hi}}]\n"
      "id: c\n");
  EXPECT_EQ(d.rule, "schema.unknown_key");
  EXPECT_TRUE(d.message.starts_with("it's is not a known key")) << d.message;
}

TEST(CampaignStructureTest, BroadcastsAreRequiredAndNotEmpty) {
  Diagnostic missing = OnlyError("id: x\n");
  EXPECT_EQ(missing.rule, "schema.required");
  EXPECT_EQ(missing.message, "broadcasts is required");
  Diagnostic empty = OnlyError("broadcasts: []\nid: x\n");
  EXPECT_EQ(empty.rule, "schema.min_items");
  EXPECT_EQ(empty.message, "broadcasts needs at least 1 item(s)");
  EXPECT_EQ(empty.line, 1);
  EXPECT_EQ(empty.column, 13);
}

TEST(CampaignStructureTest, BroadcastFieldTypes) {
  std::vector<Diagnostic> errors = Errors(
      "app: \"\"\n"
      "broadcasts:\n"
      "  - name: \"\"\n"
      "    target: all\n"
      "    from: \"\"\n"
      "    ext: [a]\n"
      "    message: {type: txt, msg: hi}\n"
      "  - message: {type: txt, msg: hi}\n"
      "  - 42\n"
      "id: c\n");
  ASSERT_EQ(errors.size(), 8u) << Describe(errors);
  EXPECT_EQ(errors[0].ToString(), "c.yaml:1:6: app must not be empty [schema.min_length]");
  EXPECT_EQ(errors[1].ToString(),
            "c.yaml:3:11: broadcasts[0].name '' does not match ^[A-Za-z0-9._-]{1,64}$ (Letters, "
            "digits, '.', '_' and '-', at most 64; unique in the campaign) [schema.pattern]");
  EXPECT_EQ(errors[2].ToString(),
            "c.yaml:4:13: broadcasts[0].target must be one of: users, online_users, chatrooms "
            "(not all) [schema.enum]");
  EXPECT_EQ(errors[3].ToString(),
            "c.yaml:5:11: broadcasts[0].from must not be empty [schema.min_length]");
  EXPECT_EQ(errors[4].ToString(),
            "c.yaml:6:10: broadcasts[0].ext must be a mapping, not a list [schema.type]");
  EXPECT_EQ(errors[5].ToString(), "c.yaml:8:5: broadcasts[1].name is required [schema.required]");
  EXPECT_EQ(errors[6].ToString(), "c.yaml:8:5: broadcasts[1].target is required [schema.required]");
  EXPECT_EQ(errors[7].ToString(),
            "c.yaml:9:5: broadcasts[2] must be a mapping, not an integer [schema.type]");
}

TEST(CampaignStructureTest, SchemaAndRuleErrorsAreReportedTogether) {
  std::vector<Diagnostic> errors = Errors(
      "broadcasts:\n"
      "  - name: a\n"
      "    target: users\n"
      "    chatroom_msg_level: low\n"
      "    message: {type: txt}\n"
      "  - name: a\n"
      "    target: chatrooms\n"
      "    repeat: {cron: \"61 * * * *\", timezone: UTC}\n"
      "    message: {type: loc, lat: 1, lng: \"2\", addr: x}\n"
      "id: c\n");
  ASSERT_EQ(errors.size(), 5u) << Describe(errors);
  EXPECT_EQ(errors[0].rule, "rule.chatroom_msg_level_target");
  EXPECT_EQ(errors[1].rule, "schema.required");
  EXPECT_EQ(errors[2].rule, "rule.unique_name");
  EXPECT_EQ(errors[3].rule, "rule.cron");
  EXPECT_EQ(errors[4].rule, "schema.type");
  EXPECT_EQ(errors[4].line, 9);
  EXPECT_EQ(errors[4].column, 31);
}

}  // namespace
}  // namespace broadcastd
