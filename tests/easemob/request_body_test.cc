#include "easemob/request_body.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace broadcastd {
namespace {

using nlohmann::json;

json ReadGolden(const std::string& name) {
  std::ifstream in(std::string(BROADCASTD_TEST_DATA) + "/easemob/" + name + ".json");
  EXPECT_TRUE(in) << name;
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

struct GoldenCase {
  BroadcastTarget target;
  std::string type;
};

class GoldenBodyTest : public testing::TestWithParam<GoldenCase> {};

// The campaign fields are the example's "from", "msg", "ext" and (chatrooms)
// "chatroom_msg_level"; what BuildRequestBody adds or leaves out per endpoint
// (target_type, the level) must come out exactly as the vendor's example.
TEST_P(GoldenBodyTest, MatchesTheVendorExample) {
  const GoldenCase& c = GetParam();
  const json golden = ReadGolden(std::string(TargetName(c.target)) + "_" + c.type);
  ASSERT_EQ(golden["msg"]["type"], c.type);

  Broadcast broadcast;
  broadcast.target = c.target;
  broadcast.from = golden["from"].get<std::string>();
  broadcast.message = golden["msg"];
  broadcast.ext = golden["ext"];
  // Every campaign may carry a level; only the chatrooms body may send it.
  broadcast.chatroom_msg_level = "low";

  const json built = json::parse(BuildRequestBody(broadcast));
  EXPECT_EQ(built, golden) << "built:  " << built.dump() << "\ngolden: " << golden.dump();
}

std::vector<GoldenCase> AllGoldenCases() {
  std::vector<GoldenCase> cases;
  for (BroadcastTarget target : kAllTargets) {
    for (const char* type : {"txt", "img", "audio", "video", "file", "loc", "cmd", "custom"}) {
      cases.push_back({target, type});
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(AllEndpointsAllTypes, GoldenBodyTest, testing::ValuesIn(AllGoldenCases()),
                         [](const testing::TestParamInfo<GoldenCase>& param_info) {
                           return std::string(TargetName(param_info.param.target)) + "_" +
                                  param_info.param.type;
                         });

TEST(RequestBodyTest, GoldenFilesAreTheCorrectedSeedExamples) {
  for (BroadcastTarget target : kAllTargets) {
    const json custom = ReadGolden(std::string(TargetName(target)) + "_custom");
    EXPECT_FALSE(custom.contains("appkey"));
    EXPECT_EQ(custom["msg"], (json{{"type", "custom"}, {"customEvent", "custom_event"}}));
  }
}

TEST(RequestBodyTest, OptionalFieldsAreLeftOutWhenNotGiven) {
  Broadcast broadcast;
  broadcast.target = BroadcastTarget::kChatrooms;
  broadcast.message = {{"type", "txt"}, {"msg", "hi"}};
  const json built = json::parse(BuildRequestBody(broadcast));
  EXPECT_EQ(built, (json{{"msg", {{"type", "txt"}, {"msg", "hi"}}}}));
}

TEST(RequestBodyTest, AllUsersAlwaysCarriesTargetTypeUsers) {
  Broadcast broadcast;
  broadcast.target = BroadcastTarget::kUsers;
  broadcast.message = {{"type", "cmd"}, {"action", "refresh"}};
  const json built = json::parse(BuildRequestBody(broadcast));
  EXPECT_EQ(built,
            (json{{"target_type", "users"}, {"msg", {{"type", "cmd"}, {"action", "refresh"}}}}));
}

TEST(RequestBodyTest, LevelOnlyOnChatrooms) {
  Broadcast broadcast;
  broadcast.message = {{"type", "txt"}, {"msg", "hi"}};
  broadcast.chatroom_msg_level = "high";
  for (BroadcastTarget target : kAllTargets) {
    broadcast.target = target;
    const json built = json::parse(BuildRequestBody(broadcast));
    EXPECT_EQ(built.contains("chatroom_msg_level"), target == BroadcastTarget::kChatrooms)
        << TargetName(target);
    EXPECT_EQ(built.contains("target_type"), target == BroadcastTarget::kUsers)
        << TargetName(target);
  }
}

TEST(RequestBodyTest, KeepsBigIntegersAndUnicodeExactly) {
  Broadcast broadcast;
  broadcast.target = BroadcastTarget::kOnlineUsers;
  broadcast.from = "运营";
  broadcast.message = json::parse(R"({"type":"txt","msg":"春季促销 🎉"})");
  broadcast.ext = json::parse(R"({"order":18446744073709551615,"neg":-9223372036854775808})");
  const std::string text = BuildRequestBody(broadcast);
  EXPECT_NE(text.find("18446744073709551615"), std::string::npos) << text;
  EXPECT_NE(text.find("-9223372036854775808"), std::string::npos) << text;
  EXPECT_NE(text.find("春季促销 🎉"), std::string::npos) << text;
  EXPECT_NE(text.find("\"from\":\"运营\""), std::string::npos) << text;
}

}  // namespace
}  // namespace broadcastd
