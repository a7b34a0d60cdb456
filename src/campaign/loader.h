#pragma once
// Reads campaign files (DESIGN.md, "Campaign file") into the validated model.
//
// A file is read safely (document/document.h), validated against the embedded
// schemas/campaign.schema.json, then against the rules a schema cannot say
// (times, their order, chatroom-only fields, unique names, the cron
// expression and time zone). Every problem found is reported, each with file,
// line, column and rule name, sorted by position.

#include <expected>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "campaign/campaign.h"
#include "document/diagnostic.h"
#include "document/document.h"

namespace broadcastd {

using CampaignResult = std::expected<Campaign, std::vector<Diagnostic>>;

// `file_name` names the file in diagnostics only: the campaign's identity is its
// `id` and each broadcast's `name`, both required. On success every field of the
// Campaign is valid: names are unique, times parsed, `app` left empty when the
// file names none. Never throws.
CampaignResult ParseCampaign(std::string_view text, const std::string& file_name,
                             const DocumentLimits& limits = {});

// The same for a file on disk (size checked before reading).
CampaignResult LoadCampaignFile(const std::filesystem::path& path,
                                const DocumentLimits& limits = {});

// Checks a document already read. Exposed for tools that read documents
// themselves.
CampaignResult CampaignFromDocument(const Document& doc, const std::string& file_name);

}  // namespace broadcastd
