// Several requests in flight at once: one per endpoint (app, target), one token
// fetch per app, the engine's state touched only by the caller's thread.

#include "daemon/engine_fixture.h"

namespace broadcastd {
namespace {

using namespace std::chrono_literals;

constexpr const char* kUsersAndChatrooms = R"(id: c
broadcasts:
  - {name: u1, target: users, message: {type: txt, msg: one}}
  - {name: r1, target: chatrooms, message: {type: txt, msg: two}}
  - {name: r2, target: chatrooms, message: {type: txt, msg: three}}
)";

constexpr const char* kTwoChatrooms = R"(id: c
broadcasts:
  - {name: r1, target: chatrooms, message: {type: txt, msg: one}}
  - {name: r2, target: chatrooms, message: {type: txt, msg: two}}
)";

class EngineWorkersTest : public EngineTest {
 protected:
  // Next() once, expecting a claimed send.
  PendingSend NextSend(Engine& engine) {
    auto next = engine.Next();
    EXPECT_TRUE(next.has_value()) << next.error().message;
    if (!next || !std::holds_alternative<PendingSend>(*next)) {
      ADD_FAILURE() << "Next() gave no send";
      return {};
    }
    return std::get<PendingSend>(*next);
  }
  bool NextIsNothing(Engine& engine) {
    auto next = engine.Next();
    EXPECT_TRUE(next.has_value()) << next.error().message;
    return next && std::holds_alternative<std::monostate>(*next);
  }
};

TEST_F(EngineWorkersTest, TwoEndpointsEachGetASendBeforeEitherCompletes) {
  Campaign("c.yaml", kUsersAndChatrooms);
  auto engine = Start();
  std::optional<PendingSend> first = Claim(*engine);
  ASSERT_TRUE(first.has_value());
  PendingSend second = NextSend(*engine);
  EXPECT_NE(first->job.endpoint, second.job.endpoint);
  // Both are claimed and counted by their windows before either answer.
  EXPECT_EQ(Job(*engine, first->job.id).state, JobState::kSending);
  EXPECT_EQ(Job(*engine, second.job.id).state, JobState::kSending);
  EXPECT_EQ(engine->Sending().size(), 2u);
  const Instant now = clock_.Read();
  for (const PendingSend* s : {&*first, &second}) {
    EXPECT_EQ(engine->scheduler().limiter().View(s->job.endpoint, now).used_today, 1);
  }
  // Nothing more: each endpoint has its request in flight.
  EXPECT_TRUE(NextIsNothing(*engine));

  // Answers may come back in any order.
  transport_.PushHttp(200, Ok("2"));
  ASSERT_TRUE(engine->Complete(second, Engine::Perform(second)).has_value());
  transport_.PushHttp(200, Ok("1"));
  ASSERT_TRUE(engine->Complete(*first, Engine::Perform(*first)).has_value());
  EXPECT_EQ(Job(*engine, first->job.id).state, JobState::kSent);
  EXPECT_EQ(Job(*engine, second.job.id).state, JobState::kSent);
  EXPECT_TRUE(engine->Sending().empty());
}

TEST_F(EngineWorkersTest, NeverTwoRequestsInFlightOnOneEndpoint) {
  Campaign("c.yaml", kTwoChatrooms);
  auto engine = Start();
  std::optional<PendingSend> first = Claim(*engine);
  ASSERT_TRUE(first.has_value());
  // The chatrooms window (1 per second) opens again while the answer is still out:
  // the endpoint stays held until the answer is in.
  clock_.Advance(5s);
  EXPECT_TRUE(NextIsNothing(*engine));
  EXPECT_TRUE(NextIsNothing(*engine));
  EXPECT_EQ(transport_.requests().size(), 0u);

  transport_.PushHttp(200, Ok("1"));
  ASSERT_TRUE(engine->Complete(*first, Engine::Perform(*first)).has_value());
  clock_.Advance(2s);
  PendingSend second = NextSend(*engine);
  EXPECT_NE(second.job.id, first->job.id);
  EXPECT_EQ(second.job.endpoint, first->job.endpoint);
}

TEST_F(EngineWorkersTest, AbandonReleasesTheEndpoint) {
  Campaign("c.yaml", kTwoChatrooms);
  auto engine = Start();
  std::optional<PendingSend> first = Claim(*engine);
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(engine->Abandon(*first).has_value());
  EXPECT_EQ(Job(*engine, first->job.id).state, JobState::kUnknown);
  EXPECT_TRUE(engine->Sending().empty());
  clock_.Advance(2s);
  EXPECT_NE(NextSend(*engine).job.id, first->job.id);
}

TEST_F(EngineWorkersTest, OneTokenFetchPerAppWhileItIsInFlight) {
  Campaign("c.yaml", kUsersAndChatrooms);
  auto engine = Start();
  auto step = engine->Next();
  ASSERT_TRUE(step.has_value()) << step.error().message;
  auto* request = std::get_if<TokenRequest>(&*step);
  ASSERT_NE(request, nullptr);
  EXPECT_TRUE(engine->FetchingToken("main"));
  // Both endpoints of the app wait for that one fetch: no second one, no claim.
  EXPECT_TRUE(NextIsNothing(*engine));
  EXPECT_TRUE(NextIsNothing(*engine));

  engine->TokenFetched(*request, Engine::FetchToken(*request));
  EXPECT_FALSE(engine->FetchingToken("main"));
  PendingSend a = NextSend(*engine);
  PendingSend b = NextSend(*engine);
  EXPECT_NE(a.job.endpoint, b.job.endpoint);
  EXPECT_EQ(a.token, "the-app-token");
  EXPECT_EQ(b.token, "the-app-token");
}

TEST_F(EngineWorkersTest, AFailedTokenFetchLetsTheAppFetchAgainAfterItsBackoff) {
  Campaign("c.yaml", kUsersAndChatrooms);
  auto engine = Start();
  auto step = engine->Next();
  ASSERT_TRUE(step.has_value());
  auto* request = std::get_if<TokenRequest>(&*step);
  ASSERT_NE(request, nullptr);
  engine->TokenFetched(*request, std::unexpected(Error{"refused", ErrorKind::kUnavailable}));
  EXPECT_FALSE(engine->FetchingToken("main"));
  EXPECT_TRUE(NextIsNothing(*engine));  // the backoff
  clock_.Advance(2s);
  auto again = engine->Next();
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(std::holds_alternative<TokenRequest>(*again));
}

TEST_F(EngineWorkersTest, ReconfigureKeepsTheClientOfARequestInFlight) {
  Campaign("c.yaml", kUsersAndChatrooms);
  auto engine = Start();
  std::optional<PendingSend> send = Claim(*engine);
  ASSERT_TRUE(send.has_value());
  const std::string old_url = "http://127.0.0.1:9/org/app/";

  Config moved = config_;
  moved.apps["main"].host = "http://127.0.0.1:10";
  ASSERT_TRUE(engine->Reconfigure(moved).has_value());
  // The engine replaced its clients; the request holds the old one, alive.
  ASSERT_NE(send->client, nullptr);
  EXPECT_EQ(send->client.use_count(), 1);
  transport_.PushHttp(200, Ok("1"));
  BroadcastAnswer answer = Engine::Perform(*send);  // a use-after-free under ASan before
  ASSERT_EQ(transport_.requests().size(), 1u);
  EXPECT_TRUE(transport_.requests()[0].url.starts_with(old_url)) << transport_.requests()[0].url;

  // Its endpoint stays held across the reload; the other one goes on the new client
  // (after the new client's own token).
  std::optional<PendingSend> other = Claim(*engine);
  ASSERT_TRUE(other.has_value());
  EXPECT_NE(other->job.endpoint, send->job.endpoint);
  ASSERT_NE(other->client, nullptr);
  EXPECT_NE(other->client, send->client);
  transport_.PushHttp(200, Ok("2"));
  BroadcastAnswer other_answer = Engine::Perform(*other);
  ASSERT_EQ(transport_.requests().size(), 2u);
  EXPECT_TRUE(transport_.requests()[1].url.starts_with("http://127.0.0.1:10/org/app/"))
      << transport_.requests()[1].url;
  // Both endpoints have a request in flight: nothing more until an answer is in.
  EXPECT_TRUE(NextIsNothing(*engine));

  ASSERT_TRUE(engine->Complete(*send, answer).has_value());
  ASSERT_TRUE(engine->Complete(*other, other_answer).has_value());
  EXPECT_EQ(Job(*engine, send->job.id).state, JobState::kSent);
  EXPECT_EQ(Job(*engine, other->job.id).state, JobState::kSent);
}

}  // namespace
}  // namespace broadcastd
