#include "config/config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstdlib>
#include <system_error>

#include "database_uri/database_uri.h"

namespace broadcastd {

EndpointLimits Config::LimitsFor(const std::string& app, BroadcastTarget target) const {
  auto limit = limits.find(target);
  EndpointLimits result = limit != limits.end() ? limit->second : DefaultLimits(target);
  if (auto a = apps.find(app); a != apps.end()) {
    if (auto daily = a->second.daily_budget.find(target); daily != a->second.daily_budget.end()) {
      result.daily = daily->second;
    }
  }
  return result;
}

bool Config::DatabaseIsPostgres() const { return IsPostgresUri(database.native()); }

std::filesystem::path CredentialsDirectory(const Config& config) {
  if (const char* dir = std::getenv("CREDENTIALS_DIRECTORY"); dir && *dir) return dir;
  std::error_code ec;
  std::filesystem::path source = std::filesystem::absolute(config.source, ec);
  return (ec ? config.source : source).parent_path() / "credentials";
}

std::string HostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

}  // namespace broadcastd

namespace broadcastd {

Result<ListenAddress> ParseListenAddress(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return Fail(ErrorKind::kInvalid, "\"" + text + "\": " + why + " (want HOST:PORT)");
  };
  ListenAddress address;
  std::string port;
  if (text.starts_with('[')) {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return bad("an IPv6 host needs [HOST]:PORT");
    }
    address.host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos) return bad("no port");
    address.host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (address.host.find(':') != std::string::npos) return bad("an IPv6 host needs brackets");
  }
  if (address.host.empty()) return bad("no host");
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) > 65535) {
    return bad("the port must be a number from 0 (any free port) to 65535");
  }
  address.port = std::stoi(port);
  in_addr v4{};
  in6_addr v6{};
  if (address.host == "localhost") {
    address.loopback = true;
  } else if (::inet_pton(AF_INET, address.host.c_str(), &v4) == 1) {
    address.loopback = (ntohl(v4.s_addr) >> 24) == 127;
  } else if (::inet_pton(AF_INET6, address.host.c_str(), &v6) == 1) {
    address.loopback = IN6_IS_ADDR_LOOPBACK(&v6);
  } else {
    return bad("the host must be an IP address or localhost");
  }
  return address;
}

}  // namespace broadcastd
