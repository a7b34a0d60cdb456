#include "campaign/loader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "campaign_test_util.h"
#include "core/time_format.h"

namespace broadcastd {
namespace {

using nlohmann::json;

TimePoint At(const char* rfc3339) { return *ParseRfc3339(rfc3339); }

TEST(CampaignLoaderTest, MinimalCampaignGetsItsDefaults) {
  Campaign c = Valid(
      "id: spring\n"
      "broadcasts:\n"
      "  - name: first\n"
      "    target: online_users\n"
      "    message: {type: txt, msg: hi}\n"
      "  - name: \"0\"\n"
      "    target: users\n"
      "    message: {type: cmd, action: refresh}\n",
      "/etc/broadcastd/campaigns/spring-sale.yaml");
  EXPECT_EQ(c.id, "spring");  // the file name plays no part
  EXPECT_EQ(c.app, "");
  EXPECT_EQ(c.priority, 0);
  ASSERT_EQ(c.broadcasts.size(), 2u);
  EXPECT_EQ(c.broadcasts[0].name, "first");
  EXPECT_EQ(c.broadcasts[1].name, "0");
  EXPECT_EQ(c.broadcasts[0].target, BroadcastTarget::kOnlineUsers);
  EXPECT_EQ(c.broadcasts[1].target, BroadcastTarget::kUsers);
  EXPECT_FALSE(c.broadcasts[0].send_at.has_value());
  EXPECT_FALSE(c.broadcasts[0].expires_at.has_value());
  EXPECT_FALSE(c.broadcasts[0].repeat.has_value());
  EXPECT_FALSE(c.broadcasts[0].from.has_value());
  EXPECT_FALSE(c.broadcasts[0].chatroom_msg_level.has_value());
  EXPECT_FALSE(c.broadcasts[0].ext.has_value());
  EXPECT_EQ(c.broadcasts[0].message, json::parse(R"({"type":"txt","msg":"hi"})"));
}

TEST(CampaignLoaderTest, EveryFieldIsRead) {
  Campaign c = Valid(
      "id: spring-sale-2027\n"
      "app: main\n"
      "priority: -5\n"
      "broadcasts:\n"
      "  - name: kickoff\n"
      "    target: users\n"
      "    send_at: \"2027-03-01T09:00:00+08:00\"\n"
      "    expires_at: \"2027-03-01T12:00:00.250+08:00\"\n"
      "    from: admin\n"
      "    message: {type: txt, msg: \"Spring sale starts now\"}\n"
      "    ext: {promo: spring, level: 2, nested: {a: [1, 2]}}\n"
      "  - name: nightly\n"
      "    target: chatrooms\n"
      "    chatroom_msg_level: high\n"
      "    send_at: 2027-03-01T00:00:00Z\n"
      "    repeat: {cron: \"0 20 * * *\", timezone: Asia/Shanghai, until: "
      "\"2027-03-07T23:59:59+08:00\"}\n"
      "    message: {type: custom, customEvent: nightly_promo, customExts: {code: SPRING}}\n",
      "other-name.yaml");
  EXPECT_EQ(c.id, "spring-sale-2027");
  EXPECT_EQ(c.app, "main");
  EXPECT_EQ(c.priority, -5);
  ASSERT_EQ(c.broadcasts.size(), 2u);
  const Broadcast& a = c.broadcasts[0];
  EXPECT_EQ(a.name, "kickoff");
  EXPECT_EQ(a.send_at, At("2027-03-01T01:00:00Z"));
  EXPECT_EQ(a.expires_at, At("2027-03-01T04:00:00.250Z"));
  EXPECT_EQ(a.from, "admin");
  EXPECT_EQ(a.ext, json::parse(R"({"promo":"spring","level":2,"nested":{"a":[1,2]}})"));
  const Broadcast& b = c.broadcasts[1];
  EXPECT_EQ(b.target, BroadcastTarget::kChatrooms);
  EXPECT_EQ(b.chatroom_msg_level, "high");
  ASSERT_TRUE(b.repeat.has_value());
  EXPECT_EQ(b.repeat->cron, "0 20 * * *");
  EXPECT_EQ(b.repeat->timezone, "Asia/Shanghai");
  EXPECT_EQ(b.repeat->until, At("2027-03-07T15:59:59Z"));
  EXPECT_EQ(b.message["customExts"], json::parse(R"({"code":"SPRING"})"));
}

TEST(CampaignLoaderTest, PriorityKeepsTheFullInt64Range) {
  Campaign c = Valid(
      "id: c\n"
      "priority: 9223372036854775807\n"
      "broadcasts: [{name: b, target: users, message: {type: txt, msg: x}}]\n");
  EXPECT_EQ(c.priority, INT64_MAX);
}

// The id is the campaign's identity: required, never taken from the file name (a
// rename must not make it another campaign).
TEST(CampaignLoaderTest, IdIsRequiredAndNotTakenFromTheFileName) {
  const char* text = "broadcasts: [{name: b, target: users, message: {type: txt, msg: x}}]\n";
  std::vector<Diagnostic> errors = Errors(text, "/tmp/spring-sale.yaml");
  ASSERT_EQ(errors.size(), 1u) << Describe(errors);
  EXPECT_EQ(errors[0].rule, "schema.required");
  EXPECT_EQ(errors[0].file, "/tmp/spring-sale.yaml");
  EXPECT_EQ(errors[0].line, 1);
  EXPECT_EQ(errors[0].column, 1);
  EXPECT_EQ(errors[0].message, "id is required");
  // With an id, the file name does not matter.
  EXPECT_EQ(Valid(std::string("id: ok\n") + text, "/tmp/spring sale!.yaml").id, "ok");
  // 64 characters is the longest id.
  EXPECT_EQ(Valid("id: " + std::string(64, 'a') + "\n" + text).id, std::string(64, 'a'));
  EXPECT_EQ(Errors("id: " + std::string(65, 'a') + "\n" + text).at(0).rule, "schema.pattern");
}

TEST(CampaignLoaderTest, ExplicitIdFollowsThePattern) {
  Diagnostic d = OnlyError(
      "id: \"spring sale\"\n"
      "broadcasts: [{name: b, target: users, message: {type: txt, msg: x}}]\n");
  EXPECT_EQ(d.rule, "schema.pattern");
  EXPECT_EQ(d.line, 1);
  EXPECT_EQ(d.column, 5);
  EXPECT_NE(d.message.find("id 'spring sale' does not match"), std::string::npos) << d.message;
}

TEST(CampaignLoaderTest, DocumentErrorsComeThrough) {
  Diagnostic d = OnlyError("broadcasts: [\n");
  EXPECT_EQ(d.rule, "yaml.syntax");
  EXPECT_EQ(d.file, "c.yaml");
  DocumentLimits tiny;
  tiny.max_bytes = 10;
  CampaignResult r = ParseCampaign("broadcasts: []\n", "c.yaml", tiny);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().at(0).rule, "limit.size");
}

TEST(CampaignLoaderTest, LoadsFilesAndNamesThemInDiagnostics) {
  const std::string dir = BROADCASTD_TEST_DATA "/campaigns";
  CampaignResult good = LoadCampaignFile(dir + "/welcome.yaml");
  ASSERT_TRUE(good.has_value()) << Describe(good.error());
  EXPECT_EQ(good->id, "welcome");
  EXPECT_EQ(good->broadcasts.size(), 2u);

  CampaignResult bad = LoadCampaignFile(dir + "/several-errors.yaml");
  ASSERT_FALSE(bad.has_value());
  ASSERT_EQ(bad.error().size(), 4u) << Describe(bad.error());
  for (const Diagnostic& d : bad.error()) EXPECT_EQ(d.file, dir + "/several-errors.yaml");
  // Sorted by position, each with its own rule.
  EXPECT_EQ(bad.error()[0].ToString(),
            dir +
                "/several-errors.yaml:2:11: priority must be an integer, not a string "
                "[schema.type]");
  EXPECT_EQ(bad.error()[1].rule, "schema.enum");
  EXPECT_EQ(bad.error()[1].line, 5);
  EXPECT_EQ(bad.error()[2].rule, "schema.unknown_key");
  EXPECT_EQ(bad.error()[2].line, 6);
  EXPECT_EQ(bad.error()[3].rule, "schema.required");
  EXPECT_EQ(bad.error()[3].line, 11);
  EXPECT_EQ(bad.error()[3].message, "broadcasts[1].message.url is required for type img");

  CampaignResult missing = LoadCampaignFile(dir + "/no-such-file.yaml");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().at(0).rule, "file.read");
}

}  // namespace
}  // namespace broadcastd
