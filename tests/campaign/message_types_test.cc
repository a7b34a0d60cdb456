// Every message type of the broadcast API: a complete valid body, and each way
// of getting it wrong (missing required field, wrong type, unknown field).

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "campaign_test_util.h"

namespace broadcastd {
namespace {

using nlohmann::json;
using Fields = std::vector<std::pair<std::string, std::string>>;

// A one-broadcast campaign whose message has `type` on line 4 and each field
// on the following lines, all at column 7.
std::string WithMessage(const std::string& type, const Fields& fields) {
  std::string text =
      "broadcasts:\n"
      "  - target: users\n"
      "    message:\n"
      "      type: " +
      type + "\n";
  for (const auto& [key, value] : fields) text += "      " + key + ": " + value + "\n";
  return text + "    name: b\nid: c\n";  // last, so they move no position
}

Fields Without(Fields fields, const std::string& key) {
  std::erase_if(fields, [&](const auto& f) { return f.first == key; });
  return fields;
}

Fields With(Fields fields, const std::string& key, const std::string& value) {
  for (auto& f : fields) {
    if (f.first == key) {
      f.second = value;
      return fields;
    }
  }
  fields.emplace_back(key, value);
  return fields;
}

int LineOf(const Fields& fields, const std::string& key) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].first == key) return 5 + static_cast<int>(i);
  }
  return 0;
}

struct MessageCase {
  std::string type;
  Fields complete;        // every field the API documents for the type
  json expected;          // what the loader must keep
  std::string required;   // a required field ("" when none is)
  std::string wrong_key;  // a field given a value of the wrong type…
  std::string wrong_value;
  std::string wrong_message;  // …and what the loader must say
};

void PrintTo(const MessageCase& c, std::ostream* os) { *os << c.type; }

const std::vector<MessageCase>& Cases() {
  static const std::vector<MessageCase> cases = {
      {"txt",
       {{"msg", "\"send broadcast to all users\""}},
       json::parse(R"({"type":"txt","msg":"send broadcast to all users"})"),
       "msg",
       "msg",
       "[a, b]",
       "broadcasts[0].message.msg must be a string, not a list"},
      {"img",
       {{"url", "https://example.com/chatfiles/55f1"},
        {"filename", "testimg.jpg"},
        {"secret", "VfXXXXNb_"},
        {"size", "{width: 480, height: 720}"}},
       json::parse(R"({"type":"img","url":"https://example.com/chatfiles/55f1",
                      "filename":"testimg.jpg","secret":"VfXXXXNb_",
                      "size":{"width":480,"height":720}})"),
       "url",
       "secret",
       "12345",
       "broadcasts[0].message.secret must be a string, not an integer (put it in quotes)"},
      {"audio",
       {{"url", "https://example.com/chatfiles/1dfc"},
        {"filename", "testaudio.amr"},
        {"length", "10"},
        {"secret", "HfXXXXCjM"}},
       json::parse(R"({"type":"audio","url":"https://example.com/chatfiles/1dfc",
                      "filename":"testaudio.amr","length":10,"secret":"HfXXXXCjM"})"),
       "url",
       "length",
       "\"ten\"",
       "broadcasts[0].message.length must be an integer, not a string"},
      {"video",
       {{"url", "https://example.com/chatfiles/671d"},
        {"filename", "1418105136313.mp4"},
        {"thumb", "https://example.com/chatfiles/6727"},
        {"length", "0"},
        {"secret", "VfXXXXNb_"},
        {"file_length", "58103"},
        {"thumb_secret", "ZyXXXX2I"}},
       json::parse(R"({"type":"video","url":"https://example.com/chatfiles/671d",
                      "filename":"1418105136313.mp4","thumb":"https://example.com/chatfiles/6727",
                      "length":0,"secret":"VfXXXXNb_","file_length":58103,
                      "thumb_secret":"ZyXXXX2I"})"),
       "url",
       "file_length",
       "58.5",
       "broadcasts[0].message.file_length must be an integer, not a decimal number"},
      {"file",
       {{"url", "https://example.com/chatfiles/d7e"},
        {"filename", "test.txt"},
        {"secret", "1-g0XXXXua"}},
       json::parse(R"({"type":"file","url":"https://example.com/chatfiles/d7e",
                      "filename":"test.txt","secret":"1-g0XXXXua"})"),
       "url",
       "filename",
       "true",
       "broadcasts[0].message.filename must be a string, not true/false (put it in quotes)"},
      {"loc",
       {{"lat", "\"39.966\""}, {"lng", "\"116.322\""}, {"addr", "\"中国北京市海淀区中关村\""}},
       json::parse(R"({"type":"loc","lat":"39.966","lng":"116.322",
                      "addr":"中国北京市海淀区中关村"})"),
       "lng",
       "lat",
       "39.966",
       "broadcasts[0].message.lat must be a string, not a decimal number (put it in quotes)"},
      {"cmd",
       {{"action", "action1"}},
       json::parse(R"({"type":"cmd","action":"action1"})"),
       "action",
       "action",
       "{name: x}",
       "broadcasts[0].message.action must be a string, not a mapping"},
      {"custom",
       {{"customEvent", "custom_event"}, {"customExts", "{code: SPRING, \"n\": \"1\"}"}},
       json::parse(R"({"type":"custom","customEvent":"custom_event",
                      "customExts":{"code":"SPRING","n":"1"}})"),
       "",
       "customExts",
       "[code]",
       "broadcasts[0].message.customExts must be a mapping, not a list"},
  };
  return cases;
}

class MessageTypeTest : public ::testing::TestWithParam<MessageCase> {};

TEST_P(MessageTypeTest, CompleteBodyIsKeptAsWritten) {
  const MessageCase& c = GetParam();
  Campaign campaign = Valid(WithMessage(c.type, c.complete));
  ASSERT_EQ(campaign.broadcasts.size(), 1u);
  EXPECT_EQ(campaign.broadcasts[0].message, c.expected);
}

TEST_P(MessageTypeTest, OnlyTheRequiredFieldsAreNeeded) {
  const MessageCase& c = GetParam();
  Fields minimal;
  for (const auto& f : c.complete) {
    bool required = f.first == c.required || (c.type == "loc");  // loc needs all three
    if (required) minimal.push_back(f);
  }
  Valid(WithMessage(c.type, minimal));
}

TEST_P(MessageTypeTest, MissingRequiredFieldIsNamed) {
  const MessageCase& c = GetParam();
  if (c.required.empty()) {
    // Nothing to leave out: the type alone must be a valid message.
    Valid(WithMessage(c.type, Fields{}));
    return;
  }
  Diagnostic d = OnlyError(WithMessage(c.type, Without(c.complete, c.required)));
  EXPECT_EQ(d.rule, "schema.required");
  EXPECT_EQ(d.message, "broadcasts[0].message." + c.required + " is required for type " + c.type);
  EXPECT_EQ(d.line, 4);  // the message mapping starts at its first key
  EXPECT_EQ(d.column, 7);
}

TEST_P(MessageTypeTest, WrongTypeIsReportedAtTheValue) {
  const MessageCase& c = GetParam();
  Fields fields = With(c.complete, c.wrong_key, c.wrong_value);
  Diagnostic d = OnlyError(WithMessage(c.type, fields));
  EXPECT_EQ(d.rule, "schema.type");
  EXPECT_EQ(d.message, c.wrong_message);
  EXPECT_EQ(d.line, LineOf(fields, c.wrong_key));
  EXPECT_EQ(d.column, 7 + static_cast<int>(c.wrong_key.size()) + 2);
}

TEST_P(MessageTypeTest, UnknownFieldIsReportedAtTheKey) {
  const MessageCase& c = GetParam();
  Fields fields = With(c.complete, "colour", "blue");
  Diagnostic d = OnlyError(WithMessage(c.type, fields));
  EXPECT_EQ(d.rule, "schema.unknown_key");
  EXPECT_EQ(d.line, LineOf(fields, "colour"));
  EXPECT_EQ(d.column, 7);
  EXPECT_TRUE(d.message.starts_with("broadcasts[0].message.colour is not a known key for a " +
                                    c.type + " message (allowed: "))
      << d.message;
  // The hint lists the type's own fields.
  for (const auto& f : c.complete) EXPECT_NE(d.message.find(f.first), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, MessageTypeTest, ::testing::ValuesIn(Cases()),
                         [](const auto& param_info) { return param_info.param.type; });

TEST(MessageTest, FieldOfAnotherTypeIsUnknown) {
  Diagnostic d = OnlyError(WithMessage("txt", {{"msg", "hi"}, {"url", "https://x"}}));
  EXPECT_EQ(d.rule, "schema.unknown_key");
  EXPECT_EQ(d.message,
            "broadcasts[0].message.url is not a known key for a txt message (allowed: msg, type)");
}

TEST(MessageTest, UnknownTypeListsTheTypes) {
  Diagnostic d = OnlyError(WithMessage("sticker", {{"url", "https://x"}}));
  EXPECT_EQ(d.rule, "schema.enum");
  EXPECT_EQ(d.message,
            "broadcasts[0].message.type must be one of: txt, img, audio, video, file, loc, cmd, "
            "custom (not sticker)");
  EXPECT_EQ(d.line, 4);
  EXPECT_EQ(d.column, 13);
}

TEST(MessageTest, TypeIsRequired) {
  Diagnostic d = OnlyError(
      "broadcasts:\n"
      "  - target: users\n"
      "    message: {msg: hi}\n"
      "    name: b\n"
      "id: c\n");
  EXPECT_EQ(d.rule, "schema.required");
  EXPECT_EQ(d.message, "broadcasts[0].message.type is required");
  EXPECT_EQ(d.line, 3);
  EXPECT_EQ(d.column, 14);
}

TEST(MessageTest, ImageSizeNeedsWidthAndHeight) {
  Diagnostic d = OnlyError(WithMessage("img", {{"url", "u"}, {"size", "{width: 480}"}}));
  EXPECT_EQ(d.rule, "schema.required");
  EXPECT_EQ(d.message, "broadcasts[0].message.size.height is required for type img");
  EXPECT_EQ(d.line, 6);
  EXPECT_EQ(d.column, 13);
  EXPECT_EQ(
      OnlyError(WithMessage("img", {{"url", "u"}, {"size", "{width: 1, height: 2, d: 3}"}})).rule,
      "schema.unknown_key");
  EXPECT_EQ(OnlyError(WithMessage("img", {{"url", "u"}, {"size", "{width: -1, height: 2}"}})).rule,
            "schema.minimum");
}

TEST(MessageTest, CustomEventFollowsItsPattern) {
  Valid(WithMessage("custom", {{"customEvent", "a-b_c/d.e"}}));
  Valid(WithMessage("custom", {{"customEvent", std::string(32, 'x')}}));
  for (std::string bad : {std::string(33, 'x'), std::string("\"has space\""), std::string("\"\""),
                          std::string("caf\xC3\xA9")}) {
    Diagnostic d = OnlyError(WithMessage("custom", {{"customEvent", bad}}));
    EXPECT_EQ(d.rule, "schema.pattern") << bad;
    EXPECT_EQ(d.line, 5);
    EXPECT_EQ(d.column, 20);
  }
}

TEST(MessageTest, CustomExtsHoldAtMostSixteenStrings) {
  std::string sixteen = "{";
  for (int i = 0; i < 16; ++i) sixteen += (i ? ", k" : "k") + std::to_string(i) + ": v";
  Valid(WithMessage("custom", {{"customExts", sixteen + "}"}}));
  Diagnostic too_many = OnlyError(WithMessage("custom", {{"customExts", sixteen + ", k16: v}"}}));
  EXPECT_EQ(too_many.rule, "schema.max_properties");
  EXPECT_EQ(too_many.message, "broadcasts[0].message.customExts has more than 16 entries");
  Diagnostic not_string = OnlyError(WithMessage("custom", {{"customExts", "{a: x, b: 2}"}}));
  EXPECT_EQ(not_string.rule, "schema.type");
  EXPECT_EQ(not_string.message,
            "broadcasts[0].message.customExts.b must be a string, not an integer (put it in "
            "quotes)");
  EXPECT_EQ(not_string.line, 5);
  EXPECT_EQ(not_string.column, 29);
}

}  // namespace
}  // namespace broadcastd
