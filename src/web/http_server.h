#pragma once
// A small read-only HTTP/1.1 server for the status page and /metrics, built so that no
// client can harm the daemon that hosts it:
// - at most `max_connections` open at once; a connection beyond it is accepted and closed
//   at once, so the daemon's descriptors stay bounded whatever connects;
// - a request's head (request line and every header) is bounded in total, not per line:
//   a client that streams header lines without end gets 431 and is closed;
// - a connection must deliver a complete head within `read_timeout` of its previous answer
//   (or of its accept), and take its answer within `read_timeout` too: an idle or slow
//   client is closed, one byte at a time buys no time;
// - GET and HEAD only; any other method is answered 405 with `Allow: GET, HEAD`. A request
//   with a body is answered and the connection closed (the body is never read);
// - pipelined requests are answered one after the other, in order, on the same connection:
//   the next request is read only once the previous answer is written, so an answer waiting
//   for a client that does not read holds no more than one answer in memory.
// One thread serves everything (poll), so a handler runs alone; the daemon's loop never
// waits for it. A bind that fails (the port taken) is retried with a capped backoff from the
// same thread; `on_bind` hears of every failure and of the bind that succeeds.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace broadcastd {

struct HttpServerLimits {
  size_t max_connections = 64;
  size_t max_head_bytes = 8192;
  std::chrono::milliseconds read_timeout{5000};
  std::chrono::milliseconds bind_retry_first{1000};
  std::chrono::milliseconds bind_retry_cap{60000};
};

struct HttpAnswer {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Path (without the query) -> what answers a GET or HEAD of it. Called on the server's
// thread only.
using HttpRoutes = std::map<std::string, std::function<HttpAnswer()>>;

// What became of a bind: `error` empty once bound (then `port` is the bound port).
struct HttpBindEvent {
  std::string error;
  int port = 0;
  int failures = 0;  // failed binds so far, this one included
  std::chrono::milliseconds retry_in{0};
};

class HttpServer {
 public:
  // Tries to bind host:port at once (port 0: any free port), then serves from its own
  // thread until destroyed. A failed bind is not an error here: `on_bind` is told and the
  // thread tries again later. Fails only when the thread or its descriptors cannot be
  // made. `on_bind` runs on the calling thread for the first attempt and on the server's
  // thread afterwards.
  static Result<std::unique_ptr<HttpServer>> Start(
      std::string host, int port, HttpRoutes routes, HttpServerLimits limits,
      std::function<void(const HttpBindEvent&)> on_bind);
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const;  // the bound port; 0 while not bound

 private:
  struct State;
  explicit HttpServer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace broadcastd
