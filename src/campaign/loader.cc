#include "campaign/loader.h"

#include <algorithm>
#include <set>
#include <utility>

#include "campaign/campaign_rules.h"
#include "campaign/schema_check.h"
#include "core/time_format.h"

namespace broadcastd {
namespace {

using Json = nlohmann::json;

std::optional<TimePoint> TimeField(const Json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end()) return std::nullopt;
  // Validated already: a failure here cannot happen, and would only drop the field.
  Result<TimePoint> parsed = ParseRfc3339(it->get<std::string>());
  return parsed ? std::optional<TimePoint>(*parsed) : std::nullopt;
}

std::optional<std::string> StringField(const Json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end()) return std::nullopt;
  return it->get<std::string>();
}

// REQUIRES `root` passed the schema and the rules.
Campaign Build(const Json& root) {
  Campaign campaign;
  campaign.id = root.at("id").get<std::string>();
  campaign.app = StringField(root, "app").value_or("");
  campaign.priority = root.value("priority", int64_t{0});
  const Json& broadcasts = root.at("broadcasts");
  for (size_t i = 0; i < broadcasts.size(); ++i) {
    const Json& b = broadcasts[i];
    Broadcast broadcast;
    broadcast.name = b.at("name").get<std::string>();
    broadcast.target = ParseTarget(b.at("target").get<std::string>()).value();
    broadcast.send_at = TimeField(b, "send_at");
    broadcast.expires_at = TimeField(b, "expires_at");
    if (auto delay = StringField(b, "max_delay")) {
      // Validated already, as TimeField's times are.
      if (auto parsed = ParseMaxDelay(*delay)) broadcast.max_delay = MaxDelay{*parsed};
    }
    if (auto repeat = b.find("repeat"); repeat != b.end()) {
      broadcast.repeat =
          Repeat{repeat->at("cron").get<std::string>(), repeat->at("timezone").get<std::string>(),
                 TimeField(*repeat, "until")};
    }
    broadcast.from = StringField(b, "from");
    broadcast.chatroom_msg_level = StringField(b, "chatroom_msg_level");
    broadcast.message = b.at("message");
    if (auto ext = b.find("ext"); ext != b.end()) broadcast.ext = *ext;
    campaign.broadcasts.push_back(std::move(broadcast));
  }
  return campaign;
}

}  // namespace

CampaignResult CampaignFromDocument(const Document& doc, const std::string& /*file_name*/) {
  std::set<std::string> failed;
  std::vector<Diagnostic> diagnostics = CheckCampaignSchema(doc, &failed);
  std::vector<Diagnostic> rules = CheckCampaignRules(doc, failed);
  diagnostics.insert(diagnostics.end(), rules.begin(), rules.end());
  if (!diagnostics.empty()) {
    std::stable_sort(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic& a, const Diagnostic& b) {
                       return std::tie(a.line, a.column) < std::tie(b.line, b.column);
                     });
    return std::unexpected(std::move(diagnostics));
  }
  try {
    return Build(doc.json());
  } catch (const std::exception& e) {
    // Only reachable if the schema and this code disagree; reported, not thrown.
    return std::unexpected(std::vector<Diagnostic>{
        Diagnostic{doc.file(), 0, 0, "internal.build", std::string("cannot read: ") + e.what()}});
  }
}

CampaignResult ParseCampaign(std::string_view text, const std::string& file_name,
                             const DocumentLimits& limits) {
  auto doc = Document::Parse(text, file_name, limits);
  if (!doc) return std::unexpected(std::vector<Diagnostic>{doc.error()});
  return CampaignFromDocument(*doc, file_name);
}

CampaignResult LoadCampaignFile(const std::filesystem::path& path, const DocumentLimits& limits) {
  auto doc = Document::Load(path, limits);
  if (!doc) return std::unexpected(std::vector<Diagnostic>{doc.error()});
  return CampaignFromDocument(*doc, path.string());
}

}  // namespace broadcastd
