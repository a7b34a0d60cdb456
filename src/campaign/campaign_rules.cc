#include "campaign/campaign_rules.h"

#include <map>
#include <optional>

#include "core/time_format.h"
#include "cron/cron.h"

namespace broadcastd {
namespace {

using Json = nlohmann::json;
using Pointer = Json::json_pointer;

class BroadcastRules {
 public:
  BroadcastRules(const Document& doc, const std::set<std::string>& reported,
                 std::vector<Diagnostic>& out)
      : doc_(doc), reported_(reported), out_(out) {}

  void Check(const Json& broadcast, const Pointer& at) {
    std::optional<TimePoint> send_at = Time(broadcast, at / "send_at");
    std::optional<TimePoint> expires_at = Time(broadcast, at / "expires_at");
    const Json* repeat = Member(broadcast, "repeat");
    std::optional<TimePoint> until;
    if (repeat && repeat->is_object()) until = Time(*repeat, at / "repeat" / "until");

    if (send_at && expires_at && *expires_at <= *send_at) {
      Add(at / "expires_at", "rule.expires_after_send_at",
          Path(at / "expires_at") + " (" + FormatRfc3339(*expires_at) +
              ") must be after send_at (" + FormatRfc3339(*send_at) + ")");
    }
    if (send_at && until && *until <= *send_at) {
      Add(at / "repeat" / "until", "rule.until_after_send_at",
          Path(at / "repeat" / "until") + " (" + FormatRfc3339(*until) +
              ") must be after send_at (" + FormatRfc3339(*send_at) + ")");
    }
    const Json* target = Member(broadcast, "target");
    if (Member(broadcast, "chatroom_msg_level") && target && target->is_string() &&
        *target != "chatrooms") {
      AddAtKey(at / "chatroom_msg_level", "rule.chatroom_msg_level_target",
               Path(at / "chatroom_msg_level") + " is only for target chatrooms (this is " +
                   target->get<std::string>() + ")");
    }
    if (Member(broadcast, "expires_at") && repeat) {
      AddAtKey(at / "expires_at", "rule.expires_with_repeat",
               Path(at / "expires_at") +
                   " cannot be combined with repeat: each occurrence expires when the next "
                   "one is due");
    }
    MaxDelayRules(broadcast, at, repeat != nullptr);
    if (repeat && repeat->is_object()) Cron(*repeat, at / "repeat");
  }

 private:
  const Json* Member(const Json& object, const std::string& key) const {
    if (!object.is_object()) return nullptr;
    auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
  }

  bool Reported(const Pointer& at) const { return reported_.contains(at.to_string()); }

  std::string Path(const Pointer& at) const { return doc_.KeyPath(at); }

  void Add(const Pointer& at, const char* rule, std::string message) {
    out_.push_back(doc_.At(at, rule, std::move(message)));
  }
  void AddAtKey(const Pointer& at, const char* rule, std::string message) {
    out_.push_back(doc_.AtKey(at, rule, std::move(message)));
  }

  // The time at `at` (a member of `parent`), or nullopt when absent, of the
  // wrong type, already reported, or unparseable (reported here).
  std::optional<TimePoint> Time(const Json& parent, const Pointer& at) {
    const Json* value = Member(parent, at.back());
    if (!value || !value->is_string() || Reported(at)) return std::nullopt;
    Result<TimePoint> parsed = ParseRfc3339(value->get<std::string>());
    if (!parsed) {
      Add(at, "rule.time", Path(at) + ": " + parsed.error().message);
      return std::nullopt;
    }
    return *parsed;
  }

  // The schema fixes max_delay's form; its bounds are checked here. A repeating broadcast
  // keeps its own rule: an occurrence expires when the next one is due.
  void MaxDelayRules(const Json& broadcast, const Pointer& at, bool repeats) {
    const Json* value = Member(broadcast, "max_delay");
    if (!value) return;
    if (repeats) {
      AddAtKey(at / "max_delay", "rule.max_delay_with_repeat",
               Path(at / "max_delay") +
                   " cannot be combined with repeat: each occurrence expires when the next "
                   "one is due");
      return;
    }
    if (!value->is_string() || Reported(at / "max_delay")) return;
    if (auto parsed = ParseMaxDelay(value->get<std::string>()); !parsed) {
      Add(at / "max_delay", "rule.max_delay",
          Path(at / "max_delay") + ": " + parsed.error().message);
    }
  }

  void Cron(const Json& repeat, const Pointer& at) {
    const Json* cron = Member(repeat, "cron");
    const Json* zone = Member(repeat, "timezone");
    if (!cron || !cron->is_string() || !zone || !zone->is_string()) return;
    if (Reported(at / "cron") || Reported(at / "timezone")) return;
    const std::string& cron_text = cron->get_ref<const std::string&>();
    const std::string& zone_text = zone->get_ref<const std::string&>();
    if (Result<CronExpression> expression = CronExpression::Parse(cron_text); !expression) {
      Add(at / "cron", "rule.cron", Path(at / "cron") + ": " + expression.error().message);
      return;
    }
    Result<CronSchedule> schedule = CronSchedule::Create(cron_text, zone_text);
    if (!schedule) {
      Add(at / "timezone", "rule.timezone",
          Path(at / "timezone") + ": " + schedule.error().message);
      return;
    }
    // Every expression that can match a real day matches one within any span of
    // the search horizon (leap days included); one that never does ("0 0 31 4 *")
    // would quietly send nothing.
    if (!schedule->NextAfter(FromMillis(0))) {
      Add(at / "cron", "rule.cron_never",
          Path(at / "cron") + ": \"" + cron_text + "\" matches no day that exists");
    }
  }

  const Document& doc_;
  const std::set<std::string>& reported_;
  std::vector<Diagnostic>& out_;
};

// A broadcast's name is its identity in the campaign (the schema requires it and
// fixes its form; a broadcast without one is reported there, not here).
void CheckUniqueNames(const Document& doc, const Json& broadcasts, std::vector<Diagnostic>& out) {
  std::map<std::string, size_t> first_use;
  for (size_t i = 0; i < broadcasts.size(); ++i) {
    const Json& broadcast = broadcasts[i];
    if (!broadcast.is_object()) continue;
    auto it = broadcast.find("name");
    if (it == broadcast.end() || !it->is_string()) continue;
    const std::string name = it->get<std::string>();
    auto [first, inserted] = first_use.emplace(name, i);
    if (!inserted) {
      out.push_back(doc.At(Pointer("/broadcasts") / i / "name", "rule.unique_name",
                           "broadcasts[" + std::to_string(i) + "] has the name '" + name +
                               "' already used by broadcasts[" + std::to_string(first->second) +
                               "]"));
    }
  }
}

}  // namespace

std::vector<Diagnostic> CheckCampaignRules(const Document& doc,
                                           const std::set<std::string>& reported) {
  std::vector<Diagnostic> out;
  auto broadcasts = doc.json().find("broadcasts");
  if (broadcasts == doc.json().end() || !broadcasts->is_array()) return out;
  BroadcastRules rules(doc, reported, out);
  for (size_t i = 0; i < broadcasts->size(); ++i) {
    if ((*broadcasts)[i].is_object()) rules.Check((*broadcasts)[i], Pointer("/broadcasts") / i);
  }
  CheckUniqueNames(doc, *broadcasts, out);
  return out;
}

}  // namespace broadcastd
