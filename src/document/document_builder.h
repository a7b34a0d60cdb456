#pragma once
// Internal to bd_document: turns yaml-cpp parser events into JSON while
// enforcing DocumentLimits. Working on events rather than on YAML::Node means
// an alias is never a shared pointer in a graph: it is expanded here, counted
// against the limits first, and an alias to a node still being read (a cycle)
// is refused on sight.

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/mark.h>

#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "document/diagnostic.h"
#include "document/document.h"

namespace broadcastd {

// Thrown by the builder's event callbacks to stop the parser; caught by
// Document::Parse, never seen outside bd_document.
struct DocumentRejection {
  SourcePos pos;
  std::string rule;
  std::string message;
};

class DocumentBuilder final : public YAML::EventHandler {
 public:
  explicit DocumentBuilder(const DocumentLimits& limits) : limits_(limits) {}

  void OnDocumentStart(const YAML::Mark& mark) override;
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override;
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override;
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override;
  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value style) override;
  void OnSequenceEnd() override;
  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value style) override;
  void OnMapEnd() override;

  // After the parser returned: the root, once it was read completely.
  std::optional<nlohmann::json> TakeRoot() { return std::move(root_); }
  Document::PositionMap TakeValuePositions() { return std::move(values_); }
  Document::PositionMap TakeKeyPositions() { return std::move(keys_); }

 private:
  struct Frame {
    bool is_map = false;
    nlohmann::json value;
    std::string pointer;
    YAML::anchor_t anchor = 0;
    size_t first_node = 0;  // nodes_ when the collection started
    int height = 1;         // collection levels, this one included
    // Mappings only: the key waiting for its value, and the keys seen so far.
    std::optional<std::string> key;
    SourcePos key_pos;
    std::map<std::string, SourcePos> keys_seen;
  };
  struct Anchored {
    bool complete = false;
    nlohmann::json value;
    size_t nodes = 0;
    int height = 0;
    std::optional<std::string> key_text;  // for a scalar, its text (usable as a key)
  };

  [[noreturn]] void Reject(const YAML::Mark& mark, std::string rule, std::string message) const;
  void CountNodes(const YAML::Mark& mark, size_t count);
  // Where the next node goes, as a JSON pointer string.
  std::string NextPointer() const;
  bool ExpectingKey() const;
  void AcceptKey(const YAML::Mark& mark, const std::string& text);
  void StartCollection(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       bool is_map);
  void EndCollection();
  // Places a finished node under the current collection (or as the root).
  void Place(nlohmann::json value, int height);
  void Scalar(const YAML::Mark& mark, YAML::anchor_t anchor, nlohmann::json value,
              std::optional<std::string> key_text);

  DocumentLimits limits_;
  size_t nodes_ = 0;
  bool started_ = false;
  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, Anchored> anchors_;
  std::optional<nlohmann::json> root_;
  Document::PositionMap values_;
  Document::PositionMap keys_;
};

// 1-based position of a yaml-cpp mark (which is 0-based).
SourcePos ToSourcePos(const YAML::Mark& mark);

}  // namespace broadcastd
