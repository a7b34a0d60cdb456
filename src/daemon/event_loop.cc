#include "daemon/event_loop.h"

#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <future>

#include "config/config_loader.h"
#include "core/log_value.h"
#include "core/time_format.h"
#include "core/unique_fd.h"
#include "daemon/http_listener.h"
#include "easemob/curl_transport.h"
#include "store/daemon_lock.h"
#include "store/store.h"

namespace broadcastd {
namespace {

sigset_t DaemonSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR1);
  return set;
}

void ArmAbsolute(int fd, std::optional<TimePoint> at) {
  itimerspec spec{};
  if (at) {
    int64_t ms = std::max<int64_t>(ToMillis(*at), 1);
    spec.it_value.tv_sec = ms / 1000;
    spec.it_value.tv_nsec = (ms % 1000) * 1000000;
  }
  // CANCEL_ON_SET: a wall-clock jump wakes us so the decision is made again.
  ::timerfd_settime(fd, at ? TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET : 0, &spec, nullptr);
}

void ArmInterval(int fd, Duration every) {
  itimerspec spec{};
  const int64_t ms = std::max<int64_t>(every.count(), 1);
  spec.it_value.tv_sec = spec.it_interval.tv_sec = ms / 1000;
  spec.it_value.tv_nsec = spec.it_interval.tv_nsec = (ms % 1000) * 1000000;
  ::timerfd_settime(fd, 0, &spec, nullptr);
}

void Drain(int fd) {
  char buf[4096];
  while (::read(fd, buf, sizeof buf) > 0) {
  }
}

std::filesystem::path CredentialsDir() {
  const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
  return dir ? std::filesystem::path(dir) : std::filesystem::path();
}

// One request in flight at a time, on its own thread, so that signals and
// timers are still handled while it waits for the server.
struct InFlight {
  PendingSend send;
  std::future<BroadcastAnswer> answer;
};

class Daemon {
 public:
  explicit Daemon(DaemonOptions options) : options_(std::move(options)) {}
  int Run();

 private:
  Status Setup();
  void WatchCampaigns();
  void ReadCampaignEvents();
  void HandleSignal();
  void Reload();
  void Dispatch();
  void FinishInFlight();
  void Shutdown();

  DaemonOptions options_;
  SystemClock clock_;
  CurlTransport transport_;
  std::optional<DaemonLock> lock_;
  std::unique_ptr<Engine> engine_;
  UniqueFd signal_fd_, wake_fd_, tick_fd_, watchdog_fd_, done_fd_, inotify_fd_;
  UniqueFd rescan_fd_;  // when a campaign file being written will have settled
  std::optional<InFlight> in_flight_;
  bool stopping_ = false;
  bool reload_requested_ = false;
  bool rescan_requested_ = false;
  bool queue_changed_ = false;
  std::unique_ptr<HttpListener> http_;  // last: stops first
};

Status Daemon::Setup() {
  auto config = LoadConfig(options_.config_path);
  if (!config) return std::unexpected(config.error());
  // The lock file sits beside the database: its folder must exist first.
  std::error_code ec;
  std::filesystem::create_directories(config->database.parent_path(), ec);
  if (ec) {
    return Fail("database " + config->database.string() +
                ": cannot create its folder: " + ec.message());
  }
  auto lock = DaemonLock::Acquire(config->database);
  if (!lock) return std::unexpected(lock.error());
  lock_.emplace(std::move(*lock));
  auto engine = Engine::Create(*config, CredentialsDir(), transport_, clock_);
  if (!engine) return std::unexpected(engine.error());
  engine_ = std::move(*engine);
  auto http = HttpListener::Start(*config, clock_);
  if (!http) return std::unexpected(http.error());
  http_ = std::move(*http);

  sigset_t set = DaemonSignals();
  signal_fd_.reset(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
  wake_fd_.reset(::timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC));
  tick_fd_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  watchdog_fd_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  done_fd_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  rescan_fd_.reset(::timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!signal_fd_ || !wake_fd_ || !tick_fd_ || !watchdog_fd_ || !done_fd_ || !rescan_fd_) {
    return Fail(std::string("cannot create the event loop's descriptors: ") + std::strerror(errno));
  }
  WatchCampaigns();
  ArmInterval(tick_fd_.get(), options_.rescan_interval);
  uint64_t watchdog_usec = 0;
  if (sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0) {
    ArmInterval(watchdog_fd_.get(), Duration(watchdog_usec / 2000));
  }
  return engine_->Start();
}

void Daemon::WatchCampaigns() {
  inotify_fd_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!inotify_fd_) return;
  const auto& dir = engine_->config().campaigns_dir;
  // IN_ATTRIB: a chmod or chown can make a refused file trusted.
  if (::inotify_add_watch(inotify_fd_.get(), dir.c_str(),
                          IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB) <
      0) {
    spdlog::warn("campaigns.watch_failed dir={} reason={} fallback=\"periodic rescan\"",
                 LogValue(dir.string()), LogValue(std::strerror(errno)));
    inotify_fd_.reset();
  }
}

// Any event asks for a rescan; a file closed after writing or renamed in is
// complete, so the rescan reads it without waiting for it to settle.
void Daemon::ReadCampaignEvents() {
  alignas(inotify_event) char buf[4096];
  ssize_t n;
  while ((n = ::read(inotify_fd_.get(), buf, sizeof buf)) > 0) {
    for (ssize_t at = 0; at + static_cast<ssize_t>(sizeof(inotify_event)) <= n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buf + at);
      if ((event->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) && event->len > 0) {
        engine_->MarkWritten(event->name);  // NUL-terminated within len
      }
      at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
    }
  }
  rescan_requested_ = true;
}

void Daemon::HandleSignal() {
  signalfd_siginfo info{};
  while (::read(signal_fd_.get(), &info, sizeof info) == sizeof info) {
    switch (info.ssi_signo) {
      case SIGTERM:
      case SIGINT:
        spdlog::info("daemon.stopping signal={}", info.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
        stopping_ = true;
        break;
      case SIGHUP:
        reload_requested_ = true;
        break;
      case SIGUSR1:
        queue_changed_ = true;
        break;
      default:
        break;
    }
  }
}

void Daemon::Reload() {
  sd_notify(0, "RELOADING=1");
  auto config = LoadConfig(options_.config_path);
  if (!config) {
    spdlog::error("config.reload_failed reason=\"{}\" action=\"old config kept\"",
                  config.error().message);
  } else if (Status st = engine_->Reconfigure(*config); !st) {
    spdlog::error("config.reload_failed reason=\"{}\"", st.error().message);
  } else {
    WatchCampaigns();
    spdlog::info("config.reloaded path={}", options_.config_path.string());
  }
  sd_notify(0, "READY=1");
}

// Claims the next due job, if any, and starts its request on a worker thread.
void Daemon::Dispatch() {
  auto next = engine_->Next();
  if (!next) {
    spdlog::error("store.error reason=\"{}\"", next.error().message);
    return;
  }
  if (!*next) return;
  PendingSend send = std::move(**next);
  const int done = done_fd_.get();
  std::promise<BroadcastAnswer> promise;
  auto future = promise.get_future();
  std::thread([send, done, promise = std::move(promise)]() mutable {
    // The answer is set before the loop is woken, so the loop always finds it.
    promise.set_value(Engine::Perform(send));
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(done, &one, sizeof one);
  }).detach();
  in_flight_.emplace(InFlight{std::move(send), std::move(future)});
}

void Daemon::FinishInFlight() {
  Drain(done_fd_.get());
  if (!in_flight_ ||
      in_flight_->answer.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    return;
  }
  BroadcastAnswer answer = in_flight_->answer.get();
  if (Status st = engine_->Complete(in_flight_->send, answer); !st) {
    // The job stays `sending` in the database: at the next start it becomes unknown.
    spdlog::error("store.error job={} reason=\"{}\"", in_flight_->send.job.id, st.error().message);
  }
  in_flight_.reset();
}

void Daemon::Shutdown() {
  sd_notify(0, "STOPPING=1");
  if (in_flight_) {
    const auto deadline = std::chrono::steady_clock::now() + options_.shutdown_grace;
    if (in_flight_->answer.wait_until(deadline) == std::future_status::ready) {
      FinishInFlight();
    } else {
      if (Status st = engine_->Abandon(in_flight_->send); !st) {
        spdlog::error("store.error reason=\"{}\"", st.error().message);
      }
      // The worker thread still uses its client: leave without running
      // destructors under it. Everything that matters is committed.
      spdlog::info("daemon.stopped in_flight=abandoned");
      spdlog::shutdown();
      std::_Exit(0);
    }
  }
  spdlog::info("daemon.stopped");
}

int Daemon::Run() {
  if (Status st = Setup(); !st) {
    spdlog::critical("daemon.start_failed reason=\"{}\"", st.error().message);
    return 1;
  }
  sd_notify(0, "READY=1\nSTATUS=running");
  spdlog::info("daemon.ready config={} database={} campaigns_dir={}", options_.config_path.string(),
               engine_->config().database.string(), engine_->config().campaigns_dir.string());

  while (!stopping_) {
    if (!in_flight_) {
      if (reload_requested_) {
        reload_requested_ = false;
        Reload();
      }
      if (rescan_requested_) {
        rescan_requested_ = false;
        if (auto r = engine_->Rescan(); !r) {
          spdlog::error("campaigns.scan_failed reason={}", LogValue(r.error().message));
        }
      }
      if (queue_changed_) {
        queue_changed_ = false;
        if (Status st = engine_->ReloadQueue(); !st) {
          spdlog::error("store.error reason=\"{}\"", st.error().message);
        }
      }
      Dispatch();
    }
    ArmAbsolute(wake_fd_.get(), in_flight_ ? std::nullopt : engine_->NextWake());
    ArmAbsolute(rescan_fd_.get(), in_flight_ ? std::nullopt : engine_->NextRescan());

    pollfd fds[] = {{signal_fd_.get(), POLLIN, 0}, {wake_fd_.get(), POLLIN, 0},
                    {tick_fd_.get(), POLLIN, 0},   {watchdog_fd_.get(), POLLIN, 0},
                    {done_fd_.get(), POLLIN, 0},   {rescan_fd_.get(), POLLIN, 0},
                    {inotify_fd_.get(), POLLIN, 0}};
    const nfds_t count = inotify_fd_ ? 7 : 6;
    if (::poll(fds, count, -1) < 0 && errno != EINTR) {
      spdlog::critical("daemon.poll_failed reason=\"{}\"", std::strerror(errno));
      break;
    }
    if (fds[0].revents) HandleSignal();
    if (fds[1].revents) Drain(wake_fd_.get());
    if (fds[2].revents) {
      Drain(tick_fd_.get());
      rescan_requested_ = true;
    }
    if (fds[3].revents) {
      Drain(watchdog_fd_.get());
      sd_notify(0, "WATCHDOG=1");
    }
    if (fds[4].revents) FinishInFlight();
    if (fds[5].revents) {
      Drain(rescan_fd_.get());
      rescan_requested_ = true;
    }
    if (count > 6 && fds[6].revents) ReadCampaignEvents();
  }
  Shutdown();
  return 0;
}

}  // namespace

void BlockDaemonSignals() {
  sigset_t set = DaemonSignals();
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int RunDaemon(const DaemonOptions& options) {
  Daemon daemon(options);
  return daemon.Run();
}

}  // namespace broadcastd
