#pragma once
// The read-only HTTP listener of `http_listen`: Prometheus metrics at /metrics and the
// status page at /, served by web/http_server.h from its own thread, which opens its own
// read-only Store per request, so the daemon's loop never waits for a scrape and no
// connection is shared between threads.
//
// The listener can never harm sending: at most kHttpMaxConnections connections (the unit's
// LimitNOFILE leaves the sender room beyond them), a request head of at most kHttpMaxHead
// bytes in total, kHttpTimeout to send a head or take an answer, and a bind that fails (the
// port taken) is logged, shown by --status (status/listener_notice.h) and retried with a
// capped backoff while the daemon runs and sends.

#include <memory>

#include "config/config.h"
#include "core/clock.h"
#include "core/error.h"

namespace broadcastd {

inline constexpr size_t kHttpMaxConnections = 64;
inline constexpr size_t kHttpMaxHead = 8192;
inline constexpr std::chrono::seconds kHttpTimeout{5};
inline constexpr std::chrono::seconds kHttpBindRetryFirst{1};
inline constexpr std::chrono::seconds kHttpBindRetryCap{60};

class HttpListener {
 public:
  // Serves config.http_listen until destroyed; nullptr when it is not set. Fails only when
  // the address is not loopback and config.http_listen_public is false (or the listener's
  // thread cannot start): a bind that fails is retried, not an error. `clock` must outlive
  // the listener.
  static Result<std::unique_ptr<HttpListener>> Start(const Config& config, const Clock& clock);
  ~HttpListener();

  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  int port() const;  // the bound port (useful with port 0 in tests); 0 while not bound

 private:
  struct State;
  explicit HttpListener(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace broadcastd
