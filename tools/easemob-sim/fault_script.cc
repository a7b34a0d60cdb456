#include "fault_script.h"

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace broadcastd {

std::optional<std::string> FaultScript::Next() {
  if (file_.empty()) return std::nullopt;
  std::lock_guard lock(mutex_);
  std::ifstream in(file_);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  in.close();

  nlohmann::json script;
  try {
    script = nlohmann::json::parse(text.str());
  } catch (const std::exception& e) {
    std::cerr << "easemob-sim: fault file " << file_ << " is not JSON: " << e.what() << "\n";
    return std::nullopt;
  }
  if (!script.is_object() || !script.contains("next") || !script["next"].is_array() ||
      script["next"].empty()) {
    return std::nullopt;
  }
  nlohmann::json& next = script["next"];
  if (!next.front().is_string()) {
    std::cerr << "easemob-sim: fault file " << file_ << ": entries must be strings\n";
    next.erase(next.begin());
    return std::nullopt;
  }
  std::string fault = next.front().get<std::string>();
  next.erase(next.begin());

  // Write-then-rename, so a test reading or replacing the file never sees half of it.
  std::filesystem::path tmp = file_;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << script.dump() << "\n";
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file_, ec);
  if (ec)
    std::cerr << "easemob-sim: cannot rewrite fault file " << file_ << ": " << ec.message() << "\n";
  return fault;
}

}  // namespace broadcastd
