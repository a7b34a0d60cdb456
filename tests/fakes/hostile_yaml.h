#pragma once
// Hostile YAML inputs shared by the tests that must refuse them and by the
// probe that measures what refusing them costs.

#include <string>

namespace broadcastd {

// Nine levels of nine aliases each: 9^9 nodes ("billion laughs") if expanded.
inline std::string BillionLaughs() {
  std::string text =
      "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  const char* names = "abcdefghi";
  for (int level = 1; level < 9; ++level) {
    std::string prev(1, names[level - 1]);
    text += std::string(1, names[level]) + ": &" + names[level] + " [";
    for (int i = 0; i < 9; ++i) text += (i ? ",*" : "*") + prev;
    text += "]\n";
  }
  return text;
}

// `levels` nested flow sequences under one key.
inline std::string DeepNesting(int levels) {
  return "a: " + std::string(static_cast<size_t>(levels), '[') +
         std::string(static_cast<size_t>(levels), ']') + "\n";
}

}  // namespace broadcastd
