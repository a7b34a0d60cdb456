#pragma once
// URLs read by libcurl's URL API (curl_url), the parser the transport itself
// uses: a host, port or scheme is what libcurl will connect to, not what a second
// parser beside it thinks. Used for apps' `host`, `http_listen` and every request's
// URL, with the one loopback rule below.

#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace broadcastd {

struct UrlParts {
  std::string scheme;         // lower case: "https"
  std::string host;           // as libcurl reads it; an IPv6 address keeps its brackets
  std::optional<int> port;    // as written (0 to 65535); none when the URL gives none
  bool has_userinfo = false;  // "user@", "user:password@" (even empty)
  // What follows the authority: "/" alone when there is nothing (or a single "/").
  std::string path;
  bool has_query_or_fragment = false;
  bool loopback = false;  // IsLoopbackHost(host)
};

// Parses `url` (scheme://[userinfo@]host[:port][/path][?query][#fragment]) with
// curl_url. Fails (kInvalid, the message saying why in libcurl's words) when
// libcurl would not take it. Pure: no name resolution, no I/O.
Result<UrlParts> ParseUrl(std::string_view url);

// Whether `host` is a loopback address: localhost (any case), 127.0.0.0/8 or ::1
// (with or without brackets). A name is not resolved: "localhost.example" is not.
bool IsLoopbackHost(std::string_view host);

}  // namespace broadcastd
