#include "ingest/file_name_rules.h"

#include "core/log_value.h"
#include "document/text_encoding.h"

namespace broadcastd {
namespace {

// The names tools give their temporaries and leftovers (run-parts(8), sudoers(5)).
bool IsTemporary(std::string_view name) {
  if (name.starts_with('.') || name.ends_with('~')) return true;
  const std::string_view ext = name.substr(name.rfind('.') + 1);
  return ext == "swp" || ext == "tmp" || ext.starts_with("dpkg-") || ext.starts_with("rpm") ||
         ext.starts_with("ucf-");
}

bool HasCampaignExtension(std::string_view name) {
  return name.ends_with(".yaml") || name.ends_with(".yml");
}

// "promo.yaml" for "promo.yaml.sig" and "promo.yaml.alice.sig"; empty when `name` is no
// signature's name.
std::string_view SignedName(std::string_view name) {
  if (!name.ends_with(".sig")) return {};
  std::string_view rest = name.substr(0, name.size() - 4);
  if (HasCampaignExtension(rest)) return rest;
  const size_t dot = rest.rfind('.');
  if (dot == std::string_view::npos || dot + 1 == rest.size()) return {};
  rest = rest.substr(0, dot);
  return HasCampaignExtension(rest) ? rest : std::string_view{};
}

}  // namespace

std::string SignedFileOf(std::string_view signature_name) {
  return std::string(SignedName(signature_name));
}

NameVerdict ClassifyFileName(std::string_view name) {
  if (name.empty() || IsTemporary(name)) return NameVerdict::kIgnored;
  if (!HasCampaignExtension(name)) {
    if (SignedName(name).empty()) return NameVerdict::kIgnored;
    return DisplayFileName(name) == name ? NameVerdict::kSignature : NameVerdict::kRefused;
  }
  // EscapeControl changes exactly the bytes that cannot be shown as they are.
  return DisplayFileName(name) == name ? NameVerdict::kCampaign : NameVerdict::kRefused;
}

std::string NameRefusal(std::string_view name) {
  if (auto problem = FindEncodingProblem(name);
      problem && problem->message.starts_with("invalid")) {
    return "the file name is not valid UTF-8 (" + problem->message + ")";
  }
  return "the file name holds a control character";
}

std::string DisplayFileName(std::string_view name) { return EscapeControl(name); }

}  // namespace broadcastd
