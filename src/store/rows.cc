#include "store/rows.h"

#include <array>

namespace broadcastd {

std::string_view CampaignStatusName(CampaignStatus status) {
  switch (status) {
    case CampaignStatus::kOk:
      return "ok";
    case CampaignStatus::kRejected:
      return "rejected";
    case CampaignStatus::kRemoved:
      return "removed";
    case CampaignStatus::kRefused:
      return "refused";
  }
  return "?";
}

std::optional<CampaignStatus> ParseCampaignStatus(std::string_view name) {
  for (CampaignStatus s : {CampaignStatus::kOk, CampaignStatus::kRejected, CampaignStatus::kRemoved,
                           CampaignStatus::kRefused}) {
    if (CampaignStatusName(s) == name) return s;
  }
  return std::nullopt;
}

}  // namespace broadcastd
