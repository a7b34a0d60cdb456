#pragma once
// A bare HTTP/1.1 server on 127.0.0.1 for transport tests: plain sockets and
// one thread, so a test controls exactly what happens on the wire (answer,
// close without answering, never answer) and counts connections and requests.

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace broadcastd {

struct RawRequest {
  std::string head;  // request line and headers
  std::string body;  // Content-Length bytes
};

class LoopbackServer {
 public:
  // Runs `session` for each accepted connection, one at a time, on the
  // server thread. The session owns nothing: the server closes the socket
  // after it returns.
  using Session = std::function<void(int fd, LoopbackServer& server)>;

  explicit LoopbackServer(Session session) : session_(std::move(session)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    listen(listen_fd_, 16);
    socklen_t length = sizeof address;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    if (pipe(stop_pipe_) != 0) stop_pipe_[0] = stop_pipe_[1] = -1;
    thread_ = std::thread([this] { Serve(); });
  }

  ~LoopbackServer() {
    Stop();
    close(listen_fd_);
    close(stop_pipe_[0]);
    close(stop_pipe_[1]);
  }

  int port() const { return port_; }
  std::string Url(const std::string& path = "/org/app/messages/broadcast") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  // Ends the server: sessions waiting in ReadRequest or WaitForStop return.
  // Connections still queued are accepted and read first, so nothing a
  // client sent goes uncounted.
  void Stop() {
    if (!thread_.joinable()) return;
    char byte = 'x';
    (void)!write(stop_pipe_[1], &byte, 1);
    thread_.join();
  }

  // Reads one request (headers, then a body of Content-Length bytes); nullopt
  // on end of stream or Stop. Counts it.
  std::optional<RawRequest> ReadRequest(int fd) {
    std::string data;
    size_t head_end = std::string::npos;
    size_t need = 0;
    while (true) {
      if (head_end == std::string::npos) {
        head_end = data.find("\r\n\r\n");
        if (head_end != std::string::npos)
          need = head_end + 4 + ContentLength(data.substr(0, head_end));
      }
      if (head_end != std::string::npos && data.size() >= need) break;
      if (!WaitReadable(fd)) return std::nullopt;
      char buffer[4096];
      ssize_t n = read(fd, buffer, sizeof buffer);
      if (n <= 0) return std::nullopt;
      data.append(buffer, static_cast<size_t>(n));
    }
    RawRequest request{data.substr(0, head_end), data.substr(head_end + 4, need - head_end - 4)};
    std::lock_guard lock(mutex_);
    requests_.push_back(request);
    return request;
  }

  static void Write(int fd, const std::string& text) {
    size_t done = 0;
    while (done < text.size()) {
      ssize_t n = send(fd, text.data() + done, text.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return;
      done += static_cast<size_t>(n);
    }
  }

  // Blocks until Stop: a server that never answers.
  void WaitForStop() {
    pollfd stop{stop_pipe_[0], POLLIN, 0};
    poll(&stop, 1, -1);
  }

  int connections() const { return connections_; }
  std::vector<RawRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  static size_t ContentLength(const std::string& head) {
    std::string lower = head;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t at = lower.find("\r\ncontent-length:");
    if (at == std::string::npos) return 0;
    return std::stoul(lower.substr(at + 17));
  }

  // Readable data, or false once Stop was asked and nothing is left to read.
  bool WaitReadable(int fd) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    poll(fds, 2, -1);
    if (fds[0].revents != 0) return true;
    return false;
  }

  void Serve() {
    while (true) {
      pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
      poll(fds, 2, -1);
      if (fds[1].revents != 0) break;
      RunOne(accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC));
    }
    // Drain whatever is queued without waiting for more.
    while (true) {
      pollfd pending{listen_fd_, POLLIN, 0};
      if (poll(&pending, 1, 0) <= 0) break;
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0) break;
      ++connections_;
      pollfd ready{fd, POLLIN, 0};
      if (poll(&ready, 1, 0) > 0) ReadRequest(fd);
      close(fd);
    }
  }

  void RunOne(int fd) {
    if (fd < 0) return;
    ++connections_;
    session_(fd, *this);
    close(fd);
  }

  Session session_;
  int listen_fd_ = -1;
  int port_ = 0;
  int stop_pipe_[2] = {-1, -1};
  std::atomic<int> connections_ = 0;
  mutable std::mutex mutex_;
  std::vector<RawRequest> requests_;
  std::thread thread_;
};

}  // namespace broadcastd
