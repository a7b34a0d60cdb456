#pragma once
// Internal to bd_campaign: which parts of a JSON Schema apply to a node of a
// document, used to word validation errors ("must be one of: users, ...",
// "allowed keys: ...") from the schema itself instead of repeating it in code.
//
// Understands what campaign.schema.json uses: properties, additionalProperties,
// items, local $ref ("#/definitions/..."), allOf, and if/then/else whose `if`
// tests `required` and `const` properties.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace broadcastd {

class SchemaNavigator {
 public:
  // REQUIRES `schema` outlives the navigator.
  explicit SchemaNavigator(const nlohmann::json& schema) : root_(schema) {}

  // The subschemas that apply to the node at `pointer` of `instance` (the
  // node need not exist; its parent's schemas then decide).
  std::vector<const nlohmann::json*> At(const nlohmann::json& instance,
                                        const nlohmann::json::json_pointer& pointer) const;

  // The first value of `keyword` among `schemas`, if any.
  static const nlohmann::json* Find(const std::vector<const nlohmann::json*>& schemas,
                                    const std::string& keyword);
  // Property names the schemas declare, sorted.
  static std::vector<std::string> DeclaredKeys(const std::vector<const nlohmann::json*>& schemas);

 private:
  void Expand(const nlohmann::json* schema, const nlohmann::json* node,
              std::vector<const nlohmann::json*>& out, int depth) const;
  static bool IfHolds(const nlohmann::json& condition, const nlohmann::json* node);

  const nlohmann::json& root_;
};

}  // namespace broadcastd
