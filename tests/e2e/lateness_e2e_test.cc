// The lateness guard (issue 18, point 2): the real binary against the real simulator. A
// one-shot broadcast not sent by the earlier of its expires_at and due + max_delay
// expires instead of going out. Times are written relative to now (the daemon runs on
// the real clock); each test waits for the events that would happen, never for a time.

#include <chrono>
#include <string>

#include "core/time_format.h"
#include "e2e/daemon_fixture.h"

namespace broadcastd {
namespace {

// Now on the wall clock, as the daemon reads it, moved by `offset`.
TimePoint NowPlus(Duration offset) {
  return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now()) + offset;
}

class LatenessE2ETest : public DaemonE2ETest {
 protected:
  // The requests whose body carries `text` (each broadcast's message is unique).
  int SentWith(const std::string& text) {
    int n = 0;
    for (const auto& b : Broadcasts()) n += b.dump().find(text) != std::string::npos;
    return n;
  }

  // The job of `broadcast` in --status --json (every state).
  nlohmann::json JobOf(const std::string& broadcast) {
    for (const auto& job : AllJobs()) {
      if (job["broadcast"] == broadcast) return job;
    }
    return nlohmann::json::object();
  }

  CommandResult Check(const std::string& file) {
    return RunCommand({kBinary, "--check", "--config", (dir_ / "broadcastd.yaml").string(),
                       (dir_ / file).string()},
                      dir_.path());
  }
};

// Two days late: expired, not sent; with max_delay: none it goes; an hour late goes too.
TEST_F(LatenessE2ETest, ASendAtTwoDaysAgoExpiresUnlessItsMaxDelayIsNone) {
  const TimePoint two_days_ago = NowPlus(-std::chrono::hours(48));
  const TimePoint hour_ago = NowPlus(-std::chrono::hours(1));
  dir_.Write("campaigns/late.yaml",
             "id: late\nbroadcasts:\n"
             "  - {name: stale, target: users, send_at: \"" +
                 FormatRfc3339(two_days_ago) +
                 "\", message: {type: txt, msg: stale-text}}\n"
                 "  - {name: unguarded, target: chatrooms, max_delay: none, send_at: \"" +
                 FormatRfc3339(two_days_ago) +
                 "\", message: {type: txt, msg: unguarded-text}}\n"
                 "  - {name: recent, target: online_users, send_at: \"" +
                 FormatRfc3339(hour_ago) + "\", message: {type: txt, msg: recent-text}}\n");
  auto daemon = StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return JobStates()["sent"] == 2 && JobStates()["expired"] == 1; }, 30s))
      << ReadFile(dir_ / "daemon.log") << Status().dump(1);
  EXPECT_TRUE(LogHas("daemon.log", "job.expired")) << ReadFile(dir_ / "daemon.log");

  EXPECT_EQ(SentWith("stale-text"), 0);
  EXPECT_EQ(SentWith("unguarded-text"), 1);
  EXPECT_EQ(SentWith("recent-text"), 1);
  EXPECT_EQ(Broadcasts().size(), 2u);

  const nlohmann::json stale = JobOf("stale");
  EXPECT_EQ(stale["state"], "expired") << stale.dump();
  EXPECT_EQ(stale["attempts"], 0);
  // --status shows the deadline the guard set: send_at + 24 h (the default max_delay).
  EXPECT_EQ(stale["expires"], FormatDisplayTime(two_days_ago + std::chrono::hours(24)));
  EXPECT_EQ(JobOf("unguarded")["expires"], nullptr);
  EXPECT_EQ(JobOf("recent")["expires"], FormatDisplayTime(hour_ago + std::chrono::hours(24)));

  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(20s), 0);
}

// A backlog: users take one broadcast per 30 minutes. The second one's deadline (its own
// max_delay of a minute, from a send_at 50 s ago) passes while it waits behind the first
// (due 10 s earlier, under the default 24 h): it expires instead of going out half an
// hour late. --check says so beforehand.
TEST_F(LatenessE2ETest, ABacklogPushesAJobPastItsDeadlineAndItExpires) {
  const TimePoint first_at = NowPlus(-std::chrono::seconds(60));
  const TimePoint second_at = NowPlus(-std::chrono::seconds(50));
  const std::string campaign =
      "id: backlog\nbroadcasts:\n"
      "  - {name: first, target: users, send_at: \"" +
      FormatRfc3339(first_at) +
      "\", message: {type: txt, msg: one}}\n"
      "  - {name: second, target: users, max_delay: 1m, send_at: \"" +
      FormatRfc3339(second_at) + "\", message: {type: txt, msg: two}}\n";
  dir_.Write("backlog.yaml", campaign);
  const CommandResult check = Check("backlog.yaml");
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_NE(check.output.find("second once main/users: EXPIRES UNSENT at " +
                              FormatRfc3339(second_at + 1min)),
            std::string::npos)
      << check.output;
  EXPECT_NE(check.output.find("1 of 2 jobs would expire unsent"), std::string::npos)
      << check.output;

  dir_.Write("campaigns/backlog.yaml", campaign);
  auto daemon = StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return JobStates()["expired"] == 1; }, 30s))
      << ReadFile(dir_ / "daemon.log") << Status().dump(1);
  EXPECT_TRUE(LogHas("daemon.log", "job.expired")) << ReadFile(dir_ / "daemon.log");
  ASSERT_TRUE(WaitFor([&] { return JobStates()["sent"] == 1; }, 10s)) << Status().dump(1);
  EXPECT_EQ(Broadcasts().size(), 1u);
  const nlohmann::json first = JobOf("first");
  const nlohmann::json second = JobOf("second");
  EXPECT_EQ(first["state"], "sent") << first.dump();
  EXPECT_EQ(second["state"], "expired") << second.dump();
  EXPECT_EQ(second["attempts"], 0);
  EXPECT_EQ(second["expires"], FormatDisplayTime(second_at + 1min));

  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(20s), 0);
}

// A reload that sets max_delay re-plans the jobs still queued: one waiting behind a
// backlog, an hour late by then, expires at the reload instead of going out later.
TEST_F(LatenessE2ETest, AReloadThatSetsMaxDelayExpiresAJobAlreadyTooLate) {
  const std::string config = ReadFile(dir_ / "broadcastd.yaml");
  dir_.Write("broadcastd.yaml", config + "max_delay: none\n");
  // The first is due a minute earlier, so it goes first.
  const TimePoint hour_ago = NowPlus(-std::chrono::hours(1));
  dir_.Write("campaigns/queued.yaml",
             "id: queued\nbroadcasts:\n"
             "  - {name: first, target: users, send_at: \"" +
                 FormatRfc3339(hour_ago - 1min) +
                 "\", message: {type: txt, msg: one}}\n"
                 "  - {name: second, target: users, send_at: \"" +
                 FormatRfc3339(hour_ago) + "\", message: {type: txt, msg: two}}\n");
  auto daemon = StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return JobStates()["sent"] == 1 && JobStates()["ready"] == 1; }, 30s))
      << ReadFile(dir_ / "daemon.log") << Status().dump(1);
  ASSERT_EQ(JobOf("second")["state"], "ready");
  EXPECT_EQ(JobOf("second")["expires"], nullptr);

  dir_.Write("broadcastd.yaml", config + "max_delay: 30m\n");
  daemon->Signal(SIGHUP);
  ASSERT_TRUE(WaitFor([&] { return JobStates()["expired"] == 1; }, 30s))
      << ReadFile(dir_ / "daemon.log") << Status().dump(1);
  EXPECT_TRUE(LogHas("daemon.log", "job.expired")) << ReadFile(dir_ / "daemon.log");
  EXPECT_EQ(JobOf("second")["expires"], FormatDisplayTime(hour_ago + 30min));
  EXPECT_EQ(Broadcasts().size(), 1u);

  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(20s), 0);
}

// --check FILE warns when a send_at is already past its deadline, naming the guard.
TEST_F(LatenessE2ETest, CheckWarnsWhenASendAtIsAlreadyPastTheGuard) {
  const TimePoint two_days_ago = NowPlus(-std::chrono::hours(48));
  dir_.Write("late.yaml",
             "id: late\nbroadcasts:\n"
             "  - {name: stale, target: users, send_at: \"" +
                 FormatRfc3339(two_days_ago) +
                 "\", message: {type: txt, msg: stale}}\n"
                 "  - {name: recent, target: chatrooms, send_at: \"" +
                 FormatRfc3339(NowPlus(-std::chrono::hours(1))) +
                 "\", message: {type: txt, msg: recent}}\n");
  const CommandResult r = Check("late.yaml");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const std::string warning = "warning: " + (dir_ / "late.yaml").string() +
                              ": stale: would expire at once: send_at " +
                              FormatRfc3339(two_days_ago) + " is more than max_delay 24h ago";
  EXPECT_NE(r.output.find(warning), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("recent: would expire"), std::string::npos) << r.output;

  // max_delay: none in the config: no warning, and the preview sends it.
  dir_.Write("broadcastd.yaml", ReadFile(dir_ / "broadcastd.yaml") + "max_delay: none\n");
  const CommandResult unguarded = Check("late.yaml");
  EXPECT_EQ(unguarded.exit_code, 0) << unguarded.output;
  EXPECT_EQ(unguarded.output.find("would expire"), std::string::npos) << unguarded.output;
}

}  // namespace
}  // namespace broadcastd
