#include "daemon/daemon.h"

#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <limits>
#include <thread>
#include <variant>
#include <vector>

#include "config/config_loader.h"
#include "core/log_value.h"
#include "core/time_format.h"
#include "core/unique_fd.h"
#include "daemon/http_listener.h"
#include "daemon/service_status.h"
#include "store/daemon_lock.h"
#include "store/store.h"

namespace broadcastd {
namespace {

// sd_notify's results are not checked anywhere here: outside systemd (no NOTIFY_SOCKET)
// it does nothing by design, and a notification systemd did not take has no one to be
// reported to but the log, which already has each event.

sigset_t DaemonSignals() {
  sigset_t set;
  // sigemptyset and sigaddset fail only for an invalid signal number (EINVAL).
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR1);
  return set;
}

// Reads until the non-blocking `fd` is empty. The read that ends the loop fails with
// EAGAIN when it is: nothing else to check (a timer's count, an eventfd's sum are not used).
void Drain(int fd) {
  char buf[4096];
  while (::read(fd, buf, sizeof buf) > 0) {
  }
}

// timerfd_settime on one of the loop's timers. It fails only on a bad descriptor or spec,
// which this code never passes: logged, and the loop goes on (its other sources still wake
// it, and the timer is armed again at the next turn).
void SetTimer(int fd, int flags, const itimerspec& spec, const char* timer) {
  if (::timerfd_settime(fd, flags, &spec, nullptr) != 0) {
    spdlog::error("daemon.timer_failed timer={} reason={}", timer, LogValue(std::strerror(errno)));
  }
}

// Arms `fd` (a CLOCK_BOOTTIME timer) for the wall time `at`, as an interval from `now`
// on the monotonic clock: a wait measures an interval, which a wall-clock step must not
// stretch. A step wakes the loop through the step timer instead, and the wait is
// computed anew. (Relative, not absolute: libfaketime, which the tests use to step the
// wall clock, shifts absolute deadlines of every clock.)
void ArmAt(int fd, std::optional<TimePoint> at, const Instant& now, const char* timer) {
  itimerspec spec{};
  if (at) {
    const int64_t ms = std::max<int64_t>((*at - now.wall).count(), 1);
    spec.it_value.tv_sec = ms / 1000;
    spec.it_value.tv_nsec = (ms % 1000) * 1000000;
  }
  SetTimer(fd, 0, spec, timer);
}

// A CLOCK_REALTIME timer that never expires but is cancelled, making its descriptor
// readable, whenever the wall clock is set: the loop then wakes and looks again.
void ArmStepDetector(int fd) {
  Drain(fd);
  itimerspec spec{};
  spec.it_value.tv_sec = std::numeric_limits<time_t>::max() / 2;
  SetTimer(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, spec, "clock_step");
}

void ArmInterval(int fd, Duration every, const char* timer) {
  itimerspec spec{};
  const int64_t ms = std::max<int64_t>(every.count(), 1);
  spec.it_value.tv_sec = spec.it_interval.tv_sec = ms / 1000;
  spec.it_value.tv_nsec = spec.it_interval.tv_nsec = (ms % 1000) * 1000000;
  SetTimer(fd, 0, spec, timer);
}

// One network step (a token fetch or a broadcast POST) on its own thread, so that
// signals, timers and the other endpoints are still handled while it waits for the
// server. Several are in flight at once: at most one POST per endpoint and one token
// fetch per app (the engine hands out no more). The worker fills in its result,
// then marks it done (release), then wakes the loop through done_fd; the loop sees
// done (acquire) and joins the thread before it reads the result, and the
// descriptor outlives every worker. A worker touches only its own InFlight and the
// client it holds; the engine is the loop's alone.
struct InFlight {
  std::variant<TokenRequest, PendingSend> work;
  std::optional<Result<std::string>> token;  // a TokenRequest's result
  std::optional<BroadcastAnswer> answer;     // a PendingSend's result
  std::atomic<bool> done{false};
  std::thread worker;
};

// What the loop waits on, in the order of its pollfd array.
enum WaitSource : size_t {
  kSignals,         // signal_fd_
  kWake,            // wake_fd_: the engine's next look
  kPeriodicRescan,  // periodic_rescan_fd_: every rescan_interval
  kWatchdog,        // watchdog_fd_
  kDone,            // done_fd_: a worker finished
  kClockStep,       // step_fd_
  kSettleRescan,    // settle_rescan_fd_: a file being written will have settled
  kCampaignDir,     // inotify_fd_ (-1 without a watch)
  kNotification,    // the store's LISTEN socket (-1 on SQLite)
  kWaitSources,
};

class Daemon {
 public:
  Daemon(DaemonOptions options, const Clock& clock, HttpTransport& transport)
      : options_(std::move(options)), clock_(clock), transport_(transport) {}
  ~Daemon();
  int Run();

 private:
  Status Setup();
  void WatchCampaigns();
  void ReadCampaignEvents();
  void HandleSignal();
  void Reload();
  bool Dispatch();
  void Start(std::variant<TokenRequest, PendingSend> work);
  void FinishInFlight();
  void Finish(InFlight& finished);
  bool Posting() const;
  void ReportUncommitted();
  void Shutdown();
  void RunRequested();
  bool Wait(std::array<pollfd, kWaitSources>& fds);
  void HandleReady(const std::array<pollfd, kWaitSources>& fds);

  DaemonOptions options_;
  const Clock& clock_;
  HttpTransport& transport_;
  std::optional<DaemonLock> lock_;
  std::unique_ptr<Engine> engine_;
  UniqueFd signal_fd_, wake_fd_, watchdog_fd_, done_fd_, step_fd_, inotify_fd_;
  UniqueFd periodic_rescan_fd_;  // every rescan_interval: a look at campaigns_dir
  UniqueFd settle_rescan_fd_;    // when a campaign file being written will have settled
  std::vector<std::unique_ptr<InFlight>> in_flight_;
  ServiceStatus status_;
  bool stopping_ = false;
  bool reload_requested_ = false;
  bool rescan_requested_ = false;
  bool scan_continues_ = false;  // the last Rescan() stopped at its slice with files left
  bool queue_changed_ = false;
  int64_t notified_version_ = 0;  // Store::DataVersion when a notification was last read
  bool reported_uncommitted_ = false;
  int exit_code_ = 0;
  std::unique_ptr<HttpListener> http_;  // last: stops first
};

Daemon::~Daemon() {
  // Never leave a worker running under the engine, the transport or done_fd.
  for (auto& work : in_flight_) {
    if (work->worker.joinable()) work->worker.join();
  }
}

Status Daemon::Setup() {
  auto config = LoadConfig(options_.config_path);
  if (!config) return std::unexpected(config.error());
  // PostgreSQL: several daemons share the database by design; the sender lease, not a
  // lock file, keeps one sender at a time.
  if (!config->DatabaseIsPostgres()) {
    // The lock file sits beside the database: its folder must exist first.
    std::error_code ec;
    std::filesystem::create_directories(config->database.parent_path(), ec);
    if (ec) {
      return Fail(ErrorKind::kIo, "database " + config->database.string() +
                                      ": cannot create its folder: " + ec.message());
    }
    auto lock = DaemonLock::Acquire(config->database);
    if (!lock) return std::unexpected(lock.error());
    lock_.emplace(std::move(*lock));
  }
  auto engine = Engine::Create(*config, options_.credentials_dir, transport_, clock_);
  if (!engine) return std::unexpected(engine.error());
  engine_ = std::move(*engine);
  auto http = HttpListener::Start(*config, clock_);
  if (!http) return std::unexpected(http.error());
  http_ = std::move(*http);

  sigset_t set = DaemonSignals();
  signal_fd_.reset(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
  wake_fd_.reset(::timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC));
  step_fd_.reset(::timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC));
  periodic_rescan_fd_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  watchdog_fd_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  done_fd_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  settle_rescan_fd_.reset(::timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!signal_fd_ || !wake_fd_ || !periodic_rescan_fd_ || !watchdog_fd_ || !done_fd_ || !step_fd_ ||
      !settle_rescan_fd_) {
    return Fail(ErrorKind::kIo,
                std::string("cannot create the event loop's descriptors: ") + std::strerror(errno));
  }
  WatchCampaigns();
  ArmStepDetector(step_fd_.get());
  ArmInterval(periodic_rescan_fd_.get(), options_.rescan_interval, "periodic_rescan");
  uint64_t watchdog_usec = 0;
  if (sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0) {
    ArmInterval(watchdog_fd_.get(), Duration(watchdog_usec / 2000), "watchdog");
  }
  return engine_->Start();
}

void Daemon::WatchCampaigns() {
  inotify_fd_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!inotify_fd_) return;
  const auto& dir = engine_->config().campaigns_dir;
  // IN_ATTRIB: a chmod or chown can make a refused file trusted. IN_MODIFY: a file
  // written to waits for its IN_CLOSE_WRITE. IN_CREATE: a hard link is read at once.
  if (::inotify_add_watch(inotify_fd_.get(), dir.c_str(),
                          IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB |
                              IN_MODIFY | IN_CREATE) < 0) {
    spdlog::warn("campaigns.watch_failed dir={} reason={} fallback=\"periodic rescan\"",
                 LogValue(dir.string()), LogValue(std::strerror(errno)));
    inotify_fd_.reset();
  }
}

// Any event but a file's second and later writes asks for a rescan; a file closed
// after writing or renamed in is complete, so the rescan reads it without waiting for
// it to settle; a file written to is not read before its close.
void Daemon::ReadCampaignEvents() {
  alignas(inotify_event) char buf[4096];
  ssize_t n;
  bool rescan = false;
  // As in Drain: the read that ends the loop fails with EAGAIN once the queue is empty.
  while ((n = ::read(inotify_fd_.get(), buf, sizeof buf)) > 0) {
    for (ssize_t at = 0; at + static_cast<ssize_t>(sizeof(inotify_event)) <= n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buf + at);
      at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      const std::string name = event->len > 0 ? event->name : "";  // NUL-terminated
      if (name.empty()) {
        rescan = true;  // IN_Q_OVERFLOW, or the folder itself
      } else if (event->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) {
        engine_->MarkWritten(name);
        rescan = true;
      } else if (event->mask & IN_MODIFY) {
        rescan = engine_->MarkWriting(name) || rescan;
      } else {
        if (event->mask & IN_CREATE) engine_->MarkCreated(name);
        if (event->mask & (IN_DELETE | IN_MOVED_FROM)) engine_->Forget(name);
        rescan = true;
      }
    }
  }
  rescan_requested_ = rescan_requested_ || rescan;
}

void Daemon::HandleSignal() {
  signalfd_siginfo info{};
  // Ends at EAGAIN, when no signal is pending (a signalfd reads whole records).
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
    spdlog::error("config.reload_failed reason={} action=\"old config kept\"",
                  LogValue(config.error().message));
  } else if (Status st = engine_->Reconfigure(*config); !st) {
    // Reconfigure swaps only when everything succeeded: the old config is in force.
    spdlog::error("config.reload_failed reason={} action=\"old config kept\"",
                  LogValue(st.error().message));
  } else {
    WatchCampaigns();
    spdlog::info("config.reloaded path={}", options_.config_path.string());
  }
  sd_notify(0, "READY=1");
}

// Asks the engine what to do next; a token fetch or a claimed job's POST goes to
// a worker thread. Returns whether it started one (the loop asks again at once:
// another endpoint may be ready too).
bool Daemon::Dispatch() {
  // A claim committed into a deleted WAL or a replaced database would vanish, and its
  // job be sent again after the next start: stop first.
  if (Status st = engine_->VerifyDatabase(); !st) {
    spdlog::critical("store.files_changed reason={} action={}", LogValue(st.error().message),
                     LogValue("stopped sending; exiting for a restart on the database's files"));
    exit_code_ = 1;
    stopping_ = true;
    return false;
  }
  auto next = engine_->Next();
  if (!next) {
    spdlog::error("store.error reason={}", LogValue(next.error().message));
    return false;
  }
  if (auto* request = std::get_if<TokenRequest>(&*next)) {
    Start(std::move(*request));
    return true;
  }
  if (auto* send = std::get_if<PendingSend>(&*next)) {
    Start(std::move(*send));
    return true;
  }
  return false;
}

void Daemon::Start(std::variant<TokenRequest, PendingSend> work) {
  in_flight_.push_back(std::make_unique<InFlight>());
  InFlight* job = in_flight_.back().get();
  job->work = std::move(work);
  const int done = done_fd_.get();
  job->worker = std::thread([job, done] {
    if (auto* request = std::get_if<TokenRequest>(&job->work)) {
      job->token = Engine::FetchToken(*request);
    } else {
      job->answer = Engine::Perform(std::get<PendingSend>(job->work));
    }
    job->done.store(true, std::memory_order_release);
    uint64_t one = 1;
    // An eventfd write fails only when its counter would overflow (2^64 - 2 wake-ups
    // unread): the loop is awake already, and it reads `done`, not the count.
    [[maybe_unused]] auto n = ::write(done, &one, sizeof one);
  });
}

// Hands every finished step to the engine (drained first: a worker that finishes
// meanwhile writes done_fd again, and the next poll sees it).
void Daemon::FinishInFlight() {
  Drain(done_fd_.get());
  for (size_t i = 0; i < in_flight_.size();) {
    if (!in_flight_[i]->done.load(std::memory_order_acquire)) {
      ++i;
      continue;
    }
    std::unique_ptr<InFlight> finished = std::move(in_flight_[i]);
    in_flight_.erase(in_flight_.begin() + static_cast<std::ptrdiff_t>(i));
    finished->worker.join();
    Finish(*finished);
  }
}

// REQUIRES: the worker joined.
void Daemon::Finish(InFlight& finished) {
  if (auto* request = std::get_if<TokenRequest>(&finished.work)) {
    engine_->TokenFetched(*request, *finished.token);
    return;
  }
  const PendingSend& send = std::get<PendingSend>(finished.work);
  if (Status st = engine_->Complete(send, *finished.answer); !st) {
    // The engine keeps the answer and writes it again; the log has it in full.
    spdlog::error("store.error job={} reason={}", send.job.id, LogValue(st.error().message));
  }
  ReportUncommitted();
}

bool Daemon::Posting() const {
  return std::any_of(in_flight_.begin(), in_flight_.end(), [](const auto& work) {
    return std::holds_alternative<PendingSend>(work->work) &&
           !work->done.load(std::memory_order_acquire);
  });
}

// Tells systemd (STATUS=) while answers wait to be written: the store cannot say it.
void Daemon::ReportUncommitted() {
  std::vector<int64_t> jobs = engine_->UncommittedJobs();
  if (jobs.empty()) {
    if (reported_uncommitted_) sd_notify(0, "STATUS=running");
    reported_uncommitted_ = false;
    return;
  }
  std::string ids;
  for (int64_t id : jobs) ids += (ids.empty() ? "" : ",") + std::to_string(id);
  sd_notify(0, ("STATUS=answer not yet saved for job(s) " + ids +
                " (sending, answer pending); see the log")
                   .c_str());
  reported_uncommitted_ = true;
}

// Every POST in flight gets the grace, one deadline for all; a token fetch has
// nothing to lose and is not waited for. The answers that came in time are
// committed; the requests still out are recorded `unknown`, then the transport
// gives them up and every worker is joined.
void Daemon::Shutdown() {
  sd_notify(0, "STOPPING=1");
  const auto deadline = std::chrono::steady_clock::now() + options_.shutdown_grace;
  while (Posting() && std::chrono::steady_clock::now() < deadline) {
    pollfd fd{done_fd_.get(), POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    // A failed or interrupted poll only ends this wait early: the deadline is checked again.
    (void)::poll(&fd, 1, static_cast<int>(std::max<int64_t>(left.count(), 1)));
    FinishInFlight();
  }
  FinishInFlight();
  // What is left did not answer within the grace: POSTs are unknown.
  std::vector<std::unique_ptr<InFlight>> left = std::move(in_flight_);
  in_flight_.clear();
  size_t abandoned = 0;
  for (const auto& work : left) {
    if (const auto* send = std::get_if<PendingSend>(&work->work)) {
      ++abandoned;
      if (Status st = engine_->Abandon(*send); !st) {
        spdlog::error("store.error job={} reason={}", send->job.id, LogValue(st.error().message));
      }
    }
  }
  // Wait for the workers, their requests given up: nothing may run under the engine
  // or write to done_fd once they are gone.
  if (!left.empty()) transport_.Abort();
  for (const auto& work : left) {
    work->worker.join();
    const auto* send = std::get_if<PendingSend>(&work->work);
    if (send && work->answer) {
      const BroadcastAnswer& a = *work->answer;
      spdlog::warn(
          "broadcast.answer_after_stop job={} status={} class={} broadcast_id={} "
          "action=\"the job is unknown; resolve it with this answer\"",
          send->job.id, a.http_status ? std::to_string(*a.http_status) : "none",
          OutcomeName(a.outcome), a.broadcast_id.empty() ? "-" : LogValue(a.broadcast_id));
    }
  }
  if (Status st = engine_->FlushUncommitted(); !st) {
    spdlog::critical("store.error reason={}", LogValue(st.error().message));
  }
  // Nothing of ours is in flight any more: a standby may take over at once.
  engine_->ReleaseLease();
  if (abandoned > 0) {
    spdlog::info("daemon.stopped in_flight=abandoned abandoned={}", abandoned);
  } else {
    spdlog::info("daemon.stopped");
  }
}

// Runs what the last wake-up asked for: a reload, a rescan (or its next slice), a
// queue reload. Reloads, rescans and queue reloads run while requests are in
// flight: the engine is the loop's alone, and a request in flight holds its own client.
void Daemon::RunRequested() {
  if (reload_requested_) {
    reload_requested_ = false;
    Reload();
  }
  if (rescan_requested_ || scan_continues_) {
    // A new scan serves the requests made so far; one made while a scan runs in slices
    // (an inotify event for a file it listed already) asks for another after it.
    if (!scan_continues_) rescan_requested_ = false;
    auto r = engine_->Rescan();
    if (!r) spdlog::error("campaigns.scan_failed reason={}", LogValue(r.error().message));
    scan_continues_ = r && r->more;  // the next slice, after a dispatch and a look at the fds
  }
  if (queue_changed_) {
    queue_changed_ = false;
    if (Status st = engine_->ReloadQueue(); !st) {
      spdlog::error("store.error reason={}", LogValue(st.error().message));
    }
  }
}

// Waits for any source (or only looks, when a scan has files left). False when
// poll itself failed.
bool Daemon::Wait(std::array<pollfd, kWaitSources>& fds) {
  // PostgreSQL: the store's connection, where another process's commit arrives as a
  // notification (LISTEN/NOTIFY; -1 on SQLite, where SIGUSR1 and the rescans tell).
  // poll ignores a negative descriptor.
  fds[kSignals] = {signal_fd_.get(), POLLIN, 0};
  fds[kWake] = {wake_fd_.get(), POLLIN, 0};
  fds[kPeriodicRescan] = {periodic_rescan_fd_.get(), POLLIN, 0};
  fds[kWatchdog] = {watchdog_fd_.get(), POLLIN, 0};
  fds[kDone] = {done_fd_.get(), POLLIN, 0};
  fds[kClockStep] = {step_fd_.get(), POLLIN, 0};
  fds[kSettleRescan] = {settle_rescan_fd_.get(), POLLIN, 0};
  fds[kCampaignDir] = {inotify_fd_ ? inotify_fd_.get() : -1, POLLIN, 0};
  fds[kNotification] = {engine_->store().NotifySocket(), POLLIN, 0};
  // A scan with files left does not wait: poll only looks.
  const int timeout = rescan_requested_ || scan_continues_ ? 0 : -1;
  if (::poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) {
    spdlog::critical("daemon.poll_failed reason={}", LogValue(std::strerror(errno)));
    return false;
  }
  return true;
}

void Daemon::HandleReady(const std::array<pollfd, kWaitSources>& fds) {
  if (fds[kSignals].revents) HandleSignal();
  if (fds[kWake].revents) Drain(wake_fd_.get());
  if (fds[kPeriodicRescan].revents) {
    Drain(periodic_rescan_fd_.get());
    rescan_requested_ = true;
  }
  if (fds[kWatchdog].revents) {
    Drain(watchdog_fd_.get());
    sd_notify(0, "WATCHDOG=1");
  }
  if (fds[kDone].revents) FinishInFlight();
  if (fds[kClockStep].revents) ArmStepDetector(step_fd_.get());  // Next() sees the step
  if (fds[kSettleRescan].revents) {
    Drain(settle_rescan_fd_.get());
    rescan_requested_ = true;
  }
  if (fds[kCampaignDir].revents) ReadCampaignEvents();
  if (fds[kNotification].revents) {
    // Reads what arrived (level-triggered poll would wake again otherwise); this
    // connection's own commits are notified too, and change no version.
    auto version = engine_->store().DataVersion();
    if (!version) {
      spdlog::warn("store.error reason={}", LogValue(version.error().message));
    } else if (*version != notified_version_) {
      notified_version_ = *version;
      queue_changed_ = true;
    }
  }
}

int Daemon::Run() {
  if (Status st = Setup(); !st) {
    spdlog::critical("daemon.start_failed reason={}", LogValue(st.error().message));
    return 1;
  }
  sd_notify(0, "READY=1\nSTATUS=running");
  spdlog::info("daemon.ready config={} database={} campaigns_dir={}", options_.config_path.string(),
               engine_->config().database.string(), engine_->config().campaigns_dir.string());

  while (!stopping_) {
    RunRequested();
    // Every endpoint that may go now gets its step, each bounded by the engine (one
    // request per endpoint, one token fetch per app).
    while (!stopping_ && Dispatch()) {
    }
    if (stopping_) break;
    const Instant reading = clock_.Read();
    ArmAt(wake_fd_.get(), engine_->NextWake(), reading, "wake");
    ArmAt(settle_rescan_fd_.get(), engine_->NextRescan(), reading, "settle_rescan");
    status_.Update(*engine_, reading);

    std::array<pollfd, kWaitSources> fds{};
    if (!Wait(fds)) break;
    HandleReady(fds);
  }
  Shutdown();
  return exit_code_;
}

}  // namespace

void BlockDaemonSignals() {
  sigset_t set = DaemonSignals();
  // Fails only for an invalid `how` (EINVAL): SIG_BLOCK is valid.
  (void)::pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int RunDaemon(const DaemonOptions& options, const Clock& clock, HttpTransport& transport) {
  Daemon daemon(options, clock, transport);
  return daemon.Run();
}

}  // namespace broadcastd
