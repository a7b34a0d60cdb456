#pragma once
// Reading the JSON bodies the broadcast endpoints answer with: the broadcast
// ID of a success and the error fields of a failure. Lenient: unknown fields
// are ignored, and a body that is not JSON yields nothing rather than an error.

#include <optional>
#include <string>
#include <string_view>

namespace broadcastd {

struct VendorBody {
  // data.id exactly as the digits the server sent (a JSON integer of any
  // size, or a string of digits). Never converted through a double: IDs
  // exceed 2^53. Empty when absent or not a non-negative integer.
  std::string broadcast_id;
  std::string error;              // top-level "error", e.g. "forbidden_op"
  std::string error_description;  // top-level "error_description"
};

// Returns nullopt when `body` is not valid JSON. REQUIRES nothing; never throws.
std::optional<VendorBody> ReadVendorBody(std::string_view body);

// The longest prefix of `text` of at most `max_bytes` that does not cut a
// UTF-8 sequence in two (so the prefix stays valid text in the database).
std::string Utf8Prefix(std::string_view text, size_t max_bytes);

}  // namespace broadcastd
