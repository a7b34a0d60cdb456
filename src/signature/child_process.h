#pragma once
// Runs a program as a child process: posix_spawn (no shell), `input` on its stdin, its
// stdout and stderr collected, ended with SIGKILL once `timeout` has passed. Safe to call
// from several threads at once.

#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"

namespace broadcastd {

struct ChildResult {
  int exit_code = -1;  // -1: killed by a signal (the time bound's SIGKILL, or another)
  bool timed_out = false;
  std::string out;
  std::string err;
};

// `argv[0]` is looked up in PATH (posix_spawnp). Fails (kIo) only when the child cannot be
// started or its pipes fail; what the child said, and how it ended, is in the result.
Result<ChildResult> RunChild(const std::vector<std::string>& argv, const std::string& input,
                             Duration timeout);

}  // namespace broadcastd
