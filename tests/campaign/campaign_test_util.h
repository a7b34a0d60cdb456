#pragma once
// Shared by the campaign tests: run the loader on text and look at what it said.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "campaign/loader.h"

namespace broadcastd {

inline std::vector<Diagnostic> Errors(std::string_view text, const std::string& file = "c.yaml") {
  CampaignResult result = ParseCampaign(text, file);
  EXPECT_FALSE(result.has_value()) << "accepted: " << text;
  if (result) return {};
  return result.error();
}

inline std::string Describe(const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  for (const Diagnostic& d : diagnostics) out += d.ToString() + "\n";
  return out;
}

// The only diagnostic; fails the test when there are none or several.
inline Diagnostic OnlyError(std::string_view text) {
  std::vector<Diagnostic> errors = Errors(text);
  EXPECT_EQ(errors.size(), 1u) << Describe(errors);
  return errors.empty() ? Diagnostic{} : errors.front();
}

inline Campaign Valid(std::string_view text, const std::string& file = "c.yaml") {
  CampaignResult result = ParseCampaign(text, file);
  EXPECT_TRUE(result.has_value()) << (result ? "" : Describe(result.error()));
  return result ? *result : Campaign{};
}

}  // namespace broadcastd
