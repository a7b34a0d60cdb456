// Feeds arbitrary bytes to the campaign loader: whatever the input, it must
// answer with a campaign or diagnostics, within the document limits, without
// crashing, hanging, leaking or throwing.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "campaign/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  broadcastd::CampaignResult result = broadcastd::ParseCampaign(text, "fuzz.yaml");
  if (result) {
    // A campaign that loaded must be complete.
    if (result->broadcasts.empty() || result->id.empty()) __builtin_trap();
    for (const auto& b : result->broadcasts) {
      if (b.name.empty() || !b.message.is_object()) __builtin_trap();
    }
  } else {
    if (result.error().empty()) __builtin_trap();  // a rejection always says why
    for (const auto& d : result.error()) (void)d.ToString();
  }
  return 0;
}
