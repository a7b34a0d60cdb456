#pragma once
// Faults a test asks the simulator to play, one per broadcast request, read
// from a JSON file before each request so the test can change it while the
// simulator runs: {"next": ["500", "drop", "unopened", "delay:3000"]}.

#include <filesystem>
#include <mutex>
#include <optional>
#include <string>

namespace broadcastd {

class FaultScript {
 public:
  // An empty path means no faults.
  explicit FaultScript(std::filesystem::path file) : file_(std::move(file)) {}

  // Removes the first entry of "next" from the file and returns it; nullopt
  // when there is no file, no entry, or the file is not such JSON (a test's
  // typo then shows as a missing fault, and stderr says why). Thread-safe.
  std::optional<std::string> Next();

 private:
  std::filesystem::path file_;
  std::mutex mutex_;
};

}  // namespace broadcastd
