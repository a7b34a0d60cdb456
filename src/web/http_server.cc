#include "web/http_server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <list>
#include <optional>
#include <string_view>
#include <thread>

namespace broadcastd {
namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How long accepting pauses when the process is out of descriptors: the listening socket
// stays readable, and trying again at once would spin.
constexpr milliseconds kAcceptPause{200};

struct Connection {
  int fd = -1;
  std::string in;
  std::string out;
  size_t written = 0;
  bool close_after = false;
  bool eof = false;  // the peer sent all it will: answer what came, then close
  SteadyClock::time_point deadline;
};

std::string_view Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 414:
      return "URI Too Long";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// The bytes of one answer; `head_only` for HEAD (the length is the GET's).
std::string Serialize(const HttpAnswer& answer, bool head_only, bool close) {
  std::string out = "HTTP/1.1 " + std::to_string(answer.status) + " " +
                    std::string(Reason(answer.status)) + "\r\n";
  out += "Content-Type: " + answer.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(answer.body.size()) + "\r\n";
  for (const auto& [name, value] : answer.headers) out += name + ": " + value + "\r\n";
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
  if (!head_only) out += answer.body;
  return out;
}

HttpAnswer Plain(int status, std::string text) {
  HttpAnswer answer;
  answer.status = status;
  answer.body = std::move(text);
  return answer;
}

// Where a request's head ends in `in` (the index after its blank line), if it is there.
std::optional<size_t> HeadEnd(const std::string& in) {
  size_t at = 0;
  while (true) {
    const size_t nl = in.find('\n', at);
    if (nl == std::string::npos) return std::nullopt;
    // A line that is empty (or only "\r") ends the head; the request line never does.
    const size_t line_start = at;
    at = nl + 1;
    if (line_start == 0) continue;
    const std::string_view line(in.data() + line_start, nl - line_start);
    if (line.empty() || line == "\r") return at;
  }
}

}  // namespace

struct HttpServer::State {
  std::string host;
  int requested_port = 0;
  HttpRoutes routes;
  HttpServerLimits limits;
  std::function<void(const HttpBindEvent&)> on_bind;

  int listen_fd = -1;
  int stop_fd = -1;
  std::atomic<int> port{0};
  int failures = 0;
  SteadyClock::time_point next_bind;
  SteadyClock::time_point accept_after;
  bool full_logged = false;
  std::list<Connection> connections;
  std::thread thread;

  ~State() {
    for (Connection& c : connections) ::close(c.fd);
    if (listen_fd >= 0) ::close(listen_fd);
    if (stop_fd >= 0) ::close(stop_fd);
  }

  void TryBind(SteadyClock::time_point now);
  void Serve();
  // Closes the connections that timed out; returns when the poll must wake at the latest.
  std::optional<SteadyClock::time_point> CloseExpired(SteadyClock::time_point now);
  // Reads, answers and writes each connection that poll found ready; closes those done.
  void ServeReady(const std::vector<pollfd>& fds, const std::vector<Connection*>& polled,
                  SteadyClock::time_point now);
  void Accept(SteadyClock::time_point now);
  bool Read(Connection& c);
  bool Write(Connection& c, SteadyClock::time_point now);
  void Process(Connection& c);
  HttpAnswer Answer(std::string_view head, bool& head_only, bool& close);
};

// Binds and listens on host:port; the descriptor, or why not.
static Result<int> Listen(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return Fail(ErrorKind::kIo, "cannot resolve " + host + ": " + ::gai_strerror(rc));
  }
  std::string why = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      why = std::strerror(errno);
      continue;
    }
    const int on = 1;
    // Only lets a restart bind past TIME_WAIT; without it, bind below says what is wrong.
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 128) == 0) {
      ::freeaddrinfo(found);
      return fd;
    }
    why = std::strerror(errno);
    ::close(fd);  // a socket never bound: nothing to flush, nothing to learn
  }
  ::freeaddrinfo(found);
  return Fail(ErrorKind::kIo, "cannot bind: " + why);
}

static int BoundPort(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return 0;
}

void HttpServer::State::TryBind(SteadyClock::time_point now) {
  auto fd = Listen(host, requested_port);
  HttpBindEvent event;
  if (fd) {
    listen_fd = *fd;
    port = BoundPort(listen_fd);
    event.port = port;
    event.failures = failures;
  } else {
    ++failures;
    milliseconds wait = limits.bind_retry_first;
    for (int i = 1; i < failures && wait < limits.bind_retry_cap; ++i) wait *= 2;
    wait = std::min(wait, limits.bind_retry_cap);
    next_bind = now + wait;
    event.error = fd.error().message;
    event.failures = failures;
    event.retry_in = wait;
  }
  if (on_bind) on_bind(event);
}

void HttpServer::State::Accept(SteadyClock::time_point now) {
  while (true) {
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        accept_after = now + kAcceptPause;
      }
      return;
    }
    if (connections.size() >= limits.max_connections) {
      ::close(fd);  // refused: nothing was read or written on it
      if (!full_logged) {
        spdlog::warn("http.connections_full limit={} action=\"new connections closed\"",
                     limits.max_connections);
        full_logged = true;
      }
      continue;
    }
    Connection c;
    c.fd = fd;
    c.deadline = now + limits.read_timeout;
    connections.push_back(std::move(c));
  }
}

// Reads what the head bound leaves room for; false when the connection failed.
bool HttpServer::State::Read(Connection& c) {
  char buf[4096];
  const size_t room = limits.max_head_bytes - std::min(c.in.size(), limits.max_head_bytes);
  if (room == 0) return true;
  const ssize_t n = ::recv(c.fd, buf, std::min(room, sizeof buf), 0);
  if (n > 0) {
    c.in.append(buf, static_cast<size_t>(n));
    return true;
  }
  if (n == 0) {
    c.eof = true;
    return true;
  }
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

// Writes what the socket takes; false when the connection is done with.
bool HttpServer::State::Write(Connection& c, SteadyClock::time_point now) {
  while (c.written < c.out.size()) {
    const ssize_t n =
        ::send(c.fd, c.out.data() + c.written, c.out.size() - c.written, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    c.written += static_cast<size_t>(n);
  }
  c.out.clear();
  c.written = 0;
  if (c.close_after) return false;
  c.deadline = now + limits.read_timeout;
  return true;
}

HttpAnswer HttpServer::State::Answer(std::string_view head, bool& head_only, bool& close) {
  const size_t eol = head.find('\n');
  const std::string_view request_line = Trim(head.substr(0, eol));
  const size_t sp1 = request_line.find(' ');
  const size_t sp2 = request_line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) {
    close = true;
    return Plain(400, "broadcastd: malformed request line\n");
  }
  const std::string_view method = request_line.substr(0, sp1);
  const std::string_view target = Trim(request_line.substr(sp1 + 1, sp2 - sp1 - 1));
  const std::string_view version = request_line.substr(sp2 + 1);
  if (!version.starts_with("HTTP/1.")) {
    close = true;
    return Plain(400, "broadcastd: HTTP/1.x only\n");
  }
  bool body = false;
  std::string connection;
  std::string_view rest = eol == std::string_view::npos ? "" : head.substr(eol + 1);
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? "" : rest.substr(nl + 1);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string name = Lower(Trim(line.substr(0, colon)));
    const std::string_view value = Trim(line.substr(colon + 1));
    if (name == "content-length") body = body || value != "0";
    if (name == "transfer-encoding") body = true;
    if (name == "connection") connection = Lower(value);
  }
  close = version == "HTTP/1.0" ? connection.find("keep-alive") == std::string::npos
                                : connection.find("close") != std::string::npos;
  // The body is never read: where the next request would start is unknown.
  if (body) close = true;
  head_only = method == "HEAD";
  if (method != "GET" && method != "HEAD") {
    HttpAnswer answer = Plain(405, "broadcastd: read-only; GET and HEAD only\n");
    answer.headers.emplace_back("Allow", "GET, HEAD");
    return answer;
  }
  const std::string path(target.substr(0, target.find('?')));
  auto route = routes.find(path);
  if (route == routes.end()) return Plain(404, "broadcastd: no such page\n");
  return route->second();
}

// Answers the first complete request in `c.in`, if its previous answer is written.
void HttpServer::State::Process(Connection& c) {
  if (!c.out.empty() || c.close_after) return;
  const std::optional<size_t> end = HeadEnd(c.in);
  if (!end) {
    if (c.in.size() < limits.max_head_bytes) return;
    const bool no_line = c.in.find('\n') == std::string::npos;
    c.close_after = true;
    c.out = Serialize(Plain(no_line ? 414 : 431, no_line ? "broadcastd: request line too long\n"
                                                         : "broadcastd: request head too large\n"),
                      false, true);
    c.in.clear();
    return;
  }
  bool head_only = false;
  bool close = false;
  HttpAnswer answer = Answer(std::string_view(c.in).substr(0, *end), head_only, close);
  c.in.erase(0, *end);
  c.close_after = close;
  c.out = Serialize(answer, head_only, close);
}

std::optional<SteadyClock::time_point> HttpServer::State::CloseExpired(
    SteadyClock::time_point now) {
  std::optional<SteadyClock::time_point> wake;
  for (auto it = connections.begin(); it != connections.end();) {
    if (it->deadline <= now) {
      ::close(it->fd);  // a socket: nothing to flush, nothing to learn from a failure
      it = connections.erase(it);
      continue;
    }
    wake = std::min(wake.value_or(it->deadline), it->deadline);
    ++it;
  }
  return wake;
}

void HttpServer::State::ServeReady(const std::vector<pollfd>& fds,
                                   const std::vector<Connection*>& polled,
                                   SteadyClock::time_point now) {
  std::vector<Connection*> done;
  for (size_t i = 0; i < polled.size(); ++i) {
    Connection& c = *polled[i];
    const short ev = fds[i + 2].revents;
    if (ev == 0) continue;
    bool keep = true;
    if (ev & POLLOUT) {
      keep = Write(c, now);
    } else if (ev & POLLIN) {
      keep = Read(c);
    } else if (ev & (POLLERR | POLLHUP | POLLNVAL)) {
      keep = false;
    }
    // Pipelined requests already read are answered in order while the socket takes the
    // answers; one it does not take waits for POLLOUT.
    while (keep) {
      Process(c);
      if (c.out.empty()) break;
      keep = Write(c, SteadyClock::now());
      if (!c.out.empty()) break;
    }
    // Nothing more will come and nothing is left to answer.
    if (keep && c.eof && c.out.empty()) keep = false;
    if (!keep) done.push_back(&c);
  }
  for (Connection* c : done) {
    ::close(c->fd);  // a socket: nothing to flush, nothing to learn from a failure
    connections.remove_if([c](const Connection& x) { return &x == c; });
  }
}

void HttpServer::State::Serve() {
  std::vector<pollfd> fds;
  std::vector<Connection*> polled;
  while (true) {
    const auto now = SteadyClock::now();
    std::optional<SteadyClock::time_point> wake = CloseExpired(now);
    if (connections.size() < limits.max_connections) full_logged = false;
    if (listen_fd < 0) wake = std::min(wake.value_or(next_bind), next_bind);
    const bool accepting = listen_fd >= 0 && now >= accept_after;
    if (listen_fd >= 0 && !accepting) wake = std::min(wake.value_or(accept_after), accept_after);

    fds.clear();
    polled.clear();
    fds.push_back({stop_fd, POLLIN, 0});
    fds.push_back({accepting ? listen_fd : -1, POLLIN, 0});
    for (Connection& c : connections) {
      const bool reading = c.out.empty() && !c.eof && c.in.size() < limits.max_head_bytes;
      fds.push_back(
          {c.fd, static_cast<short>(c.out.empty() ? (reading ? POLLIN : 0) : POLLOUT), 0});
      polled.push_back(&c);
    }
    int timeout = -1;
    if (wake) {
      timeout = static_cast<int>(
          std::max<int64_t>(0, std::chrono::ceil<milliseconds>(*wake - now).count()));
    }
    if (::poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) return;
    if (fds[0].revents != 0) return;
    const auto after = SteadyClock::now();
    if (listen_fd < 0 && after >= next_bind) TryBind(after);
    if (fds[1].revents & POLLIN) Accept(after);
    ServeReady(fds, polled, after);
  }
}

HttpServer::HttpServer(std::unique_ptr<State> state) : state_(std::move(state)) {}

HttpServer::~HttpServer() {
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(state_->stop_fd, &one, sizeof one);
  if (state_->thread.joinable()) state_->thread.join();
}

int HttpServer::port() const { return state_->port; }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(
    std::string host, int port, HttpRoutes routes, HttpServerLimits limits,
    std::function<void(const HttpBindEvent&)> on_bind) {
  auto state = std::make_unique<State>();
  state->host = std::move(host);
  state->requested_port = port;
  state->routes = std::move(routes);
  state->limits = limits;
  state->limits.max_connections = std::max<size_t>(1, limits.max_connections);
  state->limits.max_head_bytes = std::max<size_t>(64, limits.max_head_bytes);
  state->on_bind = std::move(on_bind);
  state->stop_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (state->stop_fd < 0) {
    return Fail(ErrorKind::kIo,
                std::string("http: cannot create an eventfd: ") + std::strerror(errno));
  }
  state->TryBind(SteadyClock::now());
  State* s = state.get();
  try {
    s->thread = std::thread([s] { s->Serve(); });
  } catch (const std::system_error& e) {
    return Fail(ErrorKind::kIo, std::string("http: cannot start its thread: ") + e.what());
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(state)));
}

}  // namespace broadcastd
