#pragma once
// The seam between the broadcast client and the network. CurlTransport is the
// real one; tests play scripted answers (tests/fakes/scripted_transport.h).

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"

namespace broadcastd {

struct HttpRequest {
  std::string method;  // "POST" or "GET"
  std::string url;     // absolute: "https://host/org/app/messages/broadcast"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names as the server sent them
};

// What a failure without an HTTP answer says about the request. The
// difference decides whether resending may deliver a broadcast twice.
enum class TransportFailure {
  kNone,       // an HTTP answer arrived: see response
  kNotSent,    // DNS failure, connection refused, TLS handshake/verification failure,
               // a URL refused by policy: the request provably never left, so it spends
               // no window and no budget (limiter.h, NeverWritten)
  kMaybeSent,  // timeout after the body was (possibly) sent, reset, empty reply, ...
};

struct TransportResult {
  TransportFailure failure = TransportFailure::kNone;
  std::string detail;                   // why, for logs; never holds a header value
  HttpResponse response;                // meaningful only when failure == kNone
  std::optional<Duration> retry_after;  // a Retry-After the server sent, if any
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Sends one request and waits for its answer. Never throws. A request is
  // sent at most once: an implementation never resends by itself.
  virtual TransportResult Send(const HttpRequest& request) = 0;
  // Gives up, at shutdown: every request in flight returns soon (within about a
  // second) as a failure, kMaybeSent when it may have left, and later ones are
  // kNotSent without any I/O. Callable from any thread. The default does nothing:
  // a transport whose requests end by themselves needs none.
  virtual void Abort() {}
};

}  // namespace broadcastd
