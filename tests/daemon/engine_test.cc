// The daemon's decisions and durable effects end to end inside one process: real
// SQLite files, real campaign files, a fake clock and a scripted HTTP transport.

#include "daemon/engine_fixture.h"

namespace broadcastd {
namespace {

using namespace std::chrono_literals;

constexpr const char* kThreeUsers = R"(id: c
broadcasts:
  - {name: a, target: users, message: {type: txt, msg: one}}
  - {name: b, target: users, message: {type: txt, msg: two}}
  - {name: c, target: users, message: {type: txt, msg: three}}
)";

TEST_F(EngineTest, SendsDueJobKeepsItsExactIdAndWaitsForTheWindow) {
  Campaign("c.yaml", kThreeUsers);
  auto engine = Start();
  transport_.PushHttp(200, Ok("1365344904091349007"));
  auto first = SendNext(*engine);
  ASSERT_TRUE(first.has_value());
  JobRow row = Job(*engine, *first);
  EXPECT_EQ(row.state, JobState::kSent);
  EXPECT_EQ(row.broadcast_id, "1365344904091349007");
  ASSERT_EQ(transport_.requests().size(), 1u);
  EXPECT_EQ(transport_.requests()[0].url, "http://127.0.0.1:9/org/app/messages/broadcast");
  EXPECT_EQ(ScriptedTransport::Header(transport_.requests()[0], "Authorization"),
            "Bearer the-app-token");

  auto audit = engine->store().AttemptsOf(*first).value();
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].outcome, OutcomeClass::kSent);
  EXPECT_EQ(audit[0].http_status, 200);
  EXPECT_EQ(audit[0].broadcast_id, "1365344904091349007");

  // The all-users window is 30 min: nothing more now, and the loop is told when.
  EXPECT_FALSE(SendNext(*engine).has_value());
  auto wake = engine->NextWake();
  ASSERT_TRUE(wake.has_value());
  EXPECT_GE(*wake, clock_.Now() + 30min);
  EXPECT_LE(*wake, clock_.Now() + 30min + 1s);
  EXPECT_EQ(transport_.requests().size(), 1u);

  clock_.Set(*wake);
  transport_.PushHttp(200, Ok("1365344904091349008"));
  EXPECT_TRUE(SendNext(*engine).has_value());
}

TEST_F(EngineTest, A429WaitsAndRetriesTheSameJob) {
  Campaign("c.yaml", kThreeUsers);
  auto engine = Start();
  transport_.PushHttp(429,
                      R"({"error":"","error_description":"This request has reached api limit"})");
  auto id = SendNext(*engine);
  ASSERT_TRUE(id.has_value());
  JobRow row = Job(*engine, *id);
  EXPECT_EQ(row.state, JobState::kReady);
  EXPECT_EQ(row.attempts, 1);
  ASSERT_TRUE(row.not_before.has_value());
  EXPECT_GE(*row.not_before, clock_.Now() + 30min);  // at least the window again

  clock_.Set(*row.not_before);
  transport_.PushHttp(200, Ok("7"));
  auto again = SendNext(*engine);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *id);  // the same job, first in line
  EXPECT_EQ(Job(*engine, *id).state, JobState::kSent);
}

TEST_F(EngineTest, MaybeAppliedAnswersBecomeUnknownAndAreNeverResent) {
  Campaign("c.yaml", R"(id: c
broadcasts:
  - {name: a, target: chatrooms, message: {type: txt, msg: one}}
  - {name: b, target: chatrooms, message: {type: txt, msg: two}}
  - {name: c, target: chatrooms, message: {type: txt, msg: three}}
)");
  auto engine = Start();
  transport_.PushHttp(503, "<html>busy</html>");
  auto a = SendNext(*engine);
  clock_.Advance(2s);
  transport_.PushHttp(200, R"({"data":{}})");  // 200 without an id
  auto b = SendNext(*engine);
  clock_.Advance(2s);
  transport_.PushFailure(TransportFailure::kMaybeSent, "connection reset after the body");
  auto c = SendNext(*engine);
  ASSERT_TRUE(a && b && c);
  for (int64_t id : {*a, *b, *c}) EXPECT_EQ(Job(*engine, id).state, JobState::kUnknown) << id;

  clock_.Advance(24h);
  EXPECT_FALSE(SendNext(*engine).has_value());
  EXPECT_EQ(transport_.requests().size(), 3u);
}

TEST_F(EngineTest, RestartTurnsInFlightJobsUnknownAndKeepsTheDaysBudget) {
  Campaign("c.yaml", R"(id: c
broadcasts:
  - {name: a, target: users, message: {type: txt, msg: "1"}}
  - {name: b, target: users, message: {type: txt, msg: "2"}}
  - {name: c, target: users, message: {type: txt, msg: "3"}}
  - {name: d, target: users, message: {type: txt, msg: "4"}}
)");
  int64_t in_flight = 0;
  {
    auto engine = Start();
    transport_.PushHttp(200, Ok("1"));
    SendNext(*engine);
    clock_.Advance(31min);
    transport_.PushHttp(200, Ok("2"));
    SendNext(*engine);
    clock_.Advance(31min);
    auto next = Claim(*engine);  // claimed, and then the process dies
    ASSERT_TRUE(next.has_value());
    in_flight = next->job.id;
  }
  clock_.Advance(31min);
  auto engine = Start();
  EXPECT_EQ(Job(*engine, in_flight).state, JobState::kUnknown);
  // Three attempts today (the in-flight one counts): the budget of 3 is spent.
  EXPECT_FALSE(SendNext(*engine).has_value());
  auto wake = engine->NextWake();
  ASSERT_TRUE(wake.has_value());
  EXPECT_GE(*wake, T("2027-03-02T00:00:00Z"));
  clock_.Set(*wake);
  transport_.PushHttp(200, Ok("4"));
  EXPECT_TRUE(SendNext(*engine).has_value());
  EXPECT_EQ(transport_.requests().size(), 3u);
}

TEST_F(EngineTest, ExpiredJobIsNotSentAndUnopenedPausesTheEndpoint) {
  Campaign("c.yaml", R"(id: c
broadcasts:
  - {name: a, target: online_users, message: {type: txt, msg: "1"}}
  - name: late
    target: online_users
    send_at: "2027-03-01T00:00:00Z"
    expires_at: "2027-03-01T00:00:30Z"
    message: {type: txt, msg: "2"}
  - {name: c, target: online_users, message: {type: txt, msg: "3"}}
)");
  auto engine = Start();
  transport_.PushHttp(200, Ok("1"));
  SendNext(*engine);
  clock_.Advance(61s);  // the window reopens after the second job expired
  transport_.PushHttp(
      403,
      R"({"error":"forbidden_op","error_description":"message broadcast service is unopened"})");
  auto c = SendNext(*engine);
  ASSERT_TRUE(c.has_value());
  auto jobs = engine->store().Jobs().value();
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(jobs[1].state, JobState::kExpired);
  EXPECT_EQ(Job(*engine, *c).state, JobState::kFailed);
  auto pauses = engine->store().Pauses().value();
  ASSERT_EQ(pauses.size(), 1u);
  EXPECT_EQ(pauses[0].target, BroadcastTarget::kOnlineUsers);
}

TEST_F(EngineTest, OperatorCancelBetweenDecisionAndClaimIsHonoured) {
  Campaign("c.yaml", kThreeUsers);
  auto engine = Start();
  auto jobs = engine->store().Jobs().value();
  // Another process cancels the first job; this engine has not re-read the queue.
  auto other = Store::Open(config_.database, Store::Mode::kReadWrite);
  ASSERT_TRUE(other.has_value());
  ASSERT_TRUE(other->CancelJob(jobs[0].id, clock_.Now()).has_value());
  transport_.PushHttp(200, Ok("5"));
  auto sent = SendNext(*engine);
  ASSERT_TRUE(sent.has_value());
  EXPECT_EQ(*sent, jobs[1].id);
  EXPECT_EQ(Job(*engine, jobs[0].id).state, JobState::kCancelled);
}

// Another process pauses the endpoint, or cancels a job about to expire, after
// this engine read its queue: the store's word wins and the daemon goes on.
TEST_F(EngineTest, PauseOrCancelFromAnotherProcessIsHonouredWithoutError) {
  Campaign("c.yaml", R"(id: c
broadcasts:
  - {name: room, target: chatrooms, message: {type: txt, msg: one}}
  - name: soon
    target: online_users
    send_at: "2027-03-01T00:00:00Z"
    expires_at: "2027-03-01T00:00:10Z"
    message: {type: txt, msg: two}
)");
  auto engine = Start();
  auto jobs = engine->store().Jobs().value();
  auto other = Store::Open(config_.database, Store::Mode::kReadWrite);
  ASSERT_TRUE(other.has_value());
  ASSERT_TRUE(other->Pause("main", BroadcastTarget::kChatrooms, "by hand", clock_.Now()));
  ASSERT_TRUE(other->Pause("main", BroadcastTarget::kOnlineUsers, "by hand", clock_.Now()));
  ASSERT_TRUE(other->CancelJob(jobs[1].id, clock_.Now()));
  clock_.Advance(20s);  // the second job's expiry passes while it is cancelled

  EXPECT_FALSE(Claim(*engine).has_value());
  EXPECT_TRUE(transport_.requests().empty());
  EXPECT_EQ(Job(*engine, jobs[0].id).state, JobState::kReady);
  EXPECT_EQ(Job(*engine, jobs[1].id).state, JobState::kCancelled);

  ASSERT_TRUE(other->Resume("main", BroadcastTarget::kChatrooms, clock_.Now()));
  ASSERT_TRUE(engine->ReloadQueue());
  transport_.PushHttp(200, Ok("9"));
  auto sent = SendNext(*engine);
  ASSERT_TRUE(sent.has_value());
  EXPECT_EQ(*sent, jobs[0].id);
}

// An operator resolves an unknown job as not sent from another process; the
// daemon notices at its next rescan even if the signal never arrived.
TEST_F(EngineTest, OperatorResolutionFromAnotherProcessIsPickedUpAtTheNextRescan) {
  Campaign("c.yaml", R"(id: c
broadcasts:
  - {name: a, target: online_users, message: {type: txt, msg: one}}
)");
  auto engine = Start();
  transport_.PushFailure(TransportFailure::kMaybeSent, "empty reply");
  auto id = SendNext(*engine);
  ASSERT_TRUE(id.has_value());
  ASSERT_EQ(Job(*engine, *id).state, JobState::kUnknown);

  clock_.Advance(2min);
  auto other = Store::Open(config_.database, Store::Mode::kReadWrite);
  ASSERT_TRUE(other.has_value());
  ASSERT_TRUE(other->ResolveNotSent(*id, clock_.Now()).has_value());
  EXPECT_FALSE(SendNext(*engine).has_value());  // not seen yet

  ASSERT_TRUE(engine->Rescan().has_value());
  transport_.PushHttp(200, Ok("42"));
  auto again = SendNext(*engine);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *id);
  EXPECT_EQ(Job(*engine, *id).broadcast_id, "42");
  EXPECT_EQ(engine->store().AttemptsOf(*id).value().size(), 2u);
}

}  // namespace
}  // namespace broadcastd
