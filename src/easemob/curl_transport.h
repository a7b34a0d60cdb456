#pragma once
// HttpTransport over libcurl, built so that a request is never sent twice
// without us knowing: every request on a fresh connection, no redirects.

#include <atomic>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error.h"
#include "easemob/transport.h"

namespace broadcastd {

struct CurlOptions {
  Duration connect_timeout{10000};  // TCP + TLS handshake
  Duration total_timeout{30000};    // the whole request, answer included
  long low_speed_limit = 1;         // bytes/s below which...
  Duration low_speed_time{15000};   // ...for this long the transfer is abandoned
};

// Whether `url` may be requested: https:// to any host, http:// only to a
// loopback host (127.0.0.0/8, ::1, localhost); nothing else. On refusal the
// error says why. Pure: no name resolution, no I/O.
Status CheckUrlPolicy(std::string_view url);

class CurlTransport final : public HttpTransport {
 public:
  // Initialises libcurl globally on first construction (once per process).
  explicit CurlTransport(CurlOptions options = {});

  // A URL refused by CheckUrlPolicy is kNotSent without any network I/O.
  // TLS peer and host verification are always on. Each call uses a new
  // connection that is closed afterwards, because libcurl silently resends a
  // POST when a kept-alive connection turns out dead. Failures map to
  // kNotSent only when the request provably never left (resolve, connect,
  // TLS handshake, or a timeout before the connection was up); every other
  // failure is kMaybeSent. Blocks up to options.total_timeout, or until
  // Abort(). Thread-safe.
  TransportResult Send(const HttpRequest& request) override;
  void Abort() override { aborted_.store(true); }

 private:
  CurlOptions options_;
  std::atomic<bool> aborted_{false};  // the one state calls share
};

}  // namespace broadcastd
