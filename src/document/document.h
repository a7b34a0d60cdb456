#pragma once
// A YAML file read safely into JSON, remembering where each node came from.
//
// Campaign and config files come from operators and may be wrong or hostile.
// Reading one is bounded in bytes, nesting depth and node count (aliases count
// every time they are expanded, so an alias bomb is rejected, not expanded),
// and the result is plain JSON so that schema validation and the rest of the
// code never touch yaml-cpp. Nothing here throws.

#include <cstddef>
#include <expected>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>

#include "document/diagnostic.h"

namespace broadcastd {

struct SourcePos {
  int line = 0;    // 1-based; 0 = unknown (the whole file)
  int column = 0;  // 1-based byte column
  friend bool operator==(const SourcePos&, const SourcePos&) = default;
};

struct DocumentLimits {
  size_t max_bytes = 256 * 1024;
  int max_depth = 32;        // nested mappings and sequences, the root counting as 1
  size_t max_nodes = 20000;  // scalars, keys and collections, aliases expanded
};

class Document {
 public:
  // Parses one YAML document whose root is a mapping. `file` names it in
  // diagnostics. Rejects, with a rule name and a position: text over
  // max_bytes ("limit.size", before parsing), invalid UTF-8 or control
  // characters ("yaml.encoding"), syntax errors ("yaml.syntax"), nesting over
  // max_depth ("limit.depth"), more than max_nodes ("limit.nodes"), an alias
  // inside the node it names ("yaml.alias_cycle"), duplicate keys
  // ("yaml.duplicate_key"), keys that are not scalars ("yaml.key"), tags other
  // than !!str ("yaml.tag"), a second document ("yaml.multi_document") and a
  // root that is not a mapping ("yaml.root").
  //
  // Scalars: quoted and block scalars are strings; plain scalars follow the
  // YAML 1.2 core schema (null, ~, true, false, decimal integers that fit in
  // int64, finite floats), anything else is a string.
  static std::expected<Document, Diagnostic> Parse(std::string_view text, std::string file,
                                                   const DocumentLimits& limits = {});

  // Reads and parses a regular file. Checks the size with stat before reading
  // and never reads more than max_bytes + 1 bytes (the file may grow).
  static std::expected<Document, Diagnostic> Load(const std::filesystem::path& path,
                                                  const DocumentLimits& limits = {});

  const nlohmann::json& json() const { return json_; }
  const std::string& file() const { return file_; }

  // Line/column of the YAML node at `pointer`, or of its nearest ancestor that
  // was written in the file (a node reached through an alias reports the alias).
  SourcePos PositionOf(const nlohmann::json::json_pointer& pointer) const;

  // Line/column of the key naming the mapping member at `pointer`; for array
  // items and the root, the same as PositionOf.
  SourcePos KeyPositionOf(const nlohmann::json::json_pointer& pointer) const;

  // The pointer as an operator writes it: "broadcasts[0].message.url"; "" for
  // the root. Array indexes are recognised from the document itself.
  std::string KeyPath(const nlohmann::json::json_pointer& pointer) const;

  // A diagnostic in this file at the node at `pointer`.
  Diagnostic At(const nlohmann::json::json_pointer& pointer, std::string rule,
                std::string message) const;
  // The same, at the key naming that node (for unknown or misplaced keys).
  Diagnostic AtKey(const nlohmann::json::json_pointer& pointer, std::string rule,
                   std::string message) const;

  // Positions, keyed by JSON pointer string; filled by the parser.
  using PositionMap = std::unordered_map<std::string, SourcePos>;

 private:
  Document(std::string file, nlohmann::json json, PositionMap values, PositionMap keys);

  std::string file_;
  nlohmann::json json_;
  PositionMap values_;
  PositionMap keys_;
};

}  // namespace broadcastd
