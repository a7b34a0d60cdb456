#include "document/document.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace broadcastd {

void PrintTo(const SourcePos& pos, std::ostream* os) { *os << pos.line << ":" << pos.column; }

namespace {

using nlohmann::json;
using Pointer = nlohmann::json::json_pointer;

Document ParseOk(std::string_view text) {
  auto doc = Document::Parse(text, "t.yaml");
  EXPECT_TRUE(doc.has_value()) << (doc ? "" : doc.error().ToString());
  if (!doc) return *Document::Parse("{}", "t.yaml");
  return std::move(*doc);
}

Diagnostic ParseError(std::string_view text, const DocumentLimits& limits = {}) {
  auto doc = Document::Parse(text, "t.yaml", limits);
  EXPECT_FALSE(doc.has_value()) << "parsed: " << doc->json().dump();
  if (doc) return {};
  return doc.error();
}

TEST(DiagnosticTest, ToStringNamesFileLineColumnAndRule) {
  Diagnostic d{"c.yaml", 7, 5, "schema.required", "broadcasts[0].message.url is required"};
  EXPECT_EQ(d.ToString(), "c.yaml:7:5: broadcasts[0].message.url is required [schema.required]");
  Diagnostic whole{"c.yaml", 0, 0, "limit.size", "too big"};
  EXPECT_EQ(whole.ToString(), "c.yaml: too big [limit.size]");
}

TEST(DocumentTest, ScalarsAreTypedByQuotingAndTheCoreSchema) {
  Document doc = ParseOk(
      "plain_int: 42\n"
      "quoted_int: \"42\"\n"
      "single_quoted: '42'\n"
      "float: 39.966\n"
      "bool: true\n"
      "quoted_bool: \"true\"\n"
      "null_value: ~\n"
      "empty_value:\n"
      "hex: 0x1F\n"
      "word: hello world\n"
      "explicit_str: !!str 17\n"
      "literal: |\n"
      "  12\n"
      "folded: >\n"
      "  true\n");
  const json& j = doc.json();
  EXPECT_EQ(j["plain_int"], json(42));
  EXPECT_EQ(j["quoted_int"], json("42"));
  EXPECT_EQ(j["single_quoted"], json("42"));
  EXPECT_EQ(j["float"], json(39.966));
  EXPECT_EQ(j["bool"], json(true));
  EXPECT_EQ(j["quoted_bool"], json("true"));
  EXPECT_TRUE(j["null_value"].is_null());
  EXPECT_TRUE(j["empty_value"].is_null());
  EXPECT_EQ(j["hex"], json("0x1F"));
  EXPECT_EQ(j["word"], json("hello world"));
  EXPECT_EQ(j["explicit_str"], json("17"));
  EXPECT_EQ(j["literal"], json("12\n"));
  EXPECT_EQ(j["folded"], json("true\n"));
}

TEST(DocumentTest, KeysAreAlwaysStrings) {
  Document doc = ParseOk("1: one\ntrue: yes\n");
  EXPECT_EQ(doc.json(), json({{"1", "one"}, {"true", "yes"}}));
}

TEST(DocumentTest, NestedStructuresAndFlowStyle) {
  Document doc = ParseOk(
      "broadcasts:\n"
      "  - name: a\n"
      "    message: {type: txt, msg: hi}\n"
      "  - [1, 2]\n");
  EXPECT_EQ(doc.json(), json::parse(R"({"broadcasts":[{"name":"a","message":{"type":"txt",)"
                                    R"("msg":"hi"}},[1,2]]})"));
}

TEST(DocumentTest, PositionsOfValuesAreOneBasedAndExact) {
  Document doc = ParseOk(
      "id: x\n"                              // line 1
      "broadcasts:\n"                        // line 2
      "  - name: a\n"                        // line 3
      "    message:\n"                       // line 4
      "      type: img\n"                    // line 5
      "      size: {width: 1, height: 2}\n"  // line 6
      "  - name: b\n");                      // line 7
  EXPECT_EQ(doc.PositionOf(Pointer("/id")), (SourcePos{1, 5}));
  EXPECT_EQ(doc.PositionOf(Pointer("/broadcasts/0/name")), (SourcePos{3, 11}));
  EXPECT_EQ(doc.PositionOf(Pointer("/broadcasts/0/message/type")), (SourcePos{5, 13}));
  EXPECT_EQ(doc.PositionOf(Pointer("/broadcasts/0/message/size")), (SourcePos{6, 13}));
  EXPECT_EQ(doc.PositionOf(Pointer("/broadcasts/0/message/size/height")), (SourcePos{6, 32}));
  EXPECT_EQ(doc.PositionOf(Pointer("/broadcasts/1/name")), (SourcePos{7, 11}));
  // A block mapping starts at its first key.
  EXPECT_EQ(doc.PositionOf(Pointer("/broadcasts/0/message")), (SourcePos{5, 7}));
  // Keys have their own positions.
  EXPECT_EQ(doc.KeyPositionOf(Pointer("/broadcasts/0/message")), (SourcePos{4, 5}));
  EXPECT_EQ(doc.KeyPositionOf(Pointer("/broadcasts/0/message/size/height")), (SourcePos{6, 24}));
}

TEST(DocumentTest, MissingNodesReportTheNearestAncestor) {
  Document doc = ParseOk("a:\n  b: 1\n");
  EXPECT_EQ(doc.PositionOf(Pointer("/a/c/d")), doc.PositionOf(Pointer("/a")));
  EXPECT_EQ(doc.PositionOf(Pointer("/a")), (SourcePos{2, 3}));
  EXPECT_EQ(doc.PositionOf(Pointer("/zzz")), doc.PositionOf(Pointer("")));
}

TEST(DocumentTest, KeyPathFormatsIndexesFromTheDocument) {
  Document doc = ParseOk("broadcasts:\n  - message: {type: txt}\nmap: {\"0\": x}\n");
  EXPECT_EQ(doc.KeyPath(Pointer("/broadcasts/0/message/url")), "broadcasts[0].message.url");
  EXPECT_EQ(doc.KeyPath(Pointer("/map/0")), "map.0");
  EXPECT_EQ(doc.KeyPath(Pointer("")), "");
  EXPECT_EQ(doc.KeyPath(Pointer("/id")), "id");
}

TEST(DocumentTest, DiagnosticsCarryFileAndPosition) {
  Document doc = ParseOk("a:\n  b: 1\n");
  Diagnostic at = doc.At(Pointer("/a/b"), "r", "m");
  EXPECT_EQ(at.ToString(), "t.yaml:2:6: m [r]");
  Diagnostic key = doc.AtKey(Pointer("/a/b"), "r", "m");
  EXPECT_EQ(key.ToString(), "t.yaml:2:3: m [r]");
}

TEST(DocumentTest, AliasesAreExpandedAndReportTheAliasPosition) {
  Document doc = ParseOk(
      "base: &b {x: 1, y: [2, 3]}\n"
      "copy: *b\n"
      "name: &n hello\n"
      "again: *n\n"
      "*n : key-from-alias\n");
  EXPECT_EQ(doc.json()["copy"], json::parse(R"({"x":1,"y":[2,3]})"));
  EXPECT_EQ(doc.json()["again"], json("hello"));
  EXPECT_EQ(doc.json()["hello"], json("key-from-alias"));
  EXPECT_EQ(doc.PositionOf(Pointer("/copy/y/1")), (SourcePos{2, 7}));
}

TEST(DocumentTest, RootMustBeAMapping) {
  EXPECT_EQ(ParseError("- a\n- b\n").rule, "yaml.root");
  EXPECT_EQ(ParseError("just text\n").rule, "yaml.root");
  EXPECT_EQ(ParseError("").rule, "yaml.root");
  EXPECT_EQ(ParseError("# only a comment\n").rule, "yaml.root");
}

TEST(DocumentTest, SyntaxErrorsHaveAPosition) {
  Diagnostic d = ParseError("a: 1\nb: [1, 2\n");
  EXPECT_EQ(d.rule, "yaml.syntax");
  EXPECT_GE(d.line, 2);
  Diagnostic tab = ParseError("a:\n\tb: 1\n");
  EXPECT_EQ(tab.rule, "yaml.syntax");
  EXPECT_EQ(tab.line, 2);
}

TEST(DocumentTest, UnsupportedTagsAreRejected) {
  Diagnostic d = ParseError("a: !!binary aGVsbG8=\n");
  EXPECT_EQ(d.rule, "yaml.tag");
  EXPECT_EQ(d.line, 1);
  EXPECT_EQ(ParseError("a: !custom {b: 1}\n").rule, "yaml.tag");
}

TEST(DocumentTest, ComplexKeysAreRejected) {
  EXPECT_EQ(ParseError("? [a, b]\n: c\n").rule, "yaml.key");
  EXPECT_EQ(ParseError("? {a: 1}\n: c\n").rule, "yaml.key");
}

class DocumentFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() /
        ("bd_document_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path Write(const std::string& name, const std::string& text) {
    std::filesystem::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  std::filesystem::path dir_;
};

TEST_F(DocumentFileTest, LoadsAFile) {
  auto doc = Document::Load(Write("a.yaml", "a: 1\n"));
  ASSERT_TRUE(doc.has_value()) << doc.error().ToString();
  EXPECT_EQ(doc->json(), json({{"a", 1}}));
  EXPECT_EQ(doc->file(), (dir_ / "a.yaml").string());
}

TEST_F(DocumentFileTest, MissingFileAndDirectoryAreReadErrors) {
  auto missing = Document::Load(dir_ / "nope.yaml");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().rule, "file.read");
  auto directory = Document::Load(dir_);
  ASSERT_FALSE(directory.has_value());
  EXPECT_EQ(directory.error().rule, "file.read");
}

}  // namespace
}  // namespace broadcastd
