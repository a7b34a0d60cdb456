#pragma once
// Typing of plain (unquoted) YAML scalars by the YAML 1.2 core schema.

#include <nlohmann/json.hpp>
#include <string_view>

namespace broadcastd {

// "", "~", "null", "Null", "NULL" -> null; "true"/"True"/"TRUE" (and false) ->
// bool; a decimal integer that fits in int64 -> integer; a finite decimal float
// -> float; anything else, including 0x/0o forms, .inf/.nan and integers too
// large for int64, stays the string it was (never silently rounded).
nlohmann::json ResolvePlainScalar(std::string_view text);

}  // namespace broadcastd
