// The Status: line systemd shows for the service: built from facts, and kept in
// step with a real engine's queue.

#include "daemon/service_status.h"

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "daemon/engine.h"
#include "fakes/fake_clock.h"
#include "fakes/scripted_transport.h"
#include "fakes/temp_dir.h"
#include "fakes/test_config.h"

namespace broadcastd {
namespace {

using namespace std::chrono_literals;

TimePoint T(const char* text) { return *ParseRfc3339(text); }

TEST(ServiceStatusTextTest, IdleSaysNothingIsQueued) {
  ServiceStatusFacts f;
  f.now = T("2027-03-01T08:00:00Z");
  EXPECT_EQ(ServiceStatusText(f), "nothing queued");
}

TEST(ServiceStatusTextTest, QueuedNextSendAndUnknownJobs) {
  ServiceStatusFacts f;
  f.now = T("2027-03-01T08:00:00Z");
  f.queued = 12;
  f.next_endpoint = "main/users";
  f.next_at = T("2027-03-01T09:00:00Z");
  f.unknown = 1;
  EXPECT_EQ(ServiceStatusText(f),
            "12 queued; next main/users at 09:00:00Z; 1 unknown needs an operator");
}

TEST(ServiceStatusTextTest, SendingPausedAndANextSendOnAnotherDay) {
  ServiceStatusFacts f;
  f.now = T("2027-03-01T23:00:00Z");
  f.queued = 3;
  f.sending = {{41, "main/chatrooms"}};
  f.next_endpoint = "main/users";
  f.next_at = T("2027-03-02T00:30:00Z");
  f.paused = {"side/online_users"};
  f.unknown = 2;
  EXPECT_EQ(ServiceStatusText(f),
            "sending job 41 (main/chatrooms); 3 queued; next main/users at 2027-03-02T00:30:00Z; "
            "side/online_users paused; 2 unknown need an operator");
  f.paused.push_back("side/users");
  EXPECT_NE(ServiceStatusText(f).find("; 2 endpoints paused;"), std::string::npos);
}

TEST(ServiceStatusTextTest, SeveralRequestsInFlight) {
  ServiceStatusFacts f;
  f.now = T("2027-03-01T08:00:00Z");
  f.queued = 4;
  f.sending = {{41, "main/chatrooms"}, {42, "main/users"}};
  f.next_endpoint = "main/chatrooms";
  f.next_at = T("2027-03-01T08:00:01Z");
  EXPECT_EQ(ServiceStatusText(f),
            "sending jobs 41 (main/chatrooms), 42 (main/users); 4 queued; next main/chatrooms at "
            "08:00:01Z");
}

TEST(ServiceStatusTextTest, QueuedWithNothingSoonAndNoControlCharacters) {
  ServiceStatusFacts f;
  f.now = T("2027-03-01T08:00:00Z");
  f.queued = 5;
  f.paused = {"ma\nin/users"};
  const std::string text = ServiceStatusText(f);
  EXPECT_EQ(text.find('\n'), std::string::npos) << text;
  EXPECT_EQ(text, "5 queued; no send within 48 h; ma\\nin/users paused");
}

// The text follows the engine: jobs taken in, one in flight, then its window.
TEST(ServiceStatusTest, FollowsTheEngineQueue) {
  TempDir dir;
  dir.Write("credentials/main.token", "the-app-token\n");
  dir.Write("campaigns/c.yaml", R"(id: c
broadcasts:
  - {name: a, target: users, message: {type: txt, msg: one}}
  - {name: b, target: users, message: {type: txt, msg: two}}
)");
  Config config = TestConfig(dir.path());
  config.safety_margin = 0ms;
  // The fake clock runs months after the file's real modification time (the due of a
  // broadcast without send_at): no lateness guard here.
  config.max_delay = std::nullopt;
  FakeClock clock{T("2027-03-01T08:00:00Z")};
  ScriptedTransport transport;
  auto engine = Engine::Create(config, dir / "credentials", transport, clock);
  ASSERT_TRUE(engine.has_value()) << engine.error().message;
  (*engine)->MarkWritten("c.yaml");  // closed after writing, as inotify would say
  ASSERT_TRUE((*engine)->Start().has_value());

  ServiceStatus status;
  status.Update(**engine, clock.Read());
  EXPECT_EQ(status.text(), "2 queued; next main/users at 08:00:00Z");

  // As the loop does: the app's token first, then the claim.
  std::optional<PendingSend> next;
  for (int round = 0; round < 4 && !next; ++round) {
    auto step = (*engine)->Next();
    ASSERT_TRUE(step.has_value()) << step.error().message;
    if (auto* request = std::get_if<TokenRequest>(&*step)) {
      (*engine)->TokenFetched(*request, Engine::FetchToken(*request));
    } else if (auto* send = std::get_if<PendingSend>(&*step)) {
      next = *send;
    }
  }
  ASSERT_TRUE(next.has_value());
  status.Update(**engine, clock.Read());
  EXPECT_EQ(status.text(), "sending job " + std::to_string(next->job.id) +
                               " (main/users); 1 queued; next main/users at 08:30:00Z");

  transport.PushHttp(200, R"({"data":{"id":17}})");
  ASSERT_TRUE((*engine)->Complete(*next, Engine::Perform(*next)).has_value());
  status.Update(**engine, clock.Read());
  EXPECT_EQ(status.text(), "1 queued; next main/users at 08:30:00Z");
}

}  // namespace
}  // namespace broadcastd
