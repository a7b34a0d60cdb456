#include "daemon/http_listener.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <thread>

#include "core/log_value.h"
#include "status/gather_status.h"
#include "status/send_forecast.h"
#include "store/configured_store.h"
#include "store/store.h"
#include "web/metrics.h"
#include "web/status_page.h"

namespace broadcastd {

struct HttpListener::State {
  Config config;
  const Clock& clock;
  httplib::Server server;
  std::thread thread;
  int port = 0;
};

namespace {

void Failure(httplib::Response& res, const Error& error) {
  spdlog::warn("http.failed reason={}", LogValue(error.message));
  res.status = 503;
  res.set_content("broadcastd: " + error.message + "\n", "text/plain; charset=utf-8");
}

}  // namespace

HttpListener::HttpListener(std::unique_ptr<State> state) : state_(std::move(state)) {}

HttpListener::~HttpListener() {
  state_->server.stop();
  if (state_->thread.joinable()) state_->thread.join();
}

int HttpListener::port() const { return state_->port; }

Result<std::unique_ptr<HttpListener>> HttpListener::Start(const Config& config,
                                                          const Clock& clock) {
  if (!config.http_listen) return std::unique_ptr<HttpListener>();
  auto address = ParseListenAddress(*config.http_listen);
  if (!address) return std::unexpected(address.error());
  if (!address->loopback && !config.http_listen_public) {
    return Fail(ErrorKind::kInvalid, "http_listen " + *config.http_listen +
                                         " is not a loopback address and http_listen_public "
                                         "is not true");
  }
  auto state = std::unique_ptr<State>(new State{config, clock, {}, {}, 0});
  State* s = state.get();
  httplib::Server& server = s->server;
  server.new_task_queue = [] { return new httplib::ThreadPool(kHttpThreads); };
  server.set_payload_max_length(kHttpMaxRequest);
  server.set_read_timeout(kHttpTimeout);
  server.set_write_timeout(kHttpTimeout);
  server.set_keep_alive_max_count(10);

  server.Get("/metrics", [s](const httplib::Request&, httplib::Response& res) {
    auto store = OpenConfiguredStore(s->config, Store::Mode::kReadOnly);
    if (!store) return Failure(res, store.error());
    auto text = RenderMetrics(s->config, *store, s->clock.Read(), s->clock.BootId());
    if (!text) return Failure(res, text.error());
    res.set_content(*text, "text/plain; version=0.0.4; charset=utf-8");
  });
  server.Get("/", [s](const httplib::Request&, httplib::Response& res) {
    auto store = OpenConfiguredStore(s->config, Store::Mode::kReadOnly);
    if (!store) return Failure(res, store.error());
    // One reading of both clocks for the whole page, with its boot, as --status takes.
    const Instant now = s->clock.Read();
    const std::string boot_id = s->clock.BootId();
    auto report =
        GatherStatus(s->config, *store, now, {.state = JobState::kUnknown, .limit = 50}, boot_id);
    if (!report) return Failure(res, report.error());
    auto forecast = ForecastSends(s->config, *store, now, kTimelineSpan, boot_id);
    if (!forecast) return Failure(res, forecast.error());
    res.set_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
    res.set_content(RenderStatusPage(*report, *forecast), "text/html; charset=utf-8");
  });
  // Everything else is read-only too: other methods get 405 from cpp-httplib's default.

  if (address->port == 0 ? false : !server.bind_to_port(address->host, address->port)) {
    return Fail(ErrorKind::kIo, "http_listen " + *config.http_listen + ": cannot bind");
  }
  if (address->port == 0) {
    s->port = server.bind_to_any_port(address->host);
    if (s->port < 0)
      return Fail(ErrorKind::kIo, "http_listen " + *config.http_listen + ": cannot bind");
  } else {
    s->port = address->port;
  }
  s->thread = std::thread([s] { s->server.listen_after_bind(); });
  spdlog::info("http.listening address={} port={}", LogValue(address->host), s->port);
  return std::unique_ptr<HttpListener>(new HttpListener(std::move(state)));
}

}  // namespace broadcastd
