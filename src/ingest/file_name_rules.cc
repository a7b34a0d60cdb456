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

}  // namespace

NameVerdict ClassifyFileName(std::string_view name) {
  if (name.empty() || IsTemporary(name) || !HasCampaignExtension(name)) {
    return NameVerdict::kIgnored;
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
