// The engine where it meets the outside world and the outside world fails: a slow
// or failing token endpoint, a 401, a full disk under the claim or the outcome, a
// reload that renames an app or cannot scan. Fake clock, scripted transport, real
// SQLite files (through a fault-injecting VFS where the disk must fail).

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/status_render.h"
#include "daemon/engine_fixture.h"
#include "fakes/fault_vfs.h"
#include "status/gather_status.h"

namespace broadcastd {
namespace {

using namespace std::chrono_literals;

// Collects the log while it lives.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

std::string TokenAnswer(const std::string& token) {
  return nlohmann::json{{"access_token", token}, {"expires_in", 7200}}.dump();
}

constexpr const char* kRooms = R"(id: c
broadcasts:
  - {name: a, target: chatrooms, message: {type: txt, msg: one}}
  - {name: b, target: chatrooms, message: {type: txt, msg: two}}
  - {name: c, target: chatrooms, message: {type: txt, msg: three}}
)";

constexpr const char* k401 =
    R"json({"error":"unauthorized","error_description":"Unable to authenticate (OAuth)"})json";

class EngineFailureTest : public EngineTest {
 protected:
  // The app authenticates with client credentials against the token endpoint.
  void UseSecret(const std::string& file) {
    AppConfig& app = config_.apps.at("main");
    app.token_file.reset();
    app.client_secret_file = file;
  }

  // An engine whose store goes through the fault VFS.
  std::unique_ptr<Engine> StartOnFaultVfs() {
    FaultVfs::Get().Heal();
    auto store = Store::Open(config_.database, Store::Mode::kReadWrite, FaultVfs::kName);
    EXPECT_TRUE(store.has_value()) << store.error().message;
    auto engine = Engine::Create(config_, dir_ / "credentials", transport_, clock_,
                                 std::make_unique<Store>(std::move(*store)));
    EXPECT_TRUE(engine.has_value());
    for (const auto& entry : std::filesystem::directory_iterator(dir_ / "campaigns")) {
      (*engine)->MarkWritten(entry.path().filename().string());
    }
    Status st = (*engine)->Start();
    EXPECT_TRUE(st.has_value()) << st.error().message;
    return std::move(*engine);
  }

  void TearDown() override { FaultVfs::Get().Heal(); }

  // As the loop does: looks now, then sleeps until the engine's next wake and sends
  // whatever is due then.
  std::optional<int64_t> SendAtNextWake(Engine& engine) {
    if (auto sent = SendNext(engine)) return sent;
    auto wake = engine.NextWake();
    EXPECT_TRUE(wake.has_value());
    if (!wake) return std::nullopt;
    clock_.Set(std::max(clock_.Now(), *wake));
    return SendNext(engine);
  }
};

// Case 1. The token endpoint takes 1.5 s: the attempt's time (the limiter's and the
// audit's) is the POST's, after the token, so the windows hold at the server.
TEST_F(EngineFailureTest, SlowTokenEndpointDoesNotShortenTheWindow) {
  dir_.Write("credentials/main.secret", "the-secret\n");
  UseSecret("main.secret");
  Campaign("c.yaml", kRooms);
  transport_.AttachClock(&clock_);
  auto engine = Start();
  const TimePoint t0 = clock_.Now();
  transport_.PushHttpAfter(1500ms, 200, TokenAnswer("tok"));
  transport_.PushHttp(200, Ok("1"));
  auto first = SendNext(*engine);
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(transport_.requests().size(), 2u);  // the token, then the POST
  const TimePoint posted = transport_.times()[1];
  EXPECT_EQ(posted, t0 + 1500ms);
  auto audit = engine->store().AttemptsOf(*first).value();
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].started_at, posted);  // not the time before the token

  // Nothing more until the chatrooms window (1 s) has passed since the POST.
  EXPECT_FALSE(SendNext(*engine).has_value());
  transport_.PushHttp(200, Ok("2"));
  transport_.PushHttp(200, Ok("3"));
  ASSERT_TRUE(SendAtNextWake(*engine).has_value());
  ASSERT_TRUE(SendAtNextWake(*engine).has_value());

  std::vector<TimePoint> posts;
  for (size_t i = 0; i < transport_.requests().size(); ++i) {
    if (!transport_.requests()[i].url.ends_with("/token")) posts.push_back(transport_.times()[i]);
  }
  ASSERT_EQ(posts.size(), 3u);
  EXPECT_GE(posts[1] - posts[0], 1s);
  EXPECT_GE(posts[2] - posts[1], 1s);
}

// Case 2. A 401 ends the attempt: one POST per attempt row, and the resend is a new
// claim that waits for the window.
TEST_F(EngineFailureTest, A401EndsTheAttemptAndTheResendWaitsForTheWindow) {
  Campaign("c.yaml", R"(id: c
broadcasts:
  - {name: a, target: chatrooms, message: {type: txt, msg: one}}
)");
  transport_.AttachClock(&clock_);
  auto engine = Start();
  transport_.PushHttp(401, k401);
  auto id = SendNext(*engine);
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(transport_.requests().size(), 1u);  // no resend inside the attempt
  JobRow row = Job(*engine, *id);
  EXPECT_EQ(row.state, JobState::kReady);
  EXPECT_EQ(row.attempts, 1);
  ASSERT_TRUE(row.not_before.has_value());
  EXPECT_GE(*row.not_before, clock_.Now() + 1s);

  EXPECT_FALSE(SendNext(*engine).has_value());  // the window is closed
  EXPECT_EQ(transport_.requests().size(), 1u);

  transport_.PushHttp(200, Ok("9"));
  ASSERT_EQ(SendAtNextWake(*engine), id);
  EXPECT_EQ(Job(*engine, *id).state, JobState::kSent);
  auto audit = engine->store().AttemptsOf(*id).value();
  ASSERT_EQ(audit.size(), 2u);  // two POSTs, two attempts
  EXPECT_EQ(audit[0].http_status, 401);
  EXPECT_EQ(audit[0].outcome, OutcomeClass::kRetry);
  EXPECT_EQ(audit[1].broadcast_id, "9");
  ASSERT_EQ(transport_.times().size(), 2u);
  EXPECT_GE(transport_.times()[1] - transport_.times()[0], 1s);
}

// Case 3. A wrong secret: token failures spend no budget, back off, and are shown by
// --status; fixing the secret and reloading sends the same day.
TEST_F(EngineFailureTest, TokenFailureSpendsNoBudgetAndAReloadSendsTheSameDay) {
  dir_.Write("credentials/main.secret", "wrong\n");
  UseSecret("main.secret");
  Campaign("c.yaml", R"(id: c
broadcasts:
  - {name: a, target: users, message: {type: txt, msg: one}}
  - {name: b, target: users, message: {type: txt, msg: two}}
  - {name: c, target: users, message: {type: txt, msg: three}}
)");
  LogCapture log;
  auto engine = Start();
  const std::string refused =
      R"({"error":"invalid_grant","error_description":"invalid client credentials"})";
  std::vector<Duration> waits;
  for (int i = 0; i < 4; ++i) {
    transport_.PushHttp(401, refused);
    EXPECT_FALSE(SendNext(*engine).has_value());
    auto wake = engine->NextWake();
    ASSERT_TRUE(wake.has_value());
    waits.push_back(*wake - clock_.Now());
    clock_.Set(*wake);
  }
  EXPECT_EQ(waits, (std::vector<Duration>{1s, 2s, 4s, 8s}));  // capped backoff
  EXPECT_EQ(transport_.CountUrlSuffix("/broadcast"), 0u);
  EXPECT_TRUE(engine->store().AttemptsSince(TimePoint{}).value().empty());
  const std::string text = log.text();
  const size_t first = text.find("token.unavailable app=main");
  ASSERT_NE(first, std::string::npos) << text;
  EXPECT_EQ(text.find("token.unavailable", first + 1), std::string::npos);  // once per change

  auto status = GatherStatus(config_, engine->store(), clock_.Read(), {}, clock_.BootId());
  ASSERT_TRUE(status.has_value()) << status.error().message;
  for (const auto& e : status->endpoints) {
    EXPECT_EQ(e.used_today, 0);
    EXPECT_NE(e.no_token.find("invalid client credentials"), std::string::npos) << e.no_token;
  }
  EXPECT_NE(RenderStatusText(*status).find("no token"), std::string::npos);

  // The operator fixes the secret and reloads: sent now, same day, full budget.
  dir_.Write("credentials/main.secret", "right\n");
  ASSERT_TRUE(engine->Reconfigure(config_).has_value());
  transport_.PushHttp(200, TokenAnswer("tok"));
  transport_.PushHttp(200, Ok("5"));
  auto sent = SendNext(*engine);
  ASSERT_TRUE(sent.has_value());
  EXPECT_EQ(Job(*engine, *sent).state, JobState::kSent);
  EXPECT_TRUE(engine->store().AppNotices().value().empty());
  auto after = GatherStatus(config_, engine->store(), clock_.Read(), {}, clock_.BootId()).value();
  EXPECT_EQ(
      after.endpoints[0].used_today + after.endpoints[1].used_today + after.endpoints[2].used_today,
      1);
}

TEST_F(EngineFailureTest, MissingSecretFileIsNoTokenWithoutAnyRequest) {
  UseSecret("absent.secret");
  Campaign("c.yaml", kRooms);
  auto engine = Start();
  EXPECT_FALSE(SendNext(*engine).has_value());
  EXPECT_TRUE(transport_.requests().empty());
  auto notices = engine->store().AppNotices().value();
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].app, "main");
  EXPECT_NE(notices[0].message.find("client_secret_file"), std::string::npos) << notices[0].message;
  const std::vector<JobRow> jobs = engine->store().Jobs().value();
  for (const JobRow& job : jobs) {
    EXPECT_EQ(job.state, JobState::kReady);
    EXPECT_EQ(job.attempts, 0);
  }
}

// Case 4. The disk fills while the request is in flight: the answer (with its
// broadcast ID) is in the log before the write, the write is retried until it
// commits, nothing new goes out on that endpoint meanwhile, and the job ends `sent`
// with that ID.
TEST_F(EngineFailureTest, AnswerThatCannotBeCommittedIsKeptAndWrittenLater) {
  Campaign("c.yaml", kRooms);
  auto engine = StartOnFaultVfs();
  LogCapture log;
  auto send = Claim(*engine);
  ASSERT_TRUE(send.has_value());
  transport_.PushHttp(200, Ok("1365344904091349007"));
  BroadcastAnswer answer = Engine::Perform(*send);

  FaultVfs::Get().Arm(FaultVfs::kWrite | FaultVfs::kSync, 0, SQLITE_FULL);
  Status st = engine->Complete(*send, answer);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().kind, ErrorKind::kIo);
  EXPECT_GT(FaultVfs::Get().failures(), 0);
  const std::string text = log.text();
  const size_t logged = text.find("broadcast.answer job=" + std::to_string(send->job.id));
  const size_t unsaved = text.find("broadcast.answer_unsaved");
  ASSERT_NE(logged, std::string::npos) << text;
  ASSERT_NE(unsaved, std::string::npos) << text;
  EXPECT_LT(logged, unsaved);
  EXPECT_NE(text.find("broadcast_id=1365344904091349007", logged), std::string::npos);
  EXPECT_EQ(Job(*engine, send->job.id).state, JobState::kSending);

  // Still full two seconds later: the window is open for the next room, but the
  // endpoint claims nothing while an answer waits (a claim would have failed).
  clock_.Advance(2s);
  auto next = engine->Next();
  ASSERT_TRUE(next.has_value()) << next.error().message;
  EXPECT_TRUE(std::holds_alternative<std::monostate>(*next));
  EXPECT_EQ(Job(*engine, send->job.id).state, JobState::kSending);
  ASSERT_TRUE(engine->NextWake().has_value());
  EXPECT_LE(*engine->NextWake(), clock_.Now() + 1min);

  FaultVfs::Get().Heal();
  transport_.PushHttp(200, Ok("8"));
  auto second = SendAtNextWake(*engine);
  ASSERT_TRUE(second.has_value());
  EXPECT_NE(*second, send->job.id);
  JobRow row = Job(*engine, send->job.id);
  EXPECT_EQ(row.state, JobState::kSent);
  EXPECT_EQ(row.broadcast_id, "1365344904091349007");
  auto audit = engine->store().AttemptsOf(send->job.id).value();
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].broadcast_id, "1365344904091349007");
  EXPECT_EQ(transport_.requests().size(), 2u);  // never resent
}

// Case 5. A claim that fails on the disk: the next look comes a second later, not
// at the next rescan.
TEST_F(EngineFailureTest, FailedClaimLooksAgainASecondLater) {
  Campaign("c.yaml", R"(id: c
broadcasts:
  - {name: a, target: chatrooms, message: {type: txt, msg: one}}
)");
  auto engine = StartOnFaultVfs();
  auto step = engine->Next();
  ASSERT_TRUE(step.has_value());
  auto* request = std::get_if<TokenRequest>(&*step);
  ASSERT_NE(request, nullptr);
  engine->TokenFetched(*request, Engine::FetchToken(*request));

  FaultVfs::Get().Arm(FaultVfs::kWrite | FaultVfs::kSync, 0, SQLITE_FULL);
  auto failed = engine->Next();
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().kind, ErrorKind::kIo);
  ASSERT_TRUE(engine->NextWake().has_value());
  EXPECT_EQ(*engine->NextWake(), clock_.Now() + 1s);
  EXPECT_TRUE(transport_.requests().empty());

  FaultVfs::Get().Heal();
  transport_.PushHttp(200, Ok("3"));
  EXPECT_TRUE(SendAtNextWake(*engine).has_value());
}

// Refused claims (another claimer, a cancel, a pause, all after the engine read its
// queue) are conflicts: each drops or re-reads that one job, and nothing fails.
TEST_F(EngineFailureTest, RefusedClaimsAreConflictsAndTouchOnlyTheirJob) {
  Campaign("c.yaml", kRooms);
  auto engine = Start();
  auto jobs = engine->store().Jobs().value();
  auto other = Store::Open(config_.database, Store::Mode::kReadWrite);
  ASSERT_TRUE(other.has_value());
  ASSERT_TRUE(other->ClaimForSending(jobs[0].id, Instant(clock_.Now())).has_value());
  auto again = other->ClaimForSending(jobs[0].id, Instant(clock_.Now()));
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().kind, ErrorKind::kConflict);
  ASSERT_TRUE(other->CancelJob(jobs[2].id, clock_.Now()).has_value());
  ASSERT_TRUE(other->Pause("main", BroadcastTarget::kChatrooms, "by hand", clock_.Now()));
  auto paused = other->ClaimForSending(jobs[1].id, Instant(clock_.Now()));
  ASSERT_FALSE(paused.has_value());
  EXPECT_EQ(paused.error().kind, ErrorKind::kConflict);
  EXPECT_EQ(other->ClaimForSending(12345, Instant(clock_.Now())).error().kind,
            ErrorKind::kNotFound);

  EXPECT_FALSE(SendNext(*engine).has_value());  // no error: the store explains each
  EXPECT_TRUE(transport_.requests().empty());
  // The claimed job is gone from the scheduler, the paused one waits on its paused endpoint.
  EXPECT_EQ(engine->scheduler().Find(jobs[0].id), std::nullopt);
  EXPECT_NE(engine->scheduler().Find(jobs[1].id), std::nullopt);
  EXPECT_TRUE(engine->scheduler().IsPaused(EndpointKey{"main", BroadcastTarget::kChatrooms}));
}

// Case 10. A reload that renames the app holds its jobs (never failed); they go on
// when the app comes back.
TEST_F(EngineFailureTest, ReloadRenamingTheAppHoldsItsJobs) {
  Campaign("c.yaml", std::string("app: main\n") + kRooms);
  auto engine = Start();
  Config renamed = config_;
  AppConfig app = renamed.apps.at("main");
  renamed.apps.clear();
  app.name = "primary";
  renamed.apps["primary"] = app;
  ASSERT_TRUE(engine->Reconfigure(renamed).has_value());
  LogCapture log;
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(SendNext(*engine).has_value());
    clock_.Advance(1min);
  }
  EXPECT_TRUE(transport_.requests().empty());
  const std::vector<JobRow> jobs = engine->store().Jobs().value();
  for (const JobRow& job : jobs) {
    EXPECT_EQ(job.state, JobState::kReady);
    EXPECT_EQ(job.attempts, 0);
  }
  EXPECT_NE(log.text().find("job.held app=main"), std::string::npos) << log.text();
  auto status = GatherStatus(renamed, engine->store(), clock_.Read(), {}, clock_.BootId());
  ASSERT_TRUE(status.has_value());
  EXPECT_NE(RenderStatusText(*status).find("is held: app main is not in the config"),
            std::string::npos);

  ASSERT_TRUE(engine->Reconfigure(config_).has_value());
  transport_.PushHttp(200, Ok("1"));
  EXPECT_TRUE(SendNext(*engine).has_value());
}

// A reload rebuilds the windows on the monotonic clock the engine runs on, whose
// number is nothing like the wall clock's on a real machine: the next send waits one
// window after the last, no less and no more.
TEST_F(EngineFailureTest, AReloadKeepsTheWindowsOnTheMonotonicClock) {
  clock_.Reboot("boot-reload", MonoFromMillis(5000));
  Campaign("c.yaml", kRooms);
  auto engine = Start();
  transport_.PushHttp(200, Ok("1"));
  ASSERT_TRUE(SendNext(*engine).has_value());
  ASSERT_TRUE(engine->Reconfigure(config_).has_value());
  EXPECT_FALSE(SendNext(*engine).has_value());  // chatrooms: 1 a second, plus the margin
  clock_.Advance(2s);
  transport_.PushHttp(200, Ok("2"));
  EXPECT_TRUE(SendNext(*engine).has_value());
}

// Case 10. A reload whose scan fails leaves the old config in force, entirely.
TEST_F(EngineFailureTest, ReloadWithAFailingScanKeepsTheOldConfig) {
  Campaign("c.yaml", kRooms);
  auto engine = Start();
  Config next = config_;
  next.campaigns_dir = dir_ / "no-such-folder";
  next.apps.at("main").org = "other-org";
  auto st = engine->Reconfigure(next);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(engine->config().campaigns_dir, config_.campaigns_dir);
  EXPECT_EQ(engine->config().apps.at("main").org, "org");
  transport_.PushHttp(200, Ok("1"));
  ASSERT_TRUE(SendNext(*engine).has_value());
  EXPECT_EQ(transport_.requests().back().url,
            "http://127.0.0.1:9/org/app/messages/chatrooms/broadcast");
  // The next rescan still reads the old folder under the old config.
  ASSERT_TRUE(engine->Rescan().has_value());
  EXPECT_EQ(engine->store().Jobs().value().size(), 3u);
}

}  // namespace
}  // namespace broadcastd
