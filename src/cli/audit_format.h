#pragma once
// The lines of --audit: one JSON object a line (JSON Lines) or RFC 4180 CSV with a header
// row. Every stored byte is kept but those that are not UTF-8, each replaced by U+FFFD,
// as --history --json does: the output is always valid UTF-8.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "store/audit_entry.h"

namespace broadcastd {

enum class AuditFormat { kJsonLines, kCsv };

// "jsonl" | "csv"
std::optional<AuditFormat> ParseAuditFormat(std::string_view name);

// The CSV header row (CRLF-terminated); nothing for JSON Lines.
std::string AuditHeader(AuditFormat format);

// Appends the line of `entry` to `out`, its end of line included (CSV: CRLF).
// Fields: kind ("attempt" | "operator_action"), time (FormatDisplayTime), id, job,
// campaign, broadcast, occurrence, endpoint (APP/TARGET), class (an outcome, "in_flight"),
// http_status, broadcast_id, error (the vendor's error and its description), detail,
// action. Not applicable or not recorded: JSON null, an empty CSV field.
class AuditLineWriter {
 public:
  explicit AuditLineWriter(AuditFormat format) : format_(format) {}
  void Append(const AuditEntry& entry, std::string& out);

 private:
  void Time(TimePoint at, std::string& out);

  AuditFormat format_;
  // The date part of the last time written and the day it is for: entries come in time
  // order, so most share it.
  int64_t day_ = INT64_MIN;
  std::string date_;
  std::string scratch_;
};

}  // namespace broadcastd
