#include "status/listener_notice.h"

#include <fstream>
#include <sstream>

namespace broadcastd {

std::optional<std::filesystem::path> ListenerNoticePath(const Config& config) {
  if (config.DatabaseIsPostgres()) return std::nullopt;
  return std::filesystem::path(config.database.string() + ".http");
}

void WriteListenerNotice(const Config& config, const std::string& message) {
  const auto path = ListenerNoticePath(config);
  if (!path) return;
  const std::filesystem::path temp = path->string() + ".new";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << message << "\n";
    if (!out) return;
  }
  std::error_code ec;
  std::filesystem::rename(temp, *path, ec);
}

void ClearListenerNotice(const Config& config) {
  const auto path = ListenerNoticePath(config);
  if (!path) return;
  std::error_code ec;
  std::filesystem::remove(*path, ec);
}

std::optional<std::string> ReadListenerNotice(const Config& config) {
  const auto path = ListenerNoticePath(config);
  if (!path) return std::nullopt;
  std::ifstream in(*path);
  if (!in) return std::nullopt;
  std::string line;
  std::getline(in, line);
  if (line.empty()) return std::nullopt;
  return line;
}

}  // namespace broadcastd
