#include "campaign/schema_navigator.h"

#include <algorithm>
#include <set>

namespace broadcastd {

using Json = nlohmann::json;

namespace {
// $ref chains in our schema are one or two long; this only stops a bad schema
// from recursing forever.
constexpr int kMaxExpandDepth = 16;
}  // namespace

bool SchemaNavigator::IfHolds(const Json& condition, const Json* node) {
  if (node == nullptr || !node->is_object()) return false;
  if (auto it = condition.find("required"); it != condition.end() && it->is_array()) {
    for (const Json& name : *it) {
      if (!name.is_string() || !node->contains(name.get<std::string>())) return false;
    }
  }
  if (auto it = condition.find("properties"); it != condition.end() && it->is_object()) {
    for (const auto& [key, sub] : it->items()) {
      auto value = node->find(key);
      if (value == node->end() || !sub.is_object() || !sub.contains("const")) continue;
      if (*value != sub["const"]) return false;
    }
  }
  return true;
}

void SchemaNavigator::Expand(const Json* schema, const Json* node, std::vector<const Json*>& out,
                             int depth) const {
  if (schema == nullptr || !schema->is_object() || depth > kMaxExpandDepth) return;
  if (auto ref = schema->find("$ref"); ref != schema->end() && ref->is_string()) {
    const std::string& target = ref->get_ref<const std::string&>();
    if (target.starts_with("#")) {
      Json::json_pointer pointer(target.substr(1));
      if (root_.contains(pointer)) Expand(&root_.at(pointer), node, out, depth + 1);
    }
  }
  out.push_back(schema);
  if (auto all = schema->find("allOf"); all != schema->end() && all->is_array()) {
    for (const Json& member : *all) Expand(&member, node, out, depth + 1);
  }
  if (auto condition = schema->find("if"); condition != schema->end()) {
    const char* branch = IfHolds(*condition, node) ? "then" : "else";
    if (auto it = schema->find(branch); it != schema->end()) Expand(&*it, node, out, depth + 1);
  }
}

std::vector<const Json*> SchemaNavigator::At(const Json& instance,
                                             const Json::json_pointer& pointer) const {
  std::vector<std::string> tokens;
  for (Json::json_pointer p = pointer; !p.empty(); p = p.parent_pointer()) {
    tokens.push_back(p.back());
  }
  std::reverse(tokens.begin(), tokens.end());

  const Json* node = &instance;
  std::vector<const Json*> current;
  Expand(&root_, node, current, 0);
  for (const std::string& token : tokens) {
    const Json* child = nullptr;
    std::vector<const Json*> next_schemas;
    if (node != nullptr && node->is_array()) {
      size_t index = 0;
      bool numeric = !token.empty() && std::all_of(token.begin(), token.end(),
                                                   [](char c) { return c >= '0' && c <= '9'; });
      if (numeric && token.size() < 10) index = std::stoul(token);
      if (numeric && index < node->size()) child = &(*node)[index];
      for (const Json* s : current) {
        if (auto items = s->find("items"); items != s->end()) next_schemas.push_back(&*items);
      }
    } else {
      if (node != nullptr && node->is_object()) {
        auto it = node->find(token);
        if (it != node->end()) child = &*it;
      }
      for (const Json* s : current) {
        auto props = s->find("properties");
        if (props != s->end() && props->is_object() && props->contains(token)) {
          next_schemas.push_back(&(*props)[token]);
        } else if (auto extra = s->find("additionalProperties");
                   extra != s->end() && extra->is_object()) {
          next_schemas.push_back(&*extra);
        }
      }
    }
    current.clear();
    for (const Json* s : next_schemas) Expand(s, child, current, 0);
    node = child;
  }
  return current;
}

const Json* SchemaNavigator::Find(const std::vector<const Json*>& schemas,
                                  const std::string& keyword) {
  for (const Json* s : schemas) {
    if (auto it = s->find(keyword); it != s->end()) return &*it;
  }
  return nullptr;
}

std::vector<std::string> SchemaNavigator::DeclaredKeys(const std::vector<const Json*>& schemas) {
  std::set<std::string> keys;
  for (const Json* s : schemas) {
    auto props = s->find("properties");
    if (props == s->end() || !props->is_object()) continue;
    for (const auto& [key, value] : props->items()) keys.insert(key);
  }
  return {keys.begin(), keys.end()};
}

}  // namespace broadcastd
