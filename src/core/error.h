#pragma once
// Errors are values. Modules that use throwing libraries (SQLiteCpp, yaml-cpp,
// nlohmann-json) catch inside and hand back a Result.
//
// An Error says what kind of failure it is, so that callers branch on the kind
// (a refused claim is kConflict; a full disk is kIo) instead of re-reading the
// world to find out what happened.

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace broadcastd {

enum class ErrorKind {
  kOther,        // no finer kind applies (the default)
  kInvalid,      // bad input: a file, a flag, a config value
  kNotFound,     // the thing named does not exist
  kConflict,     // the state changed under us: another process or an operator got there first
  kIo,           // the disk or the database failed to read or write (full, read-only, I/O error)
  kCorrupt,      // stored data that this code cannot read
  kUnavailable,  // a peer (server, token endpoint) is not answering usefully; try later
  kPermission,   // the operating system refused access
};

std::string_view ErrorKindName(ErrorKind kind);

struct Error {
  // One line a person can act on: where (file, line, key, job…) and why.
  std::string message;
  ErrorKind kind = ErrorKind::kOther;

  bool Is(ErrorKind k) const { return kind == k; }
};

// A value or the Error that took its place. It is std::expected<T, Error> (every member
// and constructor of it, and it converts to and from it), marked [[nodiscard]]: a call
// whose Result is ignored does not compile under -Werror. Where dropping an error is
// right, the caller says why in a comment and discards it with a (void) cast.
template <class T>
class [[nodiscard]] Result : public std::expected<T, Error> {
  using Base = std::expected<T, Error>;

 public:
  using Base::Base;
  Result() = default;
  // From a plain std::expected<T, Error> (what its monadic members return).
  Result(const Base& other) : Base(other) {}        // NOLINT(google-explicit-constructor)
  Result(Base&& other) : Base(std::move(other)) {}  // NOLINT(google-explicit-constructor)
};

// For operations that produce nothing but may fail.
using Status = Result<void>;

// Every failure names its kind (ErrorKind::kOther where no finer kind applies).
inline std::unexpected<Error> Fail(ErrorKind kind, std::string message) {
  return std::unexpected<Error>(Error{std::move(message), kind});
}

}  // namespace broadcastd
