#pragma once
// Errors are values. Modules that use throwing libraries (SQLiteCpp, yaml-cpp,
// nlohmann-json) catch inside and hand back a Result.

#include <expected>
#include <string>
#include <utility>

namespace broadcastd {

struct Error {
  // One line a person can act on: where (file, line, key, job…) and why.
  std::string message;
};

template <class T>
using Result = std::expected<T, Error>;

// For operations that produce nothing but may fail.
using Status = std::expected<void, Error>;

inline std::unexpected<Error> Fail(std::string message) {
  return std::unexpected<Error>(Error{std::move(message)});
}

}  // namespace broadcastd
