#pragma once
// An HttpTransport that records every request and plays answers a test
// scripted in advance, in order. Running out of answers is a test bug: it
// answers kNotSent with a detail saying so, and the test sees the count.

#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "easemob/transport.h"

namespace broadcastd {

class ScriptedTransport final : public HttpTransport {
 public:
  // Queues a full answer.
  void Push(TransportResult result) { script_.push_back(std::move(result)); }

  // Queues an HTTP answer with `status` and `body`.
  void PushHttp(int status, std::string body) {
    TransportResult result;
    result.response.status = status;
    result.response.body = std::move(body);
    Push(std::move(result));
  }

  // Queues a failure without an HTTP answer.
  void PushFailure(TransportFailure failure, std::string detail) {
    TransportResult result;
    result.failure = failure;
    result.detail = std::move(detail);
    Push(std::move(result));
  }

  TransportResult Send(const HttpRequest& request) override {
    requests_.push_back(request);
    if (script_.empty()) {
      TransportResult none;
      none.failure = TransportFailure::kNotSent;
      none.detail = "ScriptedTransport: no answer scripted";
      return none;
    }
    TransportResult next = std::move(script_.front());
    script_.pop_front();
    return next;
  }

  const std::vector<HttpRequest>& requests() const { return requests_; }
  size_t unplayed() const { return script_.size(); }

  // Requests whose URL ends with `suffix` (e.g. "/token").
  size_t CountUrlSuffix(std::string_view suffix) const {
    size_t n = 0;
    for (const HttpRequest& r : requests_) n += r.url.ends_with(suffix) ? 1 : 0;
    return n;
  }

  // The value of header `name` in `request`, or "" when absent.
  static std::string Header(const HttpRequest& request, std::string_view name) {
    for (const auto& [key, value] : request.headers) {
      if (key == name) return value;
    }
    return "";
  }

 private:
  std::deque<TransportResult> script_;
  std::vector<HttpRequest> requests_;
};

}  // namespace broadcastd
