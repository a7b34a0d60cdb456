// The lateness guard through the engine, on the fake clock: a one-shot job not sent by
// the earlier of its expires_at and due + max_delay expires unsent; nothing is requested.

#include "daemon/engine_fixture.h"

namespace broadcastd {
namespace {

using namespace std::chrono_literals;

class LatenessTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    config_.max_delay = 24h;
  }

  // The one job of broadcast `name`.
  JobRow JobNamed(Engine& engine, const std::string& name) {
    const std::vector<JobRow> rows = engine.store().Jobs().value();
    for (const JobRow& row : rows) {
      if (row.broadcast == name) return row;
    }
    ADD_FAILURE() << "no job " << name;
    return {};
  }

  std::string At(Duration offset) { return FormatRfc3339(clock_.Now() + offset); }
};

TEST_F(LatenessTest, TwoDaysLateExpiresAnHourLateIsSentAndNoneIsSentHoweverLate) {
  Campaign("late.yaml",
           "id: late\nbroadcasts:\n"
           "  - {name: stale, target: users, send_at: \"" +
               At(-48h) +
               "\", message: {type: txt, msg: stale}}\n"
               "  - {name: unguarded, target: chatrooms, max_delay: none, "
               "send_at: \"" +
               At(-48h) +
               "\", message: {type: txt, msg: unguarded}}\n"
               "  - {name: recent, target: online_users, send_at: \"" +
               At(-1h) + "\", message: {type: txt, msg: recent}}\n");
  auto engine = Start();
  transport_.PushHttp(200, Ok("1"));
  transport_.PushHttp(200, Ok("2"));
  ASSERT_TRUE(SendNext(*engine).has_value());
  ASSERT_TRUE(SendNext(*engine).has_value());
  EXPECT_FALSE(SendNext(*engine).has_value());

  ASSERT_EQ(transport_.requests().size(), 2u);
  for (const auto& request : transport_.requests()) {
    EXPECT_EQ(request.body.find("stale"), std::string::npos) << request.body;
  }
  const JobRow stale = JobNamed(*engine, "stale");
  EXPECT_EQ(stale.state, JobState::kExpired);
  EXPECT_EQ(stale.attempts, 0);
  EXPECT_EQ(stale.expires, clock_.Now() - 24h);
  EXPECT_EQ(JobNamed(*engine, "unguarded").state, JobState::kSent);
  EXPECT_EQ(JobNamed(*engine, "recent").state, JobState::kSent);
}

// Users take one broadcast per 30 minutes: the second of two waits behind the first,
// its own max_delay of 20 minutes runs out meanwhile, and it expires at its deadline
// instead of going out when the window opens.
TEST_F(LatenessTest, ABacklogPushesAJobPastItsDeadlineAndItExpires) {
  Campaign("backlog.yaml",
           "id: backlog\nbroadcasts:\n"
           "  - {name: first, target: users, send_at: \"" +
               At(-1min) +
               "\", message: {type: txt, msg: one}}\n"
               "  - {name: second, target: users, max_delay: 20m, send_at: \"" +
               At(0min) + "\", message: {type: txt, msg: two}}\n");
  auto engine = Start();
  transport_.PushHttp(200, Ok("1"));
  ASSERT_TRUE(SendNext(*engine).has_value());
  EXPECT_FALSE(SendNext(*engine).has_value());
  const TimePoint deadline = clock_.Now() + 20min;
  EXPECT_EQ(JobNamed(*engine, "second").expires, deadline);
  // The loop is woken at the deadline, before the window reopens.
  ASSERT_TRUE(engine->NextWake().has_value());
  EXPECT_LE(*engine->NextWake(), deadline);

  clock_.Set(deadline);
  EXPECT_FALSE(SendNext(*engine).has_value());
  EXPECT_EQ(JobNamed(*engine, "second").state, JobState::kExpired);
  clock_.Advance(30min);
  EXPECT_FALSE(SendNext(*engine).has_value());
  EXPECT_EQ(transport_.requests().size(), 1u);
  EXPECT_EQ(JobNamed(*engine, "first").state, JobState::kSent);
}

}  // namespace
}  // namespace broadcastd
