#include "config/app_host.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace broadcastd {
namespace {

bool IsLoopback(std::string_view host) {
  std::string lower(host);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "localhost") return true;
  if (lower.size() >= 2 && lower.front() == '[' && lower.back() == ']') {
    std::string inner = lower.substr(1, lower.size() - 2);
    in6_addr v6{};
    return inet_pton(AF_INET6, inner.c_str(), &v6) == 1 &&
           std::memcmp(&v6, &in6addr_loopback, sizeof v6) == 0;
  }
  in_addr v4{};
  if (inet_pton(AF_INET, lower.c_str(), &v4) != 1) return false;
  return (ntohl(v4.s_addr) >> 24) == 127;
}

bool ValidPort(std::string_view port) {
  if (port.empty() || port.size() > 5) return false;
  if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  int value = std::stoi(std::string(port));
  return value >= 1 && value <= 65535;
}

}  // namespace

Result<std::string> CheckAppHost(std::string_view host) {
  bool https = host.starts_with("https://");
  bool http = host.starts_with("http://");
  if (!https && !http) return Fail("must start with https:// (or http:// to a loopback address)");
  std::string_view authority = host.substr(https ? 8 : 7);
  if (authority.ends_with('/')) authority.remove_suffix(1);
  if (authority.find_first_of("/?#@ ") != std::string_view::npos) {
    return Fail("must be scheme://host[:port], without user, path, query or fragment");
  }
  std::string_view name = authority;
  std::string_view port;
  if (authority.starts_with('[')) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return Fail("has an unclosed '[' in the address");
    name = authority.substr(0, close + 1);
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return Fail("has text after the ']' of the address");
      port = rest.substr(1);
      if (!ValidPort(port)) return Fail("has an invalid port");
    }
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    name = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (!ValidPort(port)) return Fail("has an invalid port");
  }
  if (name.empty() || name == "[]") return Fail("has no host name");
  if (!name.starts_with('[') && name.find(':') != std::string_view::npos) {
    return Fail("needs an IPv6 address in brackets, e.g. http://[::1]:8080");
  }
  if (http && !IsLoopback(name)) {
    return Fail(
        "http:// is allowed only to loopback addresses (127.0.0.0/8, ::1, localhost); "
        "use https://");
  }
  return std::string(host.substr(0, host.size() - (host.ends_with('/') ? 1 : 0)));
}

}  // namespace broadcastd
