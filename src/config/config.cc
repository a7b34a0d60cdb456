#include "config/config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstdlib>
#include <system_error>

#include "core/url.h"
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
  // Read as libcurl reads a URL's authority: "[::1]:80", "127.0.0.1:0", "localhost:9464".
  auto url = ParseUrl("http://" + text);
  if (!url) return bad(url.error().message);
  if (url->has_userinfo || url->path != "/" || text.ends_with('/') || url->has_query_or_fragment) {
    return bad("only a host and a port");
  }
  if (!url->port) return bad("no port");
  ListenAddress address;
  address.host = url->host;
  if (address.host.starts_with('[')) address.host = address.host.substr(1, address.host.size() - 2);
  address.port = *url->port;
  address.loopback = url->loopback;
  in_addr v4{};
  in6_addr v6{};
  if (!address.loopback && ::inet_pton(AF_INET, address.host.c_str(), &v4) != 1 &&
      ::inet_pton(AF_INET6, address.host.c_str(), &v6) != 1) {
    return bad("the host must be an IP address or localhost");
  }
  return address;
}

}  // namespace broadcastd
