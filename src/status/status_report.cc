#include "status/status_report.h"

#include <charconv>

namespace broadcastd {
namespace {

std::optional<int64_t> ParseInt(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::string AdoptedReason(std::string_view campaign_id) {
  return "adopted by a new queue (it may have gone out before): confirm with broadcastd "
         "--confirm " +
         std::string(campaign_id);
}

std::vector<JobState> ListedStates(const StatusQuery& query) {
  if (query.state) return {*query.state};
  return {JobState::kUnknown, JobState::kSending, JobState::kReady, JobState::kScheduled};
}

std::string EncodeCursor(const Store::ListingKey& key) {
  return std::string(JobStateName(key.state)) + "." + std::to_string(ToMillis(key.due)) + "." +
         std::to_string(key.id);
}

Result<Store::ListingKey> ParseCursor(std::string_view text) {
  auto bad = [&] {
    return Fail(ErrorKind::kInvalid,
                "not a cursor: '" + std::string(text) + "' (use next_cursor from --json)");
  };
  size_t first = text.find('.');
  size_t second = first == std::string_view::npos ? first : text.find('.', first + 1);
  if (second == std::string_view::npos) return bad();
  auto state = ParseJobState(text.substr(0, first));
  auto due = ParseInt(text.substr(first + 1, second - first - 1));
  auto id = ParseInt(text.substr(second + 1));
  if (!state || !due || !id) return bad();
  return Store::ListingKey{*state, FromMillis(*due), *id};
}

}  // namespace broadcastd
