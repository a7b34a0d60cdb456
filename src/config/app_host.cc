#include "config/app_host.h"

#include "core/url.h"

namespace broadcastd {

Result<std::string> CheckAppHost(std::string_view host) {
  auto url = ParseUrl(host);
  if (!url) {
    return Fail(
        ErrorKind::kInvalid,
        "must be https://host[:port] (or http:// to a loopback address): " + url.error().message);
  }
  if (url->scheme != "https" && url->scheme != "http") {
    return Fail(ErrorKind::kInvalid, "must start with https:// (or http:// to a loopback address)");
  }
  if (url->has_userinfo || url->path != "/" || url->has_query_or_fragment) {
    return Fail(ErrorKind::kInvalid,
                "must be scheme://host[:port], without user, path, query or fragment");
  }
  if (url->port == 0) return Fail(ErrorKind::kInvalid, "has an invalid port");
  if (url->scheme == "http" && !url->loopback) {
    return Fail(ErrorKind::kInvalid,
                "http:// is allowed only to loopback addresses (127.0.0.0/8, ::1, localhost); "
                "use https://");
  }
  return std::string(host.substr(0, host.size() - (host.ends_with('/') ? 1 : 0)));
}

}  // namespace broadcastd
