#include "document/document.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

#include "document/document_builder.h"
#include "document/text_encoding.h"

namespace broadcastd {
namespace {

using Json = nlohmann::json;

SourcePos PositionOfOffset(std::string_view text, size_t offset) {
  std::string_view before = text.substr(0, offset);
  auto line = static_cast<int>(std::count(before.begin(), before.end(), '\n')) + 1;
  size_t line_start = before.rfind('\n');
  size_t column = line_start == std::string_view::npos ? offset + 1 : offset - line_start;
  return {line, static_cast<int>(column)};
}

Diagnostic Make(const std::string& file, SourcePos pos, std::string rule, std::string message) {
  return Diagnostic{file, pos.line, pos.column, std::move(rule), std::move(message)};
}

// Finds `pointer` or its nearest ancestor in `positions`.
SourcePos Nearest(const Document::PositionMap& positions, Json::json_pointer pointer) {
  while (true) {
    auto it = positions.find(pointer.to_string());
    if (it != positions.end()) return it->second;
    if (pointer.empty()) return {};
    pointer = pointer.parent_pointer();
  }
}

}  // namespace

Document::Document(std::string file, Json json, PositionMap values, PositionMap keys)
    : file_(std::move(file)),
      json_(std::move(json)),
      values_(std::move(values)),
      keys_(std::move(keys)) {}

std::expected<Document, Diagnostic> Document::Parse(std::string_view text, std::string file,
                                                    const DocumentLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return std::unexpected(
        Make(file, {}, "limit.size",
             "the file is larger than " + std::to_string(limits.max_bytes) + " bytes"));
  }
  if (auto problem = FindEncodingProblem(text)) {
    return std::unexpected(
        Make(file, PositionOfOffset(text, problem->offset), "yaml.encoding",
             problem->message + " (byte offset " + std::to_string(problem->offset) + ")"));
  }
  DocumentBuilder builder(limits);
  try {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    if (parser.HandleNextDocument(builder)) {
      // A second document is refused as soon as it starts (OnDocumentStart).
      parser.HandleNextDocument(builder);
    }
  } catch (const DocumentRejection& rejection) {
    return std::unexpected(Make(file, rejection.pos, rejection.rule, rejection.message));
  } catch (const YAML::DeepRecursion& e) {
    return std::unexpected(
        Make(file, ToSourcePos(e.mark), "limit.depth",
             "nesting deeper than " + std::to_string(limits.max_depth) + " levels"));
  } catch (const YAML::Exception& e) {
    return std::unexpected(Make(file, ToSourcePos(e.mark), "yaml.syntax", e.msg));
  } catch (const std::exception& e) {
    return std::unexpected(Make(file, {}, "yaml.syntax", e.what()));
  } catch (...) {
    return std::unexpected(Make(file, {}, "yaml.syntax", "unreadable YAML"));
  }
  std::optional<Json> root = builder.TakeRoot();
  if (!root || !root->is_object()) {
    return std::unexpected(Make(file, {}, "yaml.root", "the top level must be a mapping of keys"));
  }
  return Document(std::move(file), std::move(*root), builder.TakeValuePositions(),
                  builder.TakeKeyPositions());
}

std::expected<Document, Diagnostic> Document::Load(const std::filesystem::path& path,
                                                   const DocumentLimits& limits) {
  const std::string file = path.string();
  std::error_code ec;
  auto status = std::filesystem::status(path, ec);
  if (ec) return std::unexpected(Make(file, {}, "file.read", "cannot read: " + ec.message()));
  if (!std::filesystem::is_regular_file(status)) {
    return std::unexpected(Make(file, {}, "file.read", "not a regular file"));
  }
  auto size = std::filesystem::file_size(path, ec);
  if (ec) return std::unexpected(Make(file, {}, "file.read", "cannot read: " + ec.message()));
  if (size > limits.max_bytes) {
    return std::unexpected(
        Make(file, {}, "limit.size",
             "the file is larger than " + std::to_string(limits.max_bytes) + " bytes"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected(Make(file, {}, "file.read", "cannot open the file"));
  // One byte more than allowed, so that a file that grew since stat is caught.
  std::string text(limits.max_bytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return std::unexpected(Make(file, {}, "file.read", "read error"));
  text.resize(static_cast<size_t>(in.gcount()));
  return Parse(text, file, limits);
}

SourcePos Document::PositionOf(const Json::json_pointer& pointer) const {
  return Nearest(values_, pointer);
}

SourcePos Document::KeyPositionOf(const Json::json_pointer& pointer) const {
  auto it = keys_.find(pointer.to_string());
  if (it != keys_.end()) return it->second;
  return PositionOf(pointer);
}

std::string Document::KeyPath(const Json::json_pointer& pointer) const {
  // Rebuild from the root so each token can be checked against the node it indexes.
  std::vector<std::string> tokens;
  for (Json::json_pointer p = pointer; !p.empty(); p = p.parent_pointer()) {
    tokens.push_back(p.back());
  }
  std::reverse(tokens.begin(), tokens.end());
  std::string out;
  const Json* node = &json_;
  for (const std::string& token : tokens) {
    if (node != nullptr && node->is_array()) {
      out += "[" + token + "]";
      size_t index = 0;
      auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), index);
      bool valid = ec == std::errc{} && end == token.data() + token.size() && !token.empty();
      node = valid && index < node->size() ? &(*node)[index] : nullptr;
    } else {
      if (!out.empty()) out += '.';
      out += token;
      if (node == nullptr || !node->is_object()) {
        node = nullptr;
      } else {
        auto it = node->find(token);
        node = it == node->end() ? nullptr : &*it;
      }
    }
  }
  return out;
}

Diagnostic Document::At(const Json::json_pointer& pointer, std::string rule,
                        std::string message) const {
  return Make(file_, PositionOf(pointer), std::move(rule), std::move(message));
}

Diagnostic Document::AtKey(const Json::json_pointer& pointer, std::string rule,
                           std::string message) const {
  return Make(file_, KeyPositionOf(pointer), std::move(rule), std::move(message));
}

}  // namespace broadcastd
