// Inputs built to hurt a YAML reader: each must be refused with the right rule,
// never expanded, looped over or allowed to overflow the stack.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "document/document.h"
#include "fakes/hostile_yaml.h"

namespace broadcastd {
namespace {

Diagnostic ParseError(std::string_view text, const DocumentLimits& limits = {}) {
  auto doc = Document::Parse(text, "h.yaml", limits);
  EXPECT_FALSE(doc.has_value());
  if (doc) return {};
  return doc.error();
}

std::string Repeat(std::string_view piece, int n) {
  std::string out;
  out.reserve(piece.size() * static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) out += piece;
  return out;
}

TEST(HostileInputTest, DeepFlowSequenceNesting) {
  std::string text = DeepNesting(10000);
  Diagnostic d = ParseError(text);
  EXPECT_EQ(d.rule, "limit.depth");
  EXPECT_EQ(d.line, 1);
}

TEST(HostileInputTest, DeepFlowMappingNesting) {
  std::string text = "a: " + Repeat("{a: ", 10000) + "1" + Repeat("}", 10000) + "\n";
  EXPECT_EQ(ParseError(text).rule, "limit.depth");
}

TEST(HostileInputTest, DeepBlockSequenceNesting) {
  // "- - - - ... x": 10k block levels on one line.
  std::string text = "a:\n" + Repeat("- ", 10000) + "x\n";
  EXPECT_EQ(ParseError(text).rule, "limit.depth");
}

TEST(HostileInputTest, DepthLimitIsExact) {
  DocumentLimits limits;
  limits.max_depth = 5;
  // The root mapping is level 1, then four sequences: depth 5.
  EXPECT_TRUE(Document::Parse("a: [[[[1]]]]\n", "h.yaml", limits).has_value());
  Diagnostic d = ParseError("a: [[[[[1]]]]]\n", limits);
  EXPECT_EQ(d.rule, "limit.depth");
  EXPECT_EQ(d.line, 1);
  EXPECT_EQ(d.column, 8);  // the fifth '['
}

TEST(HostileInputTest, DepthThroughAnAliasIsCounted) {
  DocumentLimits limits;
  limits.max_depth = 4;
  // &x is 3 levels (root + 2); placing it two levels down makes 5.
  EXPECT_EQ(ParseError("x: &x [[1]]\ny: [[*x]]\n", limits).rule, "limit.depth");
}

TEST(HostileInputTest, BillionLaughsIsRejectedNotExpanded) {
  Diagnostic d = ParseError(BillionLaughs());
  EXPECT_EQ(d.rule, "limit.nodes");
  EXPECT_GT(d.line, 1);
}

TEST(HostileInputTest, NodeLimitIsExact) {
  DocumentLimits limits;
  limits.max_nodes = 5;
  // root, key a, seq, 1, 2 = 5 nodes.
  EXPECT_TRUE(Document::Parse("a: [1, 2]\n", "h.yaml", limits).has_value());
  EXPECT_EQ(ParseError("a: [1, 2, 3]\n", limits).rule, "limit.nodes");
}

TEST(HostileInputTest, AliasesCountEveryTimeTheyAreUsed) {
  DocumentLimits limits;
  limits.max_nodes = 12;
  // root(1) + a(1) + seq of 3 (4) = 6; b(1) + *x(4) = 11; c(1) + *x(4) = 16 > 12.
  EXPECT_EQ(ParseError("a: &x [1, 2, 3]\nb: *x\nc: *x\n", limits).rule, "limit.nodes");
  EXPECT_TRUE(Document::Parse("a: &x [1, 2, 3]\nb: *x\n", "h.yaml", limits).has_value());
}

TEST(HostileInputTest, SelfReferencingAliasIsACycle) {
  Diagnostic seq = ParseError("a: &x [*x]\n");
  EXPECT_EQ(seq.rule, "yaml.alias_cycle");
  EXPECT_EQ(seq.line, 1);
  EXPECT_EQ(seq.column, 8);
  EXPECT_EQ(ParseError("a: &x {b: *x}\n").rule, "yaml.alias_cycle");
  EXPECT_EQ(ParseError("a: &x\n  b:\n    c: [*x]\n").rule, "yaml.alias_cycle");
}

TEST(HostileInputTest, TextOverTheSizeCapIsRejectedBeforeParsing) {
  // Not even YAML: the size check must come first.
  std::string text(256 * 1024 + 1, '[');
  Diagnostic d = ParseError(text);
  EXPECT_EQ(d.rule, "limit.size");
  EXPECT_EQ(d.line, 0);
  EXPECT_TRUE(Document::Parse("a: 1\n" + std::string(256 * 1024 - 5, '#'), "h.yaml").has_value());
}

TEST(HostileInputTest, FileOverTheSizeCapIsRejectedBeforeReading) {
  auto dir = std::filesystem::temp_directory_path() / "bd_hostile_input_test";
  std::filesystem::create_directories(dir);
  auto path = dir / "huge.yaml";
  {
    std::ofstream out(path, std::ios::binary);
    std::string chunk(1 << 20, '[');
    for (int i = 0; i < 8; ++i) out << chunk;  // 8 MiB of nonsense
  }
  auto doc = Document::Load(path);
  ASSERT_FALSE(doc.has_value());
  EXPECT_EQ(doc.error().rule, "limit.size");
  DocumentLimits small;
  small.max_bytes = 4;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << "a: 12\n";
  auto capped = Document::Load(path, small);
  ASSERT_FALSE(capped.has_value());
  EXPECT_EQ(capped.error().rule, "limit.size");
  std::filesystem::remove_all(dir);
}

TEST(HostileInputTest, InvalidUtf8IsRejectedWithItsPosition) {
  Diagnostic d = ParseError("a: b\nc: d\xff\n");
  EXPECT_EQ(d.rule, "yaml.encoding");
  EXPECT_EQ(d.line, 2);
  EXPECT_EQ(d.column, 5);
  EXPECT_NE(d.message.find("0xff"), std::string::npos);
  EXPECT_NE(d.message.find("offset 9"), std::string::npos);
}

TEST(HostileInputTest, MalformedUtf8FormsAreAllRejected) {
  for (std::string bad : {std::string("a: \xC0\xAF\n"),          // overlong '/'
                          std::string("a: \xED\xA0\x80\n"),      // UTF-16 surrogate
                          std::string("a: \xF4\x90\x80\x80\n"),  // over U+10FFFF
                          std::string("a: \xE4\xB8\n"),          // truncated
                          std::string("a: \x80\n"),              // lone continuation
                          std::string("a: b\x01\n"),             // control character
                          std::string("a: b\0c\n", 7)}) {        // NUL
    Diagnostic d = ParseError(bad);
    EXPECT_EQ(d.rule, "yaml.encoding") << d.ToString();
    EXPECT_EQ(d.line, 1);
    EXPECT_GE(d.column, 4);
  }
  // Well-formed multibyte text is fine, and its columns count bytes.
  auto ok = Document::Parse("addr: \"中国北京\"\n", "h.yaml");
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->json()["addr"], "中国北京");
}

TEST(HostileInputTest, DuplicateKeysAreRejectedAtTheSecondKey) {
  Diagnostic d = ParseError("a: 1\nb: 2\na: 3\n");
  EXPECT_EQ(d.rule, "yaml.duplicate_key");
  EXPECT_EQ(d.line, 3);
  EXPECT_EQ(d.column, 1);
  EXPECT_NE(d.message.find("line 1"), std::string::npos);
  Diagnostic nested = ParseError("x:\n  m: {type: txt, type: img}\n");
  EXPECT_EQ(nested.rule, "yaml.duplicate_key");
  EXPECT_EQ(nested.line, 2);
  EXPECT_EQ(nested.column, 18);
  // The same text quoted or not is the same key.
  EXPECT_EQ(ParseError("a: 1\n\"a\": 2\n").rule, "yaml.duplicate_key");
  // Same key in different mappings is fine.
  EXPECT_TRUE(Document::Parse("a: {k: 1}\nb: {k: 2}\n", "h.yaml").has_value());
}

TEST(HostileInputTest, MultiDocumentStreamIsRejected) {
  Diagnostic d = ParseError("a: 1\n---\nb: 2\n");
  EXPECT_EQ(d.rule, "yaml.multi_document");
  EXPECT_EQ(d.line, 2);
  // An explicit start and end of a single document is fine.
  EXPECT_TRUE(Document::Parse("---\na: 1\n...\n", "h.yaml").has_value());
}

TEST(HostileInputTest, ManyKeysInOneMappingStayWithinTheNodeLimit) {
  std::string text;
  for (int i = 0; i < 15000; ++i) text += "k" + std::to_string(i) + ": 1\n";
  EXPECT_EQ(ParseError(text).rule, "limit.nodes");
}

}  // namespace
}  // namespace broadcastd
