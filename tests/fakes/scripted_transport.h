#pragma once
// An HttpTransport that records every request and plays answers a test
// scripted in advance, in order. Running out of answers is a test bug: it
// answers kNotSent with a detail saying so, and the test sees the count.

#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "easemob/transport.h"
#include "fakes/fake_clock.h"

namespace broadcastd {

class ScriptedTransport final : public HttpTransport {
 public:
  // Queues a full answer.
  void Push(TransportResult result) { script_.push_back(Scripted{std::move(result), Duration{0}}); }

  // Queues an HTTP answer with `status` and `body`.
  void PushHttp(int status, std::string body) {
    TransportResult result;
    result.response.status = status;
    result.response.body = std::move(body);
    Push(std::move(result));
  }

  // Queues an HTTP answer that the server takes `delay` to give: with a clock
  // attached, Send advances it by that much (a slow token endpoint, say).
  void PushHttpAfter(Duration delay, int status, std::string body) {
    PushHttp(status, std::move(body));
    script_.back().delay = delay;
  }

  // Makes Send note the time each request arrives (times()) and advance the clock
  // by the delay of a PushHttpAfter answer.
  void AttachClock(FakeClock* clock) { clock_ = clock; }

  // Queues a failure without an HTTP answer.
  void PushFailure(TransportFailure failure, std::string detail) {
    TransportResult result;
    result.failure = failure;
    result.detail = std::move(detail);
    Push(std::move(result));
  }

  TransportResult Send(const HttpRequest& request) override {
    requests_.push_back(request);
    if (clock_ != nullptr) times_.push_back(clock_->Now());
    if (script_.empty()) {
      TransportResult none;
      none.failure = TransportFailure::kNotSent;
      none.detail = "ScriptedTransport: no answer scripted";
      return none;
    }
    Scripted next = std::move(script_.front());
    script_.pop_front();
    if (clock_ != nullptr) clock_->Advance(next.delay);
    return std::move(next.result);
  }

  const std::vector<HttpRequest>& requests() const { return requests_; }
  // With a clock attached: when each request of requests() arrived.
  const std::vector<TimePoint>& times() const { return times_; }
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
  struct Scripted {
    TransportResult result;
    Duration delay;
  };
  std::deque<Scripted> script_;
  std::vector<HttpRequest> requests_;
  std::vector<TimePoint> times_;
  FakeClock* clock_ = nullptr;
};

}  // namespace broadcastd
