#pragma once
// A careful reader of the CSV --audit writes, for the tests: RFC 4180 and nothing looser.

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace broadcastd {

// RFC 4180: fields separated by commas, records by CRLF; a quoted field may hold commas,
// CR, LF and doubled quotes. Fails the test on anything else (a bare quote, a lone LF).
inline std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '"') {
      ++i;
      while (true) {
        if (i >= text.size()) {
          ADD_FAILURE() << "unterminated quoted field";
          return records;
        }
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += text[i++];
      }
    } else {
      while (i < text.size() && text[i] != ',' && text[i] != '\r') {
        EXPECT_NE(text[i], '"') << "a quote inside an unquoted field at " << i;
        EXPECT_NE(text[i], '\n') << "a bare LF at " << i;
        field += text[i++];
      }
    }
    record.push_back(std::move(field));
    field.clear();
    if (i < text.size() && text[i] == ',') {
      ++i;
      continue;
    }
    EXPECT_EQ(text.compare(i, 2, "\r\n"), 0) << "a record not ended by CRLF at " << i;
    i += 2;
    records.push_back(std::move(record));
    record.clear();
  }
  return records;
}

}  // namespace broadcastd
