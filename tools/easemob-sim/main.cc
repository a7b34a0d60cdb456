// easemob-sim: a loopback stand-in for the Easemob broadcast API, for the
// end-to-end tests and the demo. Binds 127.0.0.1 only.
//
//   easemob-sim --port 0 --port-file F --org O --app A --client-id ID
//               --client-secret-file F --log requests.jsonl [--token-ttl S]
//               [--daily-users N] [--daily-online-users N] [--daily-chatrooms N]
//               [--window users=1/1800 ...] [--fault-file F] [--first-id N]
//               [--token-delay-ms MS] [--delay-ms users=2000 ...]

#include <arpa/inet.h>
#include <dirent.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "core/clock.h"
#include "fault_script.h"
#include "simulator.h"

namespace broadcastd {
namespace {

int Port(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
  }
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
  }
  return -1;
}

// cpp-httplib 0.11 gives a handler no way to drop its connection, so find
// the connection's socket by its ports and shut it down: the response the
// library then writes goes nowhere and the client sees an empty reply.
bool DropConnection(int local_port, int remote_port) {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return false;
  bool dropped = false;
  while (dirent* entry = readdir(dir)) {
    int fd = -1;
    std::string_view name = entry->d_name;
    if (std::from_chars(name.data(), name.data() + name.size(), fd).ec != std::errc()) continue;
    sockaddr_storage local{};
    sockaddr_storage peer{};
    socklen_t local_len = sizeof local;
    socklen_t peer_len = sizeof peer;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) continue;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) continue;
    if (Port(local) == local_port && Port(peer) == remote_port) {
      dropped = shutdown(fd, SHUT_RDWR) == 0;
      break;
    }
  }
  closedir(dir);
  return dropped;
}

std::string ReadSecret(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read client secret file " + file.string());
  std::stringstream text;
  text << in.rdbuf();
  std::string secret = text.str();
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  return secret;
}

// "users=1/1800" -> (users, {1, 1800 s}); the seconds may have a fraction ("chatrooms=1/0.5").
std::pair<BroadcastTarget, RateWindow> ParseWindow(const std::string& spec) {
  const size_t eq = spec.find('=');
  const size_t slash = spec.find('/');
  std::optional<BroadcastTarget> target =
      eq == std::string::npos ? std::nullopt : ParseTarget(spec.substr(0, eq));
  if (!target || slash == std::string::npos || slash < eq) {
    throw std::runtime_error("--window wants TARGET=COUNT/SECONDS, got " + spec);
  }
  RateWindow window;
  window.count = std::stoi(spec.substr(eq + 1, slash - eq - 1));
  const double seconds = std::stod(spec.substr(slash + 1));
  window.length = Duration(std::llround(seconds * 1000));
  if (window.count < 1 || window.length.count() < 1) {
    throw std::runtime_error("--window wants a count and a length above 0, got " + spec);
  }
  return {*target, window};
}

// "users=2000" -> (users, 2000 ms).
std::pair<BroadcastTarget, std::chrono::milliseconds> ParseDelay(const std::string& spec) {
  const size_t eq = spec.find('=');
  std::optional<BroadcastTarget> target =
      eq == std::string::npos ? std::nullopt : ParseTarget(spec.substr(0, eq));
  int ms = -1;
  if (target) {
    const char* end = spec.data() + spec.size();
    if (std::from_chars(spec.data() + eq + 1, end, ms).ptr != end) ms = -1;
  }
  if (!target || ms < 0) throw std::runtime_error("--delay-ms wants TARGET=MS, got " + spec);
  return {*target, std::chrono::milliseconds(ms)};
}

int Run(int argc, char** argv) {
  CLI::App cli{"Loopback stand-in for the Easemob broadcast API"};
  int port = 0;
  std::string port_file, secret_file, log_file, fault_file;
  std::vector<std::string> windows;
  std::vector<std::string> delay_specs;
  std::map<std::string, std::chrono::milliseconds> delays;  // broadcast path -> delay
  SimulatorConfig config;
  for (BroadcastTarget target : kAllTargets) config.limits[target] = DefaultLimits(target);
  cli.add_option("--port", port, "TCP port on 127.0.0.1; 0 picks a free one");
  cli.add_option("--port-file", port_file, "write the port chosen here");
  cli.add_option("--org", config.org, "org name")->required();
  cli.add_option("--app", config.app, "app name")->required();
  cli.add_option("--client-id", config.client_id, "accepted client_id")->required();
  cli.add_option("--client-secret-file", secret_file, "file holding the accepted secret")
      ->required();
  cli.add_option("--log", log_file, "append one JSON line per request here");
  cli.add_option("--token-ttl", config.token_ttl_seconds, "token lifetime in seconds (0: forever)");
  cli.add_option("--daily-users", config.limits[BroadcastTarget::kUsers].daily);
  cli.add_option("--daily-online-users", config.limits[BroadcastTarget::kOnlineUsers].daily);
  cli.add_option("--daily-chatrooms", config.limits[BroadcastTarget::kChatrooms].daily);
  cli.add_option("--window", windows,
                 "TARGET=COUNT/SECONDS; replaces that target's default windows (repeatable)");
  cli.add_option("--fault-file", fault_file, R"(JSON {"next": ["500", "drop", ...]})");
  cli.add_option("--first-id", config.first_broadcast_id, "first broadcast ID handed out");
  int token_delay_ms = 0;
  cli.add_option("--token-delay-ms", token_delay_ms,
                 "the token endpoint waits this long before it answers (a slow token server)");
  cli.add_option("--delay-ms", delay_specs,
                 "TARGET=MS: that broadcast endpoint answers MS later; the request counts when "
                 "it arrives (a slow endpoint; repeatable)");
  try {
    cli.parse(argc, argv);
    config.client_secret = ReadSecret(secret_file);
    std::map<BroadcastTarget, std::vector<RateWindow>> replaced;
    for (const std::string& spec : windows) {
      auto [target, window] = ParseWindow(spec);
      replaced[target].push_back(window);
    }
    for (auto& [target, list] : replaced) config.limits[target].windows = list;
    for (const std::string& spec : delay_specs) {
      auto [target, delay] = ParseDelay(spec);
      delays["/" + config.org + "/" + config.app + std::string(TargetPath(target))] = delay;
    }
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "easemob-sim: " << e.what() << "\n";
    return 2;
  }
  config.log_file = log_file;

  // Shut down cleanly on SIGTERM/SIGINT; a client that hung up must not kill us.
  signal(SIGPIPE, SIG_IGN);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  EasemobSimulator simulator(std::move(config));
  FaultScript faults(fault_file);
  SystemClock clock;
  httplib::Server server;
  int bound = 0;

  server.Post(R"(/.*)", [&](const httplib::Request& req, httplib::Response& res) {
    const int64_t arrival_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
    std::optional<std::string> fault;
    if (req.path.ends_with("/broadcast")) fault = faults.Next();
    if (req.path.ends_with("/token") && token_delay_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(token_delay_ms));
    }
    if (fault && fault->starts_with("delay:")) {
      int ms = 0;
      std::from_chars(fault->data() + 6, fault->data() + fault->size(), ms);
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    }
    SimRequest request{req.path, req.get_header_value("Authorization"), req.body, clock.Now(),
                       arrival_us};
    SimReply reply = simulator.Handle(request, fault);
    if (auto delay = delays.find(req.path); delay != delays.end()) {
      std::this_thread::sleep_for(delay->second);
    }
    if (reply.drop) {
      if (!DropConnection(bound, req.remote_port)) {
        std::cerr << "easemob-sim: could not drop the connection; answering 500\n";
        res.status = 500;
      }
      return;
    }
    res.status = reply.status;
    res.set_content(reply.body, "application/json");
  });

  bound = port == 0 ? server.bind_to_any_port("127.0.0.1")
                    : (server.bind_to_port("127.0.0.1", port) ? port : -1);
  if (bound <= 0) {
    std::cerr << "easemob-sim: cannot bind 127.0.0.1:" << port << "\n";
    return 1;
  }
  if (!port_file.empty()) {
    const std::string tmp = port_file + ".tmp";
    std::ofstream(tmp) << bound << "\n";
    std::error_code ec;
    std::filesystem::rename(tmp, port_file, ec);
    if (ec) {
      std::cerr << "easemob-sim: cannot write " << port_file << ": " << ec.message() << "\n";
      return 1;
    }
  }
  std::cout << "listening on 127.0.0.1:" << bound << std::endl;

  std::atomic<bool> signalled = false;
  std::thread stopper([&] {
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    signalled = true;
    server.stop();
  });
  const bool served = server.listen_after_bind();
  // If listening ended on its own, wake the stopper so it can be joined.
  if (!signalled) kill(getpid(), SIGTERM);
  stopper.join();
  return served ? 0 : 1;
}

}  // namespace
}  // namespace broadcastd

int main(int argc, char** argv) { return broadcastd::Run(argc, argv); }
