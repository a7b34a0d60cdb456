// The sample campaigns shipped in campaigns/ must load, and together they must
// show every target and every message type.

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "campaign/loader.h"
#include "campaign_test_util.h"

namespace broadcastd {
namespace {

TEST(SampleCampaignsTest, AllLoadAndCoverEveryTargetAndType) {
  const std::filesystem::path dir = BROADCASTD_SOURCE_DIR "/campaigns";
  std::set<std::string> types;
  std::set<BroadcastTarget> targets;
  std::set<std::string> ids;
  bool repeat = false, priority = false, level = false, ext = false, from = false;
  bool future = false, past = false;
  const TimePoint far_ahead = FromMillis(1861920000000);  // 2029-01-01T00:00:00Z
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const auto ext_name = entry.path().extension();
    if (ext_name != ".yaml" && ext_name != ".yml") continue;
    ++files;
    CampaignResult result = LoadCampaignFile(entry.path());
    ASSERT_TRUE(result.has_value()) << Describe(result.error());
    EXPECT_TRUE(ids.insert(result->id).second) << "duplicate id " << result->id;
    priority |= result->priority != 0;
    for (const Broadcast& b : result->broadcasts) {
      types.insert(b.message["type"].get<std::string>());
      targets.insert(b.target);
      repeat |= b.repeat.has_value();
      level |= b.chatroom_msg_level.has_value();
      ext |= b.ext.has_value();
      from |= b.from.has_value();
      if (b.send_at) (*b.send_at >= far_ahead ? future : past) = true;
      if (b.message["type"] == "img") {
        EXPECT_TRUE(b.message.contains("size")) << entry.path();
      }
      if (b.message["type"] == "video") {
        EXPECT_EQ(b.message.size(), 8u) << entry.path();  // type and all seven fields
      }
      if (b.message["type"] == "custom") {
        EXPECT_TRUE(b.message.contains("customExts")) << entry.path();
      }
    }
  }
  EXPECT_GE(files, 3);
  EXPECT_EQ(types, (std::set<std::string>{"txt", "img", "audio", "video", "file", "loc", "cmd",
                                          "custom"}));
  EXPECT_EQ(targets.size(), 3u);
  EXPECT_TRUE(repeat);
  EXPECT_TRUE(priority);
  EXPECT_TRUE(level);
  EXPECT_TRUE(ext);
  EXPECT_TRUE(from);
  EXPECT_TRUE(future) << "one sample should be scheduled years ahead";
  EXPECT_TRUE(past) << "some samples should be due at once";
}

}  // namespace
}  // namespace broadcastd
