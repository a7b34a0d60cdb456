#pragma once
// The tables of the text output of --status and --history.

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

namespace broadcastd {

using TextRow = std::vector<std::string>;

// Left-aligned columns separated by two spaces, indented by two; the last column is
// not padded.
inline void PrintTable(std::ostream& out, const TextRow& header, const std::vector<TextRow>& rows) {
  std::vector<size_t> width(header.size(), 0);
  auto measure = [&](const TextRow& r) {
    for (size_t i = 0; i < r.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], r[i].size());
    }
  };
  measure(header);
  for (const TextRow& r : rows) measure(r);
  auto print = [&](const TextRow& r) {
    out << "  ";
    for (size_t i = 0; i < r.size(); ++i) {
      out << r[i];
      if (i + 1 < r.size() && i < width.size()) out << std::string(width[i] - r[i].size() + 2, ' ');
    }
    out << '\n';
  };
  print(header);
  for (const TextRow& r : rows) print(r);
}

}  // namespace broadcastd
