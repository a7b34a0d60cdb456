#include "cli/audit_format.h"

#include <charconv>

#include "core/time_format.h"

namespace broadcastd {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// The length of the UTF-8 sequence at `s[i]` (a byte >= 0x80), or 0 when it is not one
// (a stray continuation byte, an overlong form, a surrogate, past U+10FFFF, truncated).
size_t Utf8Length(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  const size_t left = s.size() - i;
  auto cont = [&](size_t k) { return k < left && (b(k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;  // overlong
    if (c == 0xED && b(1) > 0x9F) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;  // overlong
    if (c == 0xF4 && b(1) > 0x8F) return 0;  // past U+10FFFF
    return 4;
  }
  return 0;
}

// Appends `s` with every byte that is not part of a UTF-8 sequence replaced, and each
// ASCII byte through `ascii(c, out)`.
template <class Ascii>
void AppendUtf8(std::string_view s, std::string& out, Ascii ascii) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ascii(static_cast<char>(c), out);
      ++i;
      continue;
    }
    const size_t n = Utf8Length(s, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(s, i, n);
      i += n;
    }
  }
}

void JsonChar(char c, std::string& out) {
  switch (c) {
    case '"':
      out += "\\\"";
      return;
    case '\\':
      out += "\\\\";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    default:
      if (static_cast<unsigned char>(c) < 0x20) {
        static constexpr char kHex[] = "0123456789abcdef";
        out += "\\u00";
        out += kHex[(c >> 4) & 0xF];
        out += kHex[c & 0xF];
      } else {
        out += c;
      }
  }
}

void AppendInt(int64_t value, std::string& out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, end);
}

// Whether `value` can be written as it is: ASCII only, and none of the bytes `special`
// says need care. Most fields are (names, times, IDs): one pass, then one append.
template <class Special>
bool Plain(std::string_view value, Special special) {
  for (const char c : value) {
    if (static_cast<unsigned char>(c) >= 0x80 || special(c)) return false;
  }
  return true;
}

bool CsvSpecial(char c) { return c == ',' || c == '"' || c == '\r' || c == '\n'; }
bool JsonSpecial(char c) { return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20; }

// One line being written: fields in order, each either text, a number or none.
class Line {
 public:
  Line(AuditFormat format, std::string& out) : csv_(format == AuditFormat::kCsv), out_(out) {
    if (!csv_) out_ += '{';
  }
  void Text(std::string_view key, std::string_view value, bool null_when_empty = true) {
    Key(key);
    if (csv_) {
      if (Plain(value, CsvSpecial)) {
        out_.append(value);
      } else if (value.find_first_of(",\"\r\n") == std::string_view::npos) {
        AppendUtf8(value, out_, [](char c, std::string& out) { out += c; });
      } else {
        out_ += '"';
        AppendUtf8(value, out_, [](char c, std::string& out) {
          if (c == '"') out += '"';
          out += c;
        });
        out_ += '"';
      }
    } else if (null_when_empty && value.empty()) {
      out_ += "null";
    } else {
      out_ += '"';
      if (Plain(value, JsonSpecial)) {
        out_.append(value);
      } else {
        AppendUtf8(value, out_, JsonChar);
      }
      out_ += '"';
    }
  }
  void Number(std::string_view key, std::optional<int64_t> value) {
    Key(key);
    if (value) {
      AppendInt(*value, out_);
    } else if (!csv_) {
      out_ += "null";
    }
  }
  void None(std::string_view key) {
    Key(key);
    if (!csv_) out_ += "null";
  }
  void End() { out_ += csv_ ? "\r\n" : "}\n"; }

 private:
  void Key(std::string_view key) {
    if (csv_) {
      if (!first_) out_ += ',';
    } else {
      if (!first_) out_ += ',';
      out_ += '"';
      out_ += key;
      out_ += "\":";
    }
    first_ = false;
  }
  bool csv_;
  std::string& out_;
  bool first_ = true;
};

constexpr const char* kFields[] = {"kind",         "time",       "id",       "job",   "campaign",
                                   "broadcast",    "occurrence", "endpoint", "class", "http_status",
                                   "broadcast_id", "error",      "detail",   "action"};

}  // namespace

std::optional<AuditFormat> ParseAuditFormat(std::string_view name) {
  if (name == "jsonl") return AuditFormat::kJsonLines;
  if (name == "csv") return AuditFormat::kCsv;
  return std::nullopt;
}

std::string AuditHeader(AuditFormat format) {
  if (format != AuditFormat::kCsv) return "";
  std::string header;
  for (const char* field : kFields) {
    if (!header.empty()) header += ',';
    header += field;
  }
  return header + "\r\n";
}

void AuditLineWriter::Time(TimePoint at, std::string& out) {
  constexpr int64_t kDay = 86'400'000;
  const int64_t ms = ToMillis(at);
  int64_t day = ms / kDay;
  if (ms % kDay < 0) --day;
  if (day != day_) {
    day_ = day;
    date_ = FormatDisplayTime(FromMillis(day * kDay)).substr(0, 11);  // "2027-03-01T"
  }
  int64_t rest = ms - day * kDay;
  char buf[16];
  const auto two = [&](int pos, int64_t v) {
    buf[pos] = static_cast<char>('0' + v / 10);
    buf[pos + 1] = static_cast<char>('0' + v % 10);
  };
  two(0, rest / 3'600'000);
  buf[2] = ':';
  two(3, rest / 60'000 % 60);
  buf[5] = ':';
  two(6, rest / 1000 % 60);
  buf[8] = '.';
  buf[9] = static_cast<char>('0' + rest % 1000 / 100);
  two(10, rest % 100);
  buf[12] = 'Z';
  out += date_;
  out.append(buf, 13);
}

void AuditLineWriter::Append(const AuditEntry& e, std::string& out) {
  const bool attempt = e.kind == AuditEntry::Kind::kAttempt;
  Line line(format_, out);
  line.Text("kind", attempt ? "attempt" : "operator_action");
  scratch_.clear();
  Time(e.at, scratch_);
  line.Text("time", scratch_);
  line.Number("id", e.id);
  line.Number("job", e.job_id);
  line.Text("campaign", e.campaign_id);
  line.Text("broadcast", e.broadcast);
  line.Text("occurrence", e.occurrence);
  scratch_.clear();
  if (!e.app.empty()) {
    scratch_.append(e.app);
    scratch_ += '/';
    scratch_.append(e.target);
  }
  line.Text("endpoint", scratch_);
  if (attempt) {
    line.Text("class", e.outcome.empty() ? "in_flight" : e.outcome);
    line.Number("http_status", e.http_status);
    if (e.broadcast_id) {
      line.Text("broadcast_id", *e.broadcast_id, false);
    } else {
      line.None("broadcast_id");
    }
    scratch_.assign(e.vendor_error);
    if (!e.error_description.empty()) {
      if (!scratch_.empty()) scratch_ += ": ";
      scratch_.append(e.error_description);
    }
    line.Text("error", scratch_);
    line.Text("detail", e.detail);
    line.None("action");
  } else {
    line.None("class");
    line.None("http_status");
    line.None("broadcast_id");
    line.None("error");
    line.Text("detail", e.detail);
    line.Text("action", e.action);
  }
  line.End();
}

}  // namespace broadcastd
