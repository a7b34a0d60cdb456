#include "campaign/schema_check.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace broadcastd {
namespace {

TEST(CampaignSchemaTest, EmbeddedSchemaIsTheFileInTheSourceTree) {
  std::ifstream in(BROADCASTD_SOURCE_DIR "/schemas/campaign.schema.json", std::ios::binary);
  ASSERT_TRUE(in) << "schemas/campaign.schema.json not found";
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(CampaignSchemaText(), text.str());
}

TEST(CampaignSchemaTest, SchemaIsDraft7AndClosed) {
  auto schema = nlohmann::json::parse(CampaignSchemaText());
  EXPECT_EQ(schema["$schema"], "http://json-schema.org/draft-07/schema#");
  EXPECT_EQ(schema["additionalProperties"], false);
  EXPECT_EQ(schema["definitions"]["broadcast"]["additionalProperties"], false);
  EXPECT_EQ(schema["definitions"]["repeat"]["additionalProperties"], false);
  for (const char* type : {"txt", "img", "audio", "video", "file", "loc", "cmd", "custom"}) {
    EXPECT_EQ(schema["definitions"][std::string("message_") + type]["additionalProperties"], false)
        << type;
  }
}

TEST(CampaignSchemaTest, ConformingDocumentHasNoDiagnostics) {
  auto doc = Document::Parse(
      "id: c\nbroadcasts: [{name: b, target: users, message: {type: txt, msg: hi}}]\n", "c.yaml");
  ASSERT_TRUE(doc.has_value());
  std::set<std::string> failed;
  EXPECT_TRUE(CheckCampaignSchema(*doc, &failed).empty());
  EXPECT_TRUE(failed.empty());
}

TEST(CampaignSchemaTest, FailedPointersAreCollected) {
  auto doc = Document::Parse(
      "id: c\n"
      "priority: x\n"
      "broadcasts: [{name: b, target: users, bogus: 1, message: {type: txt, msg: hi}}]\n",
      "c.yaml");
  ASSERT_TRUE(doc.has_value());
  std::set<std::string> failed;
  EXPECT_EQ(CheckCampaignSchema(*doc, &failed).size(), 2u);
  EXPECT_EQ(failed, (std::set<std::string>{"/priority", "/broadcasts/0/bogus"}));
}

TEST(CampaignSchemaTest, EveryUnknownKeyOfAnObjectIsReported) {
  std::string text =
      "id: c\nbroadcasts: [{name: b, target: users, message: {type: txt, msg: hi}}]\n";
  for (int i = 0; i < 2000; ++i) text += "unknown" + std::to_string(i) + ": 1\n";
  auto doc = Document::Parse(text, "c.yaml");
  ASSERT_TRUE(doc.has_value());
  std::set<std::string> failed;
  auto diagnostics = CheckCampaignSchema(*doc, &failed);
  ASSERT_EQ(diagnostics.size(), 2000u);
  for (const auto& d : diagnostics) EXPECT_EQ(d.rule, "schema.unknown_key");
  EXPECT_TRUE(failed.contains("/unknown1999"));
  EXPECT_TRUE(failed.contains("/unknown0"));
}

}  // namespace
}  // namespace broadcastd
