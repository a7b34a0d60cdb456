#include "signature/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "core/unique_fd.h"

extern char** environ;

namespace broadcastd {
namespace {

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Result<Pipe> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return Fail(ErrorKind::kIo, std::string("pipe: ") + std::strerror(errno));
  }
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// Starts `argv` with the pipes' ends as its stdin, stdout and stderr.
Result<pid_t> Spawn(const std::vector<std::string>& argv, const Pipe& in, const Pipe& out,
                    const Pipe& err) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.read.get(), 0);
  posix_spawn_file_actions_adddup2(&actions, out.write.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err.write.get(), 2);
  // The daemon ignores SIGPIPE and blocks the signals its loop reads: the child starts with
  // the defaults.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  sigset_t all;
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (spawned != 0) {
    return Fail(ErrorKind::kIo, argv[0] + ": cannot be started: " + std::strerror(spawned));
  }
  return pid;
}

// Feeds `input` to the child and collects its output until it closes both, or kills it at
// `deadline`. SIGPIPE (a child that exits before reading its input) is blocked on this
// thread meanwhile, and one it raised is taken, so that it never ends the process.
void Collect(pid_t pid, const std::string& input, Pipe& in, Pipe& out, Pipe& err,
             std::chrono::steady_clock::time_point deadline, ChildResult& result) {
  sigset_t pipe_signal;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  sigset_t old_mask;
  pthread_sigmask(SIG_BLOCK, &pipe_signal, &old_mask);
  size_t written = 0;
  if (input.empty()) in.write.reset();
  char buf[4096];
  while (out.read || err.read) {
    pollfd fds[3];
    int n = 0;
    for (auto [fd, events] : {std::pair{&out.read, POLLIN}, std::pair{&err.read, POLLIN},
                              std::pair{&in.write, POLLOUT}}) {
      if (*fd) fds[n++] = pollfd{fd->get(), static_cast<short>(events), 0};
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      // Fails only when the child is gone already (ESRCH); the wait below reaps it either way.
      ::kill(pid, SIGKILL);
      break;
    }
    const int ready = ::poll(fds, static_cast<nfds_t>(n), static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) break;
    for (int i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (in.write && fds[i].fd == in.write.get()) {
        const ssize_t w = ::write(in.write.get(), input.data() + written, input.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 && errno != EAGAIN && errno != EINTR) written = input.size();  // EPIPE
        if (written >= input.size()) in.write.reset();
        continue;
      }
      UniqueFd& fd = out.read && fds[i].fd == out.read.get() ? out.read : err.read;
      std::string& sink = &fd == &out.read ? result.out : result.err;
      const ssize_t r = ::read(fd.get(), buf, sizeof buf);
      if (r > 0) {
        if (sink.size() < 65536) sink.append(buf, static_cast<size_t>(r));
      } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        fd.reset();
      }
    }
  }
  in.write.reset();
  const timespec now{0, 0};
  while (sigtimedwait(&pipe_signal, nullptr, &now) == SIGPIPE) {
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
}

}  // namespace

Result<ChildResult> RunChild(const std::vector<std::string>& argv, const std::string& input,
                             Duration timeout) {
  auto in = MakePipe();
  auto out = MakePipe();
  auto err = MakePipe();
  if (!in) return std::unexpected(in.error());
  if (!out) return std::unexpected(out.error());
  if (!err) return std::unexpected(err.error());
  auto spawned = Spawn(argv, *in, *out, *err);
  if (!spawned) return std::unexpected(spawned.error());
  const pid_t pid = *spawned;
  in->read.reset();
  out->write.reset();
  err->write.reset();
  // Our own pipe's end, open here: F_SETFL cannot fail on it (only EBADF would).
  ::fcntl(in->write.get(), F_SETFL, O_NONBLOCK);
  ChildResult result;
  Collect(pid, input, *in, *out, *err, std::chrono::steady_clock::now() + timeout, result);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace broadcastd
