// Wall-clock steps (issue 8, case 9): windows and waits are measured on the monotonic
// clock, the wall clock answers calendar questions only. Real SQLite files, a fake
// clock whose wall part the tests step, a scripted transport.

#include <gtest/gtest.h>

#include "daemon/engine_fixture.h"

namespace broadcastd {
namespace {

using namespace std::chrono_literals;

// The all-users window (30 min) plus the config's default safety margin.
const Duration kUsersWindow = 30min + Config{}.safety_margin;

constexpr const char* kThreeUsers = R"(id: c
broadcasts:
  - {name: a, target: users, message: {type: txt, msg: one}}
  - {name: b, target: users, message: {type: txt, msg: two}}
  - {name: c, target: users, message: {type: txt, msg: three}}
)";

class ClockStepTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    clock_.Set(T("2027-03-01T12:00:00Z"));
    Campaign("c.yaml", kThreeUsers);
  }

  // Claims the next due job, if any, and answers it with a success.
  bool SendNext(Engine& engine) {
    std::optional<PendingSend> next = Claim(engine);
    if (!next) return false;
    transport_.PushHttp(200, Ok(std::to_string(++last_id_)));
    BroadcastAnswer answer = Engine::Perform(*next);
    Status st = engine.Complete(*next, answer);
    EXPECT_TRUE(st.has_value()) << st.error().message;
    return true;
  }

  // How long, on the monotonic clock, the engine waits before it sends again.
  Duration WaitFor(Engine& engine) {
    EXPECT_FALSE(SendNext(engine));
    auto wake = engine.NextWake();
    EXPECT_TRUE(wake.has_value());
    return wake ? *wake - clock_.Now() : Duration::max();
  }

  int last_id_ = 100;
};

TEST_F(ClockStepTest, AForwardStepDoesNotOpenTheWindowEarly) {
  auto engine = Start();
  ASSERT_TRUE(SendNext(*engine));
  clock_.Advance(2600ms);
  clock_.Step(2h);  // the wall clock says the window is long over
  EXPECT_EQ(WaitFor(*engine), kUsersWindow - 2600ms);
  clock_.Advance(kUsersWindow - 2600ms - 1ms);
  EXPECT_FALSE(SendNext(*engine));
  clock_.Advance(1ms);
  EXPECT_TRUE(SendNext(*engine));
  EXPECT_EQ(transport_.requests().size(), 2u);
}

TEST_F(ClockStepTest, ABackwardStepOfTwoHoursStallsNoLongerThanOneWindow) {
  auto engine = Start();
  ASSERT_TRUE(SendNext(*engine));
  clock_.Advance(1s);
  clock_.Step(-2h);  // the jobs' due and the attempt now lie two hours ahead
  EXPECT_EQ(WaitFor(*engine), kUsersWindow - 1s);
  clock_.Advance(kUsersWindow - 1s);
  EXPECT_TRUE(SendNext(*engine));
  EXPECT_EQ(transport_.requests().size(), 2u);
}

TEST_F(ClockStepTest, AttemptsStoredInTheFutureAreClampedAtStartUp) {
  // The clock ran three hours ahead while the daemon sent; then the machine restarted
  // with the clock corrected. Nothing on this boot can say when the attempt really was.
  clock_.Step(3h);
  {
    auto engine = Start();
    ASSERT_TRUE(SendNext(*engine));
  }
  clock_.Step(-3h);
  clock_.Reboot("another-boot", MonoFromMillis(5000));
  auto engine = Start();
  // Counted as made now: one window, not three hours and a window.
  EXPECT_EQ(WaitFor(*engine), kUsersWindow);
  clock_.Advance(kUsersWindow);
  EXPECT_TRUE(SendNext(*engine));
}

TEST_F(ClockStepTest, ARestartOnTheSameBootPlacesAttemptsByTheMonotonicClock) {
  {
    auto engine = Start();
    ASSERT_TRUE(SendNext(*engine));
  }
  clock_.Advance(10min);
  clock_.Step(-2h);
  auto engine = Start();
  EXPECT_EQ(WaitFor(*engine), kUsersWindow - 10min);

  // And a step forward before a restart does not hide the attempt either.
  engine.reset();
  clock_.Step(48h);  // beyond the wall-clock lookback of the audit
  engine = Start();
  EXPECT_EQ(WaitFor(*engine), kUsersWindow - 10min);
}

TEST_F(ClockStepTest, TheAuditKeepsBothClocks) {
  auto engine = Start();
  clock_.Advance(7ms);
  ASSERT_TRUE(SendNext(*engine));
  auto attempts = engine->store().AttemptsSince(TimePoint{}).value();
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].started_at, clock_.Now());
  EXPECT_EQ(attempts[0].started_mono, clock_.Monotonic());
  EXPECT_EQ(attempts[0].ended_mono, clock_.Monotonic());
  EXPECT_EQ(attempts[0].boot_id, clock_.BootId());
}

// A 429's hold is an interval too: after a step back, the retried job waits for the
// hold as measured on the monotonic clock, not for its stored not_before (a wall time
// now two hours further away).
TEST_F(ClockStepTest, A429HoldIsNotStretchedByABackwardStep) {
  auto engine = Start();
  auto next = Claim(*engine);
  ASSERT_TRUE(next.has_value());
  transport_.PushHttp(429,
                      R"({"error":"","error_description":"This request has reached api limit"})");
  ASSERT_TRUE(engine->Complete(*next, Engine::Perform(*next)).has_value());
  const int64_t id = next->job.id;
  const JobRow row = engine->store().Job(id).value().value();
  ASSERT_TRUE(row.not_before.has_value());
  const Duration hold = *row.not_before - clock_.Now();
  EXPECT_GE(hold, kUsersWindow);

  clock_.Advance(1s);
  clock_.Step(-2h);
  EXPECT_EQ(WaitFor(*engine), hold - 1s);
  clock_.Advance(hold - 1s);
  auto again = Claim(*engine);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->job.id, id);  // the same job, first in line
}

}  // namespace
}  // namespace broadcastd
