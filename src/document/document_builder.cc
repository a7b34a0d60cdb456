#include "document/document_builder.h"

#include <algorithm>
#include <utility>

#include "document/plain_scalar.h"

namespace broadcastd {
namespace {

constexpr const char* kStrTag = "tag:yaml.org,2002:str";
constexpr const char* kMapTag = "tag:yaml.org,2002:map";
constexpr const char* kSeqTag = "tag:yaml.org,2002:seq";

std::string EscapePointerToken(const std::string& token) {
  std::string out;
  out.reserve(token.size());
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

SourcePos ToSourcePos(const YAML::Mark& mark) {
  if (mark.is_null()) return {};
  return {mark.line + 1, mark.column + 1};
}

void DocumentBuilder::Reject(const YAML::Mark& mark, std::string rule, std::string message) const {
  throw DocumentRejection{ToSourcePos(mark), std::move(rule), std::move(message)};
}

void DocumentBuilder::CountNodes(const YAML::Mark& mark, size_t count) {
  if (count > limits_.max_nodes - std::min(nodes_, limits_.max_nodes)) {
    Reject(mark, "limit.nodes",
           "the document has more than " + std::to_string(limits_.max_nodes) +
               " nodes (aliases count each time they are used)");
  }
  nodes_ += count;
}

void DocumentBuilder::OnDocumentStart(const YAML::Mark& mark) {
  if (started_) {
    Reject(mark, "yaml.multi_document", "only one YAML document is allowed per file");
  }
  started_ = true;
}

bool DocumentBuilder::ExpectingKey() const {
  return !stack_.empty() && stack_.back().is_map && !stack_.back().key.has_value();
}

std::string DocumentBuilder::NextPointer() const {
  if (stack_.empty()) return "";
  const Frame& top = stack_.back();
  if (top.is_map) return top.pointer + "/" + EscapePointerToken(top.key.value_or(""));
  return top.pointer + "/" + std::to_string(top.value.size());
}

void DocumentBuilder::AcceptKey(const YAML::Mark& mark, const std::string& text) {
  Frame& top = stack_.back();
  SourcePos pos = ToSourcePos(mark);
  auto [it, inserted] = top.keys_seen.emplace(text, pos);
  if (!inserted) {
    Reject(mark, "yaml.duplicate_key",
           "duplicate key '" + text + "' (first given at line " + std::to_string(it->second.line) +
               ")");
  }
  top.key = text;
  top.key_pos = pos;
}

void DocumentBuilder::Place(nlohmann::json value, int height) {
  if (stack_.empty()) {
    root_ = std::move(value);
    return;
  }
  Frame& top = stack_.back();
  top.height = std::max(top.height, height + 1);
  if (top.is_map) {
    keys_[NextPointer()] = top.key_pos;
    top.value[*top.key] = std::move(value);
    top.key.reset();
  } else {
    top.value.push_back(std::move(value));
  }
}

void DocumentBuilder::Scalar(const YAML::Mark& mark, YAML::anchor_t anchor, nlohmann::json value,
                             std::optional<std::string> key_text) {
  if (stack_.empty()) Reject(mark, "yaml.root", "the top level must be a mapping of keys");
  CountNodes(mark, 1);
  if (anchor != 0) anchors_[anchor] = Anchored{true, value, 1, 0, key_text};
  if (ExpectingKey()) {
    if (!key_text) Reject(mark, "yaml.key", "a mapping key must be a non-empty scalar");
    AcceptKey(mark, *key_text);
    return;
  }
  values_[NextPointer()] = ToSourcePos(mark);
  Place(std::move(value), 0);
}

void DocumentBuilder::OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) {
  Scalar(mark, anchor, nullptr, std::nullopt);
}

void DocumentBuilder::OnScalar(const YAML::Mark& mark, const std::string& tag,
                               YAML::anchor_t anchor, const std::string& value) {
  if (tag == "?") {
    Scalar(mark, anchor, ResolvePlainScalar(value), value);
  } else if (tag == "!" || tag == kStrTag) {
    Scalar(mark, anchor, value, value);
  } else {
    Reject(mark, "yaml.tag", "the tag '" + tag + "' is not supported (only !!str)");
  }
}

void DocumentBuilder::OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) {
  auto it = anchors_.find(anchor);
  if (it == anchors_.end()) Reject(mark, "yaml.syntax", "alias to an unknown anchor");
  if (!it->second.complete) {
    Reject(mark, "yaml.alias_cycle", "an alias may not refer to a node that contains it");
  }
  const Anchored& target = it->second;
  if (stack_.empty()) Reject(mark, "yaml.root", "the top level must be a mapping of keys");
  if (ExpectingKey()) {
    if (!target.key_text) Reject(mark, "yaml.key", "a mapping key must be a non-empty scalar");
    CountNodes(mark, 1);
    AcceptKey(mark, *target.key_text);
    return;
  }
  if (static_cast<int>(stack_.size()) + target.height > limits_.max_depth) {
    Reject(mark, "limit.depth",
           "nesting deeper than " + std::to_string(limits_.max_depth) + " levels");
  }
  // Counted before the copy is made: an alias bomb stops here.
  CountNodes(mark, std::max<size_t>(target.nodes, 1));
  values_[NextPointer()] = ToSourcePos(mark);
  Place(target.value, target.height);
}

void DocumentBuilder::StartCollection(const YAML::Mark& mark, const std::string& tag,
                                      YAML::anchor_t anchor, bool is_map) {
  if (tag != "?" && tag != "!" && tag != (is_map ? kMapTag : kSeqTag)) {
    Reject(mark, "yaml.tag", "the tag '" + tag + "' is not supported");
  }
  if (stack_.empty()) {
    if (!is_map) Reject(mark, "yaml.root", "the top level must be a mapping of keys");
    if (root_) Reject(mark, "yaml.syntax", "more than one top-level node");
  } else if (ExpectingKey()) {
    Reject(mark, "yaml.key", "a mapping key must be a non-empty scalar");
  }
  if (static_cast<int>(stack_.size()) + 1 > limits_.max_depth) {
    Reject(mark, "limit.depth",
           "nesting deeper than " + std::to_string(limits_.max_depth) + " levels");
  }
  CountNodes(mark, 1);
  Frame frame;
  frame.is_map = is_map;
  frame.value = is_map ? nlohmann::json::object() : nlohmann::json::array();
  frame.pointer = NextPointer();
  frame.anchor = anchor;
  frame.first_node = nodes_ - 1;
  values_[frame.pointer] = ToSourcePos(mark);
  if (anchor != 0) anchors_[anchor] = Anchored{};  // known but incomplete: aliases to it are cycles
  stack_.push_back(std::move(frame));
}

void DocumentBuilder::EndCollection() {
  Frame frame = std::move(stack_.back());
  stack_.pop_back();
  if (frame.anchor != 0) {
    anchors_[frame.anchor] =
        Anchored{true, frame.value, nodes_ - frame.first_node, frame.height, std::nullopt};
  }
  Place(std::move(frame.value), frame.height);
}

void DocumentBuilder::OnSequenceStart(const YAML::Mark& mark, const std::string& tag,
                                      YAML::anchor_t anchor, YAML::EmitterStyle::value) {
  StartCollection(mark, tag, anchor, false);
}

void DocumentBuilder::OnSequenceEnd() { EndCollection(); }

void DocumentBuilder::OnMapStart(const YAML::Mark& mark, const std::string& tag,
                                 YAML::anchor_t anchor, YAML::EmitterStyle::value) {
  StartCollection(mark, tag, anchor, true);
}

void DocumentBuilder::OnMapEnd() { EndCollection(); }

}  // namespace broadcastd
