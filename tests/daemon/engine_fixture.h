#pragma once
// The engine inside one process: real SQLite files, real campaign files, a fake
// clock and a scripted HTTP transport. Shared by the engine's test files.

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "core/time_format.h"
#include "daemon/engine.h"
#include "fakes/fake_clock.h"
#include "fakes/scripted_transport.h"
#include "fakes/temp_dir.h"
#include "fakes/test_config.h"

namespace broadcastd {

inline TimePoint T(const char* text) { return *ParseRfc3339(text); }

inline std::string Ok(const std::string& id) {
  return R"({"path":"/messages/broadcast","action":"post","data":{"id":)" + id +
         R"(},"duration":0})";
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.Write("credentials/main.token", "the-app-token\n");
    std::filesystem::create_directories(dir_ / "campaigns");
    config_ = TestConfig(dir_.path());
    // The fake clock runs months after the files' real modification times (the due of a
    // broadcast without send_at), and tests hold jobs across days: no lateness guard here
    // but where a test sets one (lateness_test.cc).
    config_.max_delay = std::nullopt;
  }

  std::unique_ptr<Engine> Start() {
    auto engine = Engine::Create(config_, dir_ / "credentials", transport_, clock_);
    EXPECT_TRUE(engine.has_value()) << engine.error().message;
    // The files were closed after writing, as inotify would have told the daemon.
    for (const auto& entry : std::filesystem::directory_iterator(dir_ / "campaigns")) {
      (*engine)->MarkWritten(entry.path().filename().string());
    }
    Status st = (*engine)->Start();
    EXPECT_TRUE(st.has_value()) << st.error().message;
    return std::move(*engine);
  }

  // Next() as the loop runs it: a token fetch is done and handed back, then
  // Next() again. Returns the claimed send, if any.
  std::optional<PendingSend> Claim(Engine& engine) {
    for (int round = 0; round < 8; ++round) {
      auto next = engine.Next();
      EXPECT_TRUE(next.has_value()) << next.error().message;
      if (!next.has_value()) return std::nullopt;
      if (auto* request = std::get_if<TokenRequest>(&*next)) {
        engine.TokenFetched(*request, Engine::FetchToken(*request));
        continue;
      }
      if (auto* send = std::get_if<PendingSend>(&*next)) return *send;
      return std::nullopt;
    }
    ADD_FAILURE() << "Next() asked for a token again and again";
    return std::nullopt;
  }

  // Claims the next job and answers it with the next scripted answer.
  std::optional<int64_t> SendNext(Engine& engine) {
    std::optional<PendingSend> send = Claim(engine);
    if (!send) return std::nullopt;
    BroadcastAnswer answer = Engine::Perform(*send);
    Status st = engine.Complete(*send, answer);
    EXPECT_TRUE(st.has_value()) << st.error().message;
    return send->job.id;
  }

  JobRow Job(Engine& engine, int64_t id) { return engine.store().Job(id).value().value(); }

  void Campaign(const std::string& name, const std::string& yaml) {
    dir_.Write("campaigns/" + name, yaml);
  }

  TempDir dir_;
  Config config_;
  FakeClock clock_{T("2027-03-01T00:00:00Z")};
  ScriptedTransport transport_;
};

}  // namespace broadcastd
