#pragma once
// A daemon config for tests: one app named "main" (or the one given), the
// vendor's default limits, the database and campaigns_dir inside `dir`.

#include <filesystem>

#include "config/config.h"

namespace broadcastd {

// An app on a loopback host that nothing answers unless a test says so; it
// authenticates with a ready token file named main.token.
inline AppConfig TestApp() {
  AppConfig app;
  app.name = "main";
  app.host = "http://127.0.0.1:9";
  app.org = "org";
  app.app = "app";
  app.client_id = "cid";
  app.token_file = "main.token";
  return app;
}

inline Config TestConfig(const std::filesystem::path& dir, const AppConfig& app = TestApp()) {
  Config config;
  config.database = dir / "queue.db";
  config.campaigns_dir = dir / "campaigns";
  config.apps[app.name] = app;
  for (BroadcastTarget t : kAllTargets) config.limits[t] = DefaultLimits(t);
  // Tests start on a new database with files already in the folder, and mean them sent.
  config.on_new_queue = Config::NewQueue::kSend;
  return config;
}

}  // namespace broadcastd
