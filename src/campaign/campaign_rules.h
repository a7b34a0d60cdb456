#pragma once
// Internal to bd_campaign: the campaign rules JSON Schema cannot express.

#include <set>
#include <string>
#include <vector>

#include "document/diagnostic.h"
#include "document/document.h"

namespace broadcastd {

// Checks, per broadcast, where the fields have the right types (a field the
// schema already rejected is skipped; `reported` holds the JSON pointer
// strings of nodes with a schema error):
//   rule.time                      send_at, expires_at, repeat.until parse as RFC 3339
//   rule.expires_after_send_at     expires_at later than send_at
//   rule.chatroom_msg_level_target chatroom_msg_level only with target chatrooms
//   rule.expires_with_repeat       no expires_at together with repeat
//   rule.max_delay_with_repeat     no max_delay together with repeat
//   rule.max_delay                 max_delay from 1m to 366d (the schema fixes its form)
//   rule.until_after_send_at       repeat.until later than send_at
//   rule.unique_name               names (given or defaulted to the index) unique
//   rule.cron, rule.timezone       the repeat's expression and zone are valid
std::vector<Diagnostic> CheckCampaignRules(const Document& doc,
                                           const std::set<std::string>& reported);

}  // namespace broadcastd
