#pragma once
// URLs of one app's endpoints: {host}/{org}/{app}{path}.

#include <string>
#include <string_view>

#include "config/config.h"

namespace broadcastd {

// REQUIRES path to start with '/'. A trailing '/' on host is ignored.
inline std::string AppUrl(const AppConfig& app, std::string_view path) {
  std::string_view host = app.host;
  while (!host.empty() && host.back() == '/') host.remove_suffix(1);
  std::string url(host);
  url += '/';
  url += app.org;
  url += '/';
  url += app.app;
  url += path;
  return url;
}

}  // namespace broadcastd
