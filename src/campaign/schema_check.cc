#include "campaign/schema_check.h"

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "campaign/schema_navigator.h"

namespace broadcastd {
namespace {

using Json = nlohmann::json;
using Pointer = Json::json_pointer;

struct ParsedSchema {
  Json json;
  valijson::Schema schema;
  std::string error;  // non-empty if the embedded schema is unusable (a build defect)
};

const ParsedSchema& Schema() {
  static const ParsedSchema* parsed = [] {
    auto* p = new ParsedSchema;
    try {
      p->json = Json::parse(CampaignSchemaText());
      valijson::SchemaParser parser;
      valijson::adapters::NlohmannJsonAdapter adapter(p->json);
      parser.populateSchema(adapter, p->schema);
    } catch (const std::exception& e) {
      p->error = e.what();
    }
    return p;
  }();
  return *parsed;
}

// valijson's context ["<root>", "[broadcasts]", "[0]"] -> "/broadcasts/0".
Pointer ToPointer(const std::vector<std::string>& context) {
  Pointer pointer;
  for (const std::string& part : context) {
    if (part == "<root>") continue;
    if (part.size() >= 2 && part.front() == '[' && part.back() == ']') {
      pointer.push_back(part.substr(1, part.size() - 2));
    } else {
      pointer.push_back(part);
    }
  }
  return pointer;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

std::string Article(const std::string& type) {
  if (type == "string") return "a string";
  if (type == "integer") return "an integer";
  if (type == "number") return "a number";
  if (type == "boolean") return "true or false";
  if (type == "object") return "a mapping";
  if (type == "array") return "a list";
  if (type == "null") return "empty";
  return type;
}

std::string Kind(const Json& value) {
  switch (value.type()) {
    case Json::value_t::object:
      return "a mapping";
    case Json::value_t::array:
      return "a list";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::boolean:
      return "true/false";
    case Json::value_t::null:
      return "empty";
    case Json::value_t::number_float:
      return "a decimal number";
    default:
      return "an integer";
  }
}

// The last quoted name in a description: "Missing required property 'url'." ->
// "url"; "... 'properties' or 'additionalProperties' constraints: 'colour'." -> "colour".
std::string QuotedName(const std::string& description) {
  size_t close = description.rfind('\'');
  if (close == std::string::npos || close == 0) return "";
  size_t open = description.rfind('\'', close - 1);
  if (open == std::string::npos) return "";
  return description.substr(open + 1, close - open - 1);
}

constexpr std::string_view kUnknownKeyPrefix =
    "Object contains a property that could not be validated using 'properties' or "
    "'additionalProperties' constraints: '";

// The key in valijson's unknown-key description (which may itself hold quotes).
std::string UnknownKeyName(const std::string& description) {
  std::string_view rest = std::string_view(description).substr(kUnknownKeyPrefix.size());
  if (rest.ends_with("'.")) rest.remove_suffix(2);
  return std::string(rest);
}

// The members of the object at `at` that none of its schemas declares.
std::vector<std::string> UnknownKeys(const Json& instance, const Pointer& at,
                                     const SchemaNavigator& navigator) {
  std::vector<std::string> unknown;
  if (!instance.contains(at) || !instance.at(at).is_object()) return unknown;
  std::vector<std::string> declared = SchemaNavigator::DeclaredKeys(navigator.At(instance, at));
  if (declared.empty()) return unknown;
  for (const auto& [key, value] : instance.at(at).items()) {
    if (!std::binary_search(declared.begin(), declared.end(), key)) unknown.push_back(key);
  }
  return unknown;
}

std::string Dotted(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

class ErrorWording {
 public:
  ErrorWording(const Document& doc, const Json& instance, const SchemaNavigator& navigator)
      : doc_(doc), instance_(instance), navigator_(navigator) {}

  Diagnostic UnknownKey(const Pointer& object, const std::string& key) const {
    Pointer at = object / key;
    std::string message = Dotted(doc_.KeyPath(object), key) + " is not a known key";
    if (const std::string type = MessageType(object); !type.empty()) {
      message += " for a " + type + " message";
    }
    std::vector<std::string> allowed =
        SchemaNavigator::DeclaredKeys(navigator_.At(instance_, object));
    if (!allowed.empty()) message += " (allowed: " + Join(allowed) + ")";
    return doc_.AtKey(at, "schema.unknown_key", message);
  }

  Diagnostic Leaf(const Pointer& at, const std::string& description) const {
    const std::string path = doc_.KeyPath(at);
    const auto schemas = navigator_.At(instance_, at);
    const Json* value = instance_.contains(at) ? &instance_.at(at) : nullptr;

    if (description.starts_with("Missing required property")) {
      std::string name = QuotedName(description);
      std::string message = Dotted(path, name) + " is required";
      if (const std::string type = MessageType(at); !type.empty() && name != "type") {
        message += " for type " + type;
      }
      return doc_.At(at, "schema.required", message);
    }
    if (description.starts_with("Value type not permitted")) {
      return doc_.At(at, "schema.type", TypeMessage(path, schemas, value));
    }
    if (description.starts_with("Failed to match against any enum")) {
      return doc_.At(at, "schema.enum", EnumMessage(path, schemas, value));
    }
    if (description.starts_with("Failed to match regex")) {
      return doc_.At(at, "schema.pattern", PatternMessage(path, schemas, value));
    }
    if (description.starts_with("String should be no fewer than")) {
      const Json* min = SchemaNavigator::Find(schemas, "minLength");
      std::string message = min && *min == 1 ? path + " must not be empty"
                                             : path + " must be at least " +
                                                   (min ? min->dump() : "?") + " characters";
      return doc_.At(at, "schema.min_length", message);
    }
    if (description.starts_with("Array should contain no fewer than")) {
      const Json* min = SchemaNavigator::Find(schemas, "minItems");
      return doc_.At(at, "schema.min_items",
                     path + " needs at least " + (min ? min->dump() : "?") + " item(s)");
    }
    if (description.starts_with("Object should have no more than")) {
      const Json* max = SchemaNavigator::Find(schemas, "maxProperties");
      return doc_.At(at, "schema.max_properties",
                     path + " has more than " + (max ? max->dump() : "?") + " entries");
    }
    if (description.starts_with("Expected number greater than")) {
      const Json* min = SchemaNavigator::Find(schemas, "minimum");
      return doc_.At(at, "schema.minimum", path + " must be at least " + (min ? min->dump() : "?"));
    }
    return doc_.At(at, "schema.other", (path.empty() ? "" : path + ": ") + description);
  }

 private:
  // "img" when `at` is a broadcast's message (or inside one) with a string type.
  std::string MessageType(const Pointer& at) const {
    for (Pointer p = at; !p.empty(); p = p.parent_pointer()) {
      if (p.back() != "message") continue;
      if (!instance_.contains(p)) return "";
      const Json& message = instance_.at(p);
      if (!message.is_object()) return "";
      auto type = message.find("type");
      return type != message.end() && type->is_string() ? type->get<std::string>() : "";
    }
    return "";
  }

  using Schemas = std::vector<const Json*>;

  // `value` (null: absent) is not of the type its schemas declare.
  static std::string TypeMessage(const std::string& path, const Schemas& schemas,
                                 const Json* value) {
    const Json* type = SchemaNavigator::Find(schemas, "type");
    std::string expected = type && type->is_string() ? Article(type->get<std::string>()) : "";
    std::string message = path + " must be " + expected;
    if (value) message += ", not " + Kind(*value);
    if (expected == "a string" && value && (value->is_number() || value->is_boolean())) {
      message += " (put it in quotes)";
    }
    return message;
  }

  // `value` is none of its schemas' enum.
  static std::string EnumMessage(const std::string& path, const Schemas& schemas,
                                 const Json* value) {
    const Json* options = SchemaNavigator::Find(schemas, "enum");
    std::vector<std::string> names;
    if (options && options->is_array()) {
      for (const Json& option : *options) {
        names.push_back(option.is_string() ? option.get<std::string>() : option.dump());
      }
    }
    std::string message = path + " must be one of: " + Join(names);
    if (value) {
      message += " (not " + (value->is_string() ? value->get<std::string>() : value->dump()) + ")";
    }
    return message;
  }

  // `value` does not match its schemas' pattern.
  static std::string PatternMessage(const std::string& path, const Schemas& schemas,
                                    const Json* value) {
    const Json* pattern = SchemaNavigator::Find(schemas, "pattern");
    const Json* about = SchemaNavigator::Find(schemas, "description");
    std::string message = path;
    if (value && value->is_string()) message += " '" + Shorten(value->get<std::string>()) + "'";
    // A long regular expression helps nobody; the schema's description says it in words.
    std::string regex = pattern && pattern->is_string() ? pattern->get<std::string>() : "";
    message += " does not match " +
               (!regex.empty() && regex.size() <= 40 ? regex : std::string("the expected form"));
    if (about && about->is_string()) message += " (" + about->get<std::string>() + ")";
    return message;
  }

  static std::string Shorten(const std::string& text) {
    return text.size() <= 80 ? text : text.substr(0, 77) + "...";
  }

  const Document& doc_;
  const Json& instance_;
  const SchemaNavigator& navigator_;
};

}  // namespace

std::vector<Diagnostic> CheckCampaignSchema(const Document& doc, std::set<std::string>* failed) {
  const ParsedSchema& parsed = Schema();
  if (!parsed.error.empty()) {
    return {Diagnostic{doc.file(), 0, 0, "internal.schema",
                       "the built-in campaign schema is unusable: " + parsed.error}};
  }
  const Json& instance = doc.json();
  SchemaNavigator navigator(parsed.json);
  ErrorWording wording(doc, instance, navigator);
  // Holds the compiled pattern regexes: one per thread keeps this reentrant, and compiles
  // each pattern once rather than once per file (most of a file's check, otherwise).
  thread_local valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(instance);
  const bool valid = validator.validate(parsed.schema, target, &results);

  std::vector<Diagnostic> out;
  std::set<std::tuple<std::string, std::string>> seen;
  auto add = [&](const Pointer& at, Diagnostic d) {
    if (!seen.emplace(d.rule, d.message).second) return;
    if (failed) failed->insert(at.to_string());
    out.push_back(std::move(d));
  };
  for (const auto& error : results) {
    // Wrappers ("Failed to validate item #0 in array.") repeat a leaf error.
    if (error.description.starts_with("Failed to validate ")) continue;
    const Pointer at = ToPointer(error.context);
    if (error.description.starts_with(kUnknownKeyPrefix)) {
      // valijson names the first unknown key of an object; list them all.
      std::vector<std::string> keys = UnknownKeys(instance, at, navigator);
      if (keys.empty()) keys.push_back(UnknownKeyName(error.description));
      for (const std::string& key : keys) add(at / key, wording.UnknownKey(at, key));
      continue;
    }
    add(at, wording.Leaf(at, error.description));
  }
  if (!valid && out.empty()) {
    // Never let a failed validation pass for want of words to describe it.
    add(Pointer(""),
        Diagnostic{doc.file(), 0, 0, "schema.other", "the campaign does not match the schema"});
  }
  return out;
}

}  // namespace broadcastd
