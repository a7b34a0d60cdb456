// The HTTP listener cannot harm sending, checked on the real binary against the real
// simulator over loopback: a header flood (the daemon's memory stays bounded), 2,000 idle
// connections (the sends go on at their pace), a port taken at start (the daemon starts,
// sends, says so in --status and binds once the port is free), 405 and pipelining; and a
// failure on the send path that proves nothing left (the simulator's port closed) spends no
// window and no budget, and the job goes out once the port is back.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <regex>
#include <set>
#include <thread>

#include "e2e/daemon_fixture.h"

namespace broadcastd {
namespace {

// A connection to 127.0.0.1:port, or -1 when it is refused or not accepted within 1 s (a
// full accept queue otherwise holds connect() for minutes).
int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const timeval limit{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool SendAll(int fd, const std::string& data) {
  size_t at = 0;
  while (at < data.size()) {
    const ssize_t n = ::send(fd, data.data() + at, data.size() - at, MSG_NOSIGNAL);
    if (n <= 0) return false;
    at += static_cast<size_t>(n);
  }
  return true;
}

std::string ReadUntilClosed(int fd, std::chrono::milliseconds wait = 20s) {
  std::string out;
  const auto end = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[8192];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// A TCP relay on loopback to the simulator: Close() stops listening (a connect is then
// refused) and drops its connections; Open() listens on the same port again. The simulator
// itself keeps running, so the token it issued stays valid.
class Relay {
 public:
  explicit Relay(int to) : to_(to) { Open(); }
  ~Relay() { Close(); }
  int port() const { return port_; }

  void Open() {
    listen_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int on = 1;
    ::setsockopt(listen_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listen_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(listen_, 16), 0);
    socklen_t len = sizeof addr;
    ::getsockname(listen_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    stop_ = false;
    thread_ = std::thread([this] { Run(); });
  }

  void Close() {
    if (!thread_.joinable()) return;
    stop_ = true;
    thread_.join();
  }

 private:
  void Run() {
    std::vector<std::pair<int, int>> pairs;  // (from, to), both directions listed
    while (!stop_) {
      std::vector<pollfd> fds{{listen_, POLLIN, 0}};
      for (const auto& [from, to] : pairs) fds.push_back({from, POLLIN, 0});
      if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
      const size_t polled = pairs.size();  // fds[1..] are these; an accept adds more below
      if (fds[0].revents & POLLIN) {
        const int client = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC);
        const int server = client >= 0 ? Connect(to_) : -1;
        if (server >= 0) {
          pairs.emplace_back(client, server);
          pairs.emplace_back(server, client);
        } else if (client >= 0) {
          ::close(client);
        }
      }
      std::set<int> dead;
      for (size_t i = 0; i < polled; ++i) {
        if (fds[i + 1].revents == 0) continue;
        char buf[16384];
        const ssize_t n = ::recv(pairs[i].first, buf, sizeof buf, 0);
        if (n <= 0 || !SendAll(pairs[i].second, std::string(buf, static_cast<size_t>(n)))) {
          dead.insert(pairs[i].first);
          dead.insert(pairs[i].second);
        }
      }
      std::erase_if(pairs, [&](const auto& p) { return dead.contains(p.first); });
      for (int fd : dead) ::close(fd);
    }
    std::set<int> open;
    for (const auto& [from, to] : pairs) open.insert(from);
    for (int fd : open) ::close(fd);
    ::close(listen_);
  }

  int to_;
  int port_ = 0;
  int listen_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// VmRSS of `pid` in KiB, from /proc.
long RssKiB(pid_t pid) {
  std::istringstream in(ReadFile("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
  }
  return -1;
}

class ListenerE2ETest : public DaemonE2ETest {
 protected:
  // The config with http_listen on `port` (0: any; the log says which).
  void Listen(int port) {
    std::string config = ReadFile(dir_ / "broadcastd.yaml");
    config = "http_listen: 127.0.0.1:" + std::to_string(port) + "\n" + config;
    dir_.Write("broadcastd.yaml", config);
  }
  // The port the daemon's listener bound, once its log says so; 0 before.
  int ListeningPort(const std::string& log = "daemon.log") {
    static const std::regex re("http\\.listening address=\\S+ port=(\\d+)");
    std::smatch m;
    const std::string text = ReadFile(dir_ / log);
    return std::regex_search(text, m, re) ? std::stoi(m[1]) : 0;
  }
  int StartListening(std::unique_ptr<ChildProcess>& daemon) {
    Listen(0);
    daemon = StartDaemon();
    EXPECT_TRUE(WaitFor([&] { return ListeningPort() != 0; }, 20s))
        << ReadFile(dir_ / "daemon.log");
    return ListeningPort();
  }
  // `n` chatroom broadcasts (1 per second, 10 per minute).
  void DropRooms(int n) {
    std::string yaml = "id: rooms\nbroadcasts:\n";
    for (int i = 0; i < n; ++i) {
      yaml += "  - {name: r" + std::to_string(i) +
              ", target: chatrooms, message: {type: txt, msg: m" + std::to_string(i) + "}}\n";
    }
    dir_.Write("campaigns/rooms.yaml", yaml);
  }
  std::vector<std::string> Warnings() {
    std::vector<std::string> out;
    for (const auto& w : Status().value("warnings", nlohmann::json::array())) {
      out.push_back(w.get<std::string>());
    }
    return out;
  }
  bool WarnsOfTheListener() {
    for (const std::string& w : Warnings()) {
      if (w.starts_with("http_listen ")) return true;
    }
    return false;
  }
};

TEST_F(ListenerE2ETest, OtherMethodsGet405AndPipelinedRequestsAreAnsweredInOrder) {
  std::unique_ptr<ChildProcess> daemon;
  const int port = StartListening(daemon);
  ASSERT_NE(port, 0);
  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS"}) {
    const int fd = Connect(port);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(SendAll(fd, std::string(method) +
                                " /metrics HTTP/1.1\r\nHost: x\r\n"
                                "Content-Length: 0\r\nConnection: close\r\n\r\n"));
    const std::string answer = ReadUntilClosed(fd);
    ::close(fd);
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 405 ")) << method << ": " << answer.substr(0, 200);
    EXPECT_NE(answer.find("\r\nAllow: GET, HEAD\r\n"), std::string::npos) << answer;
  }
  const int fd = Connect(port);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd,
                      "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"
                      "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const std::string answers = ReadUntilClosed(fd);
  ::close(fd);
  const size_t metrics = answers.find("# HELP broadcastd_");
  const size_t page = answers.find("<!DOCTYPE html>");
  const size_t third = answers.find("HTTP/1.1 200 ", page);
  ASSERT_NE(metrics, std::string::npos) << answers.substr(0, 300);
  ASSERT_NE(page, std::string::npos) << "the second request was answered";
  EXPECT_LT(metrics, page) << "in order";
  ASSERT_NE(third, std::string::npos) << "the third request was answered";
  EXPECT_TRUE(answers.ends_with("\r\n\r\n")) << "HEAD: no body";
}

TEST_F(ListenerE2ETest, AHeaderFloodLeavesTheDaemonsMemoryBounded) {
  std::unique_ptr<ChildProcess> daemon;
  const int port = StartListening(daemon);
  ASSERT_NE(port, 0);
  const long before = RssKiB(daemon->pid());
  ASSERT_GT(before, 0);
  const int fd = Connect(port);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, "GET / HTTP/1.1\r\nHost: x\r\n"));
  // Up to 256 MiB of short header lines, as fast as the daemon takes them, until it closes
  // the connection.
  std::string lines;
  for (int i = 0; i < 4096; ++i) lines += "X-Flood-" + std::to_string(i) + ": y\r\n";
  size_t sent = 0;
  long peak = before;
  while (sent < (256u << 20) && SendAll(fd, lines)) {
    sent += lines.size();
    if ((sent / lines.size()) % 64 == 0) peak = std::max(peak, RssKiB(daemon->pid()));
  }
  peak = std::max(peak, RssKiB(daemon->pid()));
  ::close(fd);
  // What the sockets' buffers held before the close was seen, and no more.
  EXPECT_LT(sent, 8u << 20) << "the daemon closed the connection early";
  EXPECT_LT(peak - before, 16 * 1024) << "RSS grew from " << before << " KiB to " << peak << " KiB";
  // Still serving, and still the same process.
  EXPECT_FALSE(daemon->Wait(10ms).has_value());
  const int again = Connect(port);
  ASSERT_TRUE(SendAll(again, "GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n"));
  EXPECT_TRUE(ReadUntilClosed(again).starts_with("HTTP/1.1 200 "));
  ::close(again);
}

// The daemon's descriptors are bounded whatever connects: with 2,000 connections held open
// (beyond the daemon's soft limit of 1,024), the chatroom broadcasts go out at their pace of
// one a second and no attempt fails.
TEST_F(ListenerE2ETest, TwoThousandIdleConnectionsDoNotStopTheSends) {
  std::unique_ptr<ChildProcess> daemon;
  Listen(0);
  {
    // The daemon gets the usual soft limit; the test needs more for its own end.
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    rlimit daemon_limit{std::min<rlim_t>(1024, limit.rlim_max), limit.rlim_max};
    ::setrlimit(RLIMIT_NOFILE, &daemon_limit);
    daemon = StartDaemon();
    rlimit mine{limit.rlim_max, limit.rlim_max};
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &mine), 0);
    if (limit.rlim_max < 2100) GTEST_SKIP() << "the hard limit of descriptors is too low";
  }
  ASSERT_TRUE(WaitFor([&] { return ListeningPort() != 0; }, 20s)) << ReadFile(dir_ / "daemon.log");
  const int port = ListeningPort();
  std::vector<int> idle;
  // A daemon that stops accepting (out of descriptors) fills its accept queue: then each
  // connect waits out its timeout, and ten in a row end the attack.
  for (int i = 0, refused = 0; i < 2000 && refused < 10; ++i) {
    const int fd = Connect(port);
    if (fd >= 0) idle.push_back(fd);
    refused = fd >= 0 ? 0 : refused + 1;
  }
  EXPECT_GE(idle.size(), 1000u) << "connections made";
  const auto start = std::chrono::steady_clock::now();
  DropRooms(8);
  // The connections stay open on this side while the sends go out.
  const bool all = WaitFor([&] { return Broadcasts().size() >= 8; }, 40s);
  const auto took = std::chrono::steady_clock::now() - start;
  for (int fd : idle) ::close(fd);
  ASSERT_TRUE(all) << Broadcasts().size() << " of 8 sent\n" << ReadFile(dir_ / "daemon.log");
  // Eight at one a second (plus the margin and the folder's settling): well under 30 s.
  EXPECT_LT(took, 30s);
  const std::string log = ReadFile(dir_ / "daemon.log");
  EXPECT_EQ(log.find("curl error"), std::string::npos) << log;
  EXPECT_EQ(log.find("Too many open files"), std::string::npos);
}

TEST_F(ListenerE2ETest, APortTakenAtStartStopsNothingAndIsBoundOnceFree) {
  // Another socket holds the port before the daemon starts.
  const int holder = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(holder, 4), 0);
  socklen_t len = sizeof addr;
  ::getsockname(holder, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  Listen(port);
  DropRooms(2);
  auto daemon = StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return Broadcasts().size() >= 2; }, 30s))
      << ReadFile(dir_ / "daemon.log");
  EXPECT_FALSE(daemon->Wait(10ms).has_value()) << "the daemon runs";
  EXPECT_TRUE(LogHas("daemon.log", "http.bind_failed")) << ReadFile(dir_ / "daemon.log");
  EXPECT_TRUE(WarnsOfTheListener()) << Status().dump(1);

  ::close(holder);
  ASSERT_TRUE(WaitFor([&] { return ListeningPort() == port; }, 90s))
      << ReadFile(dir_ / "daemon.log");
  const int fd = Connect(port);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, "GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n"));
  const std::string metrics = ReadUntilClosed(fd);
  ::close(fd);
  EXPECT_TRUE(metrics.starts_with("HTTP/1.1 200 "));
  EXPECT_EQ(metrics.find("broadcastd_http_bind_failures_total 0"), std::string::npos)
      << "the failed binds are counted";
  EXPECT_NE(metrics.find("broadcastd_http_bind_failures_total "), std::string::npos);
  EXPECT_FALSE(WarnsOfTheListener()) << Status().dump(1);
}

// The simulator's port closed: each connect is refused (curl error 7), which proves the
// request was never written. No window and no budget is spent, the endpoint backs off
// (1 s, 2 s, 4 s, ...), and the job goes out once the port is back. A users broadcast
// shows it: one spent window would hold the next attempt for 30 minutes.
TEST_F(ListenerE2ETest, ARefusedConnectionSpendsNoWindowAndTheJobGoesOutOnceThePortIsBack) {
  std::string sim_port = ReadFile(dir_ / "sim.port");
  while (!sim_port.empty() && (sim_port.back() == '\n' || sim_port.back() == ' ')) {
    sim_port.pop_back();
  }
  Relay relay(std::stoi(sim_port));
  std::string config = ReadFile(dir_ / "broadcastd.yaml");
  const std::string host = "http://127.0.0.1:" + sim_port;
  config.replace(config.find(host), host.size(),
                 "http://127.0.0.1:" + std::to_string(relay.port()));
  dir_.Write("broadcastd.yaml", config);
  // A first broadcast while the port is open: the app has its token.
  dir_.Write("campaigns/first.yaml", R"(id: first
broadcasts:
  - {name: online, target: online_users, message: {type: txt, msg: first}}
)");
  auto daemon = StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return JobStates()["sent"] == 1; }, 30s))
      << ReadFile(dir_ / "daemon.log");
  relay.Close();  // the port is closed: connection refused
  dir_.Write("campaigns/one.yaml", R"(id: one
broadcasts:
  - {name: all, target: users, message: {type: txt, msg: once}}
)");
  auto refusals = [&] {
    const std::string log = ReadFile(dir_ / "daemon.log");
    size_t n = 0;
    for (size_t at = log.find("broadcast.retry"); at != std::string::npos;
         at = log.find("broadcast.retry", at + 1)) {
      ++n;
    }
    return n;
  };
  ASSERT_TRUE(WaitFor([&] { return refusals() >= 3; }, 30s)) << ReadFile(dir_ / "daemon.log");
  const nlohmann::json status = Status();
  for (const auto& e : status["endpoints"]) {
    if (e["target"] == "users") {
      EXPECT_EQ(e["used_today"], 0) << "no budget spent\n" << status.dump(1);
    }
  }

  relay.Open();  // the port is back
  ASSERT_TRUE(WaitFor([&] { return JobStates()["sent"] == 2; }, 90s))
      << ReadFile(dir_ / "daemon.log") << Status().dump(1);
  const nlohmann::json after = Status();  // kept: a loop over a temporary's member dangles
  for (const auto& e : after["endpoints"]) {
    if (e["target"] == "users") {
      EXPECT_EQ(e["used_today"], 1) << "only the send counts";
    }
  }
}

}  // namespace
}  // namespace broadcastd
