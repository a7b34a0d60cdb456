#pragma once
// Validation of a campaign document against the embedded JSON Schema.

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "document/diagnostic.h"
#include "document/document.h"

namespace broadcastd {

// The text of schemas/campaign.schema.json, compiled into the library.
std::string_view CampaignSchemaText();

// Every violation of the campaign schema in `doc`, each at the YAML position of
// the node concerned (an unknown key at the key itself), with a rule name
// ("schema.required", "schema.unknown_key", "schema.type", "schema.enum",
// "schema.pattern", "schema.min_length", "schema.min_items",
// "schema.max_properties", "schema.minimum", "schema.other") and a message
// naming the key path. All unknown keys of an object are reported, not only
// the first. Empty when the document conforms. When `failed` is given, the
// JSON pointer strings of the nodes with an error are added to it.
std::vector<Diagnostic> CheckCampaignSchema(const Document& doc,
                                            std::set<std::string>* failed = nullptr);

}  // namespace broadcastd
