#pragma once
// The daemon's one loop: signals (signalfd), the scheduler's next time (a
// CLOCK_BOOTTIME timerfd, so that a wall-clock step neither shortens nor stretches
// a wait), a wall-clock step (a CLOCK_REALTIME timerfd cancelled on set),
// campaigns_dir changes (inotify), the periodic rescan and the systemd watchdog (a
// monotonic timerfd), and the end of an in-flight request (eventfd). Nothing happens in a signal
// handler; the loop sleeps until one of these fires: no polling.

#include <filesystem>
#include <memory>
#include <optional>
#include <thread>

#include "core/clock.h"
#include "core/error.h"
#include "daemon/engine.h"
#include "easemob/transport.h"

namespace broadcastd {

struct DaemonOptions {
  std::filesystem::path config_path;
  // $CREDENTIALS_DIRECTORY as the caller found it (empty when unset).
  std::filesystem::path credentials_dir;
  Duration rescan_interval{std::chrono::seconds(60)};
  // SIGTERM waits this long for the requests in flight (one deadline for all),
  // then leaves those still out `unknown`.
  // Below systemd's default TimeoutStopSec (90 s).
  Duration shutdown_grace{std::chrono::seconds(15)};
};

// Blocks the signals the loop takes (SIGTERM, SIGINT, SIGHUP, SIGUSR1) in the
// calling thread and every thread it starts later. Call first thing in main.
void BlockDaemonSignals();

// Runs until SIGTERM/SIGINT (exit code 0), or until the database's files are no
// longer the ones opened (exit code 1, for the service manager to restart it).
// The caller gives the clock and the HTTP transport (main.cc the real ones; tests
// fakes); both must outlive the call. The transport is used from several worker
// threads at once (one request per endpoint, one token fetch per app): it must be
// thread-safe, as CurlTransport is.
int RunDaemon(const DaemonOptions& options, const Clock& clock, HttpTransport& transport);

}  // namespace broadcastd
