#pragma once
// The read-only HTTP listener of `http_listen`: Prometheus metrics at /metrics and the
// status page at /. Its own threads (a fixed pool of kHttpThreads) each open their own
// read-only Store per request, so the daemon's loop never waits for a scrape and no
// connection is shared between threads. GET and HEAD only; requests are bounded
// (kHttpMaxRequest bytes of body, the URI and headers by cpp-httplib's 8 KiB limits)
// and time out after kHttpTimeout.

#include <memory>

#include "config/config.h"
#include "core/clock.h"
#include "core/error.h"

namespace broadcastd {

inline constexpr size_t kHttpThreads = 2;
inline constexpr size_t kHttpMaxRequest = 4096;
inline constexpr std::chrono::seconds kHttpTimeout{5};

class HttpListener {
 public:
  // Binds config.http_listen and serves until destroyed; nullptr when it is not set.
  // Fails when the address is not loopback and config.http_listen_public is false, or
  // the bind fails. `clock` must outlive the listener.
  static Result<std::unique_ptr<HttpListener>> Start(const Config& config, const Clock& clock);
  ~HttpListener();

  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  int port() const;  // the bound port (useful with port 0 in tests)

 private:
  struct State;
  explicit HttpListener(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace broadcastd
