#include "daemon/http_listener.h"

#include <spdlog/spdlog.h>

#include <atomic>

#include "core/log_value.h"
#include "status/gather_status.h"
#include "status/listener_notice.h"
#include "status/send_forecast.h"
#include "store/configured_store.h"
#include "store/store.h"
#include "web/http_server.h"
#include "web/metrics.h"
#include "web/status_page.h"

namespace broadcastd {

struct HttpListener::State {
  Config config;
  const Clock& clock;
  std::atomic<int> bind_failures{0};
  std::unique_ptr<HttpServer> server;
};

namespace {

HttpAnswer Failure(const Error& error) {
  spdlog::warn("http.failed reason={}", LogValue(error.message));
  HttpAnswer answer;
  answer.status = 503;
  answer.body = "broadcastd: " + error.message + "\n";
  return answer;
}

HttpAnswer Metrics(const Config& config, const Clock& clock, int bind_failures) {
  auto store = OpenConfiguredStore(config, Store::Mode::kReadOnly);
  if (!store) return Failure(store.error());
  auto text = RenderMetrics(config, *store, clock.Read(), clock.BootId());
  if (!text) return Failure(text.error());
  *text +=
      "# HELP broadcastd_http_bind_failures_total Failed binds of http_listen since the daemon "
      "started (each retried).\n# TYPE broadcastd_http_bind_failures_total counter\n"
      "broadcastd_http_bind_failures_total " +
      std::to_string(bind_failures) + "\n";
  HttpAnswer answer;
  answer.content_type = "text/plain; version=0.0.4; charset=utf-8";
  answer.body = std::move(*text);
  return answer;
}

HttpAnswer Page(const Config& config, const Clock& clock) {
  auto store = OpenConfiguredStore(config, Store::Mode::kReadOnly);
  if (!store) return Failure(store.error());
  // One reading of both clocks for the whole page, with its boot, as --status takes.
  const Instant now = clock.Read();
  const std::string boot_id = clock.BootId();
  auto report =
      GatherStatus(config, *store, now, {.state = JobState::kUnknown, .limit = 50}, boot_id);
  if (!report) return Failure(report.error());
  auto forecast = ForecastSends(config, *store, now, kTimelineSpan, boot_id);
  if (!forecast) return Failure(forecast.error());
  HttpAnswer answer;
  answer.content_type = "text/html; charset=utf-8";
  answer.headers.emplace_back("Content-Security-Policy",
                              "default-src 'none'; style-src 'unsafe-inline'");
  answer.body = RenderStatusPage(*report, *forecast);
  return answer;
}

}  // namespace

HttpListener::HttpListener(std::unique_ptr<State> state) : state_(std::move(state)) {}

HttpListener::~HttpListener() {
  state_->server.reset();
  ClearListenerNotice(state_->config);
}

int HttpListener::port() const { return state_->server->port(); }

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
  auto state = std::unique_ptr<State>(new State{config, clock, {}, {}});
  State* s = state.get();
  HttpRoutes routes;
  routes["/metrics"] = [s] { return Metrics(s->config, s->clock, s->bind_failures); };
  routes["/"] = [s] { return Page(s->config, s->clock); };
  HttpServerLimits limits;
  limits.max_connections = kHttpMaxConnections;
  limits.max_head_bytes = kHttpMaxHead;
  limits.read_timeout = kHttpTimeout;
  limits.bind_retry_first = kHttpBindRetryFirst;
  limits.bind_retry_cap = kHttpBindRetryCap;
  const std::string listen = *config.http_listen;
  auto on_bind = [s, listen](const HttpBindEvent& event) {
    if (event.error.empty()) {
      spdlog::info("http.listening address={} port={}", LogValue(listen), event.port);
      ClearListenerNotice(s->config);
      return;
    }
    s->bind_failures = event.failures;
    spdlog::error(
        "http.bind_failed address={} reason={} failures={} retry_in_ms={} action=\"sending goes "
        "on; the page and /metrics wait for the bind\"",
        LogValue(listen), LogValue(event.error), event.failures, event.retry_in.count());
    WriteListenerNotice(s->config, event.error + " (" + std::to_string(event.failures) +
                                       " failed binds; retried every " +
                                       std::to_string(event.retry_in.count() / 1000) + " s)");
  };
  auto server = HttpServer::Start(address->host, address->port, std::move(routes), limits,
                                  std::move(on_bind));
  if (!server) return std::unexpected(server.error());
  s->server = std::move(*server);
  return std::unique_ptr<HttpListener>(new HttpListener(std::move(state)));
}

}  // namespace broadcastd
