#include <SQLiteCpp/Database.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "store/store.h"
#include "store_test_support.h"

namespace broadcastd::testing_store {
namespace {

using ::testing::HasSubstr;

class StoreQueue : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    ASSERT_TRUE(
        store().ApplyCampaign(File("a.yaml", "a", "h1"),
                              {Spec("due", "once", kT0 - 1s), Spec("soon", "once", kT0 + 1h),
                               Spec("late", "once", kT0 + 2h, "{}", BroadcastTarget::kChatrooms)},
                              kT0, kT0));
  }
};

TEST_F(StoreQueue, PromoteDueMovesOnlyJobsWhoseTimeHasCome) {
  EXPECT_EQ(store().PromoteDue(kT0).value(), 0);
  EXPECT_EQ(store().PromoteDue(kT0 + 1h).value(), 1);  // due <= now, inclusive
  EXPECT_EQ(JobNamed("soon").state, JobState::kReady);
  EXPECT_EQ(JobNamed("soon").updated_at, kT0 + 1h);
  EXPECT_EQ(JobNamed("late").state, JobState::kScheduled);
  auto queued = store().QueuedJobs().value();
  ASSERT_EQ(queued.size(), 3u);
  EXPECT_EQ(queued[0].broadcast, "due");
  EXPECT_EQ(queued[2].target, BroadcastTarget::kChatrooms);
}

TEST_F(StoreQueue, JobsFilterByStateAndCampaign) {
  ASSERT_TRUE(store().ApplyCampaign(File("b.yaml", "b", "h1"), {Spec("x", "once", kT0)}, kT0, kT0));
  EXPECT_EQ(store().Jobs().value().size(), 4u);
  EXPECT_EQ(store().Jobs({.state = JobState::kReady}).value().size(), 2u);
  EXPECT_EQ(store().Jobs({.campaign_id = "b"}).value().size(), 1u);
  EXPECT_EQ(store().Jobs({.state = JobState::kScheduled, .file = "a.yaml"}).value().size(), 2u);
  JobRow due = JobNamed("due");
  EXPECT_EQ(store().Job(due.id).value()->broadcast, "due");
  EXPECT_EQ(store().Job(9999).value(), std::nullopt);
}

TEST_F(StoreQueue, ClaimIsCommittedBeforeItReturns) {
  JobRow job = JobNamed("due");
  auto attempt = store().ClaimForSending(job.id, Instant(kT0));
  ASSERT_TRUE(attempt.has_value()) << attempt.error().message;

  // Another process (here: another connection) sees the claim at once.
  auto other = OpenStore(Store::Mode::kReadOnly);
  ASSERT_TRUE(other.has_value()) << other.error().message;
  const JobRow seen = other->Job(job.id).value().value();
  EXPECT_EQ(seen.state, JobState::kSending);
  EXPECT_EQ(seen.attempts, 1);
  const std::vector<AttemptRow> attempts = other->AttemptsOf(job.id).value();
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].id, *attempt);
  EXPECT_EQ(attempts[0].started_at, kT0);
  EXPECT_EQ(attempts[0].outcome, std::nullopt);

  // A job already sending cannot be claimed twice.
  auto again = store().ClaimForSending(job.id, Instant(kT0 + 1s));
  ASSERT_FALSE(again.has_value());
  EXPECT_THAT(again.error().message, HasSubstr("is sending, not queued"));
}

TEST_F(StoreQueue, ClaimRefusesACancelledJobAndAPausedEndpoint) {
  JobRow due = JobNamed("due");
  ASSERT_TRUE(store().CancelJob(due.id, kT0));
  EXPECT_FALSE(store().ClaimForSending(due.id, Instant(kT0)).has_value());
  EXPECT_TRUE(store().AttemptsOf(due.id).value().empty());

  JobRow late = JobNamed("late");
  ASSERT_TRUE(store().Pause("main", BroadcastTarget::kChatrooms, "vendor incident", kT0));
  auto claim = store().ClaimForSending(late.id, Instant(kT0 + 2h));
  ASSERT_FALSE(claim.has_value());
  EXPECT_THAT(claim.error().message, HasSubstr("paused (vendor incident)"));
  EXPECT_EQ(JobNamed("late").state, JobState::kScheduled);
  EXPECT_FALSE(store().ClaimForSending(12345, Instant(kT0)).has_value());
}

struct OutcomeCase {
  OutcomeClass outcome;
  JobState state;
};

std::string OutcomeCaseName(const ::testing::TestParamInfo<OutcomeCase>& param) {
  return std::string(OutcomeName(param.param.outcome));
}

class StoreOutcome : public StoreQueue, public ::testing::WithParamInterface<OutcomeCase> {};

TEST_P(StoreOutcome, MovesTheJobAndCompletesTheAttempt) {
  const OutcomeCase& c = GetParam();
  JobRow job = JobNamed("due");
  int64_t attempt = store().ClaimForSending(job.id, Instant(kT0)).value();
  Store::AttemptOutcome o;
  o.outcome = c.outcome;
  o.http_status = c.outcome == OutcomeClass::kSent ? 200 : 429;
  o.vendor_error = c.outcome == OutcomeClass::kSent ? "" : "resource_limited";
  o.error_description = c.outcome == OutcomeClass::kSent ? "" : "too many requests";
  o.broadcast_id = c.outcome == OutcomeClass::kSent ? "1365344904091349007" : "";
  o.response_body = R"({"data":{"id":1365344904091349007}})";
  o.detail = "test";
  o.retry_not_before = kT0 + 10min;
  ASSERT_TRUE(store().RecordOutcome(job.id, attempt, o, Instant(kT0 + 2s)));

  JobRow after = JobNamed("due");
  EXPECT_EQ(after.state, c.state);
  EXPECT_EQ(after.attempts, 1);
  EXPECT_EQ(after.updated_at, kT0 + 2s);
  bool waits = c.outcome == OutcomeClass::kRetry || c.outcome == OutcomeClass::kNextDay;
  EXPECT_EQ(after.not_before, waits ? std::optional(kT0 + 10min) : std::nullopt);
  if (c.outcome == OutcomeClass::kSent) {
    EXPECT_EQ(after.broadcast_id, "1365344904091349007");
    EXPECT_EQ(after.last_error, "");
  } else {
    EXPECT_EQ(after.broadcast_id, std::nullopt);
    EXPECT_THAT(after.last_error, HasSubstr(std::string(OutcomeName(c.outcome))));
    EXPECT_THAT(after.last_error, HasSubstr("429"));
    EXPECT_THAT(after.last_error, HasSubstr("resource_limited"));
  }

  auto attempts = store().AttemptsOf(job.id).value();
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].id, attempt);
  EXPECT_EQ(attempts[0].started_at, kT0);
  EXPECT_EQ(attempts[0].ended_at, kT0 + 2s);
  EXPECT_EQ(attempts[0].outcome, c.outcome);
  EXPECT_EQ(attempts[0].http_status, o.http_status);
  EXPECT_EQ(attempts[0].vendor_error, o.vendor_error);
  EXPECT_EQ(attempts[0].response_body, o.response_body);
  EXPECT_EQ(attempts[0].detail, "test");
  EXPECT_EQ(attempts[0].app, "main");
  EXPECT_EQ(attempts[0].target, BroadcastTarget::kUsers);

  // Only kUnopened pauses the endpoint.
  auto pauses = store().Pauses().value();
  if (c.outcome == OutcomeClass::kUnopened) {
    ASSERT_EQ(pauses.size(), 1u);
    EXPECT_EQ(pauses[0].app, "main");
    EXPECT_EQ(pauses[0].target, BroadcastTarget::kUsers);
    EXPECT_EQ(pauses[0].since, kT0 + 2s);
  } else {
    EXPECT_TRUE(pauses.empty());
  }

  // One outcome per attempt.
  EXPECT_FALSE(store().RecordOutcome(job.id, attempt, o, Instant(kT0 + 3s)).has_value());
}

INSTANTIATE_TEST_SUITE_P(EveryClass, StoreOutcome,
                         ::testing::Values(OutcomeCase{OutcomeClass::kSent, JobState::kSent},
                                           OutcomeCase{OutcomeClass::kRetry, JobState::kReady},
                                           OutcomeCase{OutcomeClass::kNextDay, JobState::kReady},
                                           OutcomeCase{OutcomeClass::kPermanent, JobState::kFailed},
                                           OutcomeCase{OutcomeClass::kUnopened, JobState::kFailed},
                                           OutcomeCase{OutcomeClass::kUnknown, JobState::kUnknown}),
                         OutcomeCaseName);

TEST_F(StoreQueue, BroadcastIdsRoundTripExactly) {
  for (std::string id : {"1365344904091349007", "18446744073709551615"}) {
    SCOPED_TRACE(id);
    ASSERT_TRUE(
        store().ApplyCampaign(File("id.yaml", "id", id), {Spec(id, "once", kT0)}, kT0, kT0));
    JobRow job = JobNamed(id);
    Attempt(job.id, OutcomeClass::kSent, kT0, id);
    EXPECT_EQ(JobNamed(id).broadcast_id, id);
    EXPECT_EQ(store().AttemptsOf(job.id).value().at(0).broadcast_id, id);

    // Stored as text, not as a number that would lose digits.
    EXPECT_EQ(StoredType("jobs", "broadcast_id", job.id), "text");
  }
}

TEST_F(StoreQueue, TheResponseBodyIsKeptToItsFirst4096Bytes) {
  JobRow job = JobNamed("due");
  int64_t attempt = store().ClaimForSending(job.id, Instant(kT0)).value();
  Store::AttemptOutcome o;
  o.outcome = OutcomeClass::kUnknown;
  // 4095 ASCII bytes, then a 3-byte character straddling the limit.
  o.response_body = std::string(4095, 'a') + "\xE4\xB8\xAD" + std::string(100, 'b');
  ASSERT_TRUE(store().RecordOutcome(job.id, attempt, o, Instant(kT0)));
  std::string stored = store().AttemptsOf(job.id).value().at(0).response_body;
  EXPECT_EQ(stored, std::string(4095, 'a'));  // not a broken character
  EXPECT_LE(stored.size(), kMaxResponseBody);
}

TEST_F(StoreQueue, RecoverInFlightKeepsTheJobsStillOurs) {
  const int64_t due = JobNamed("due").id;
  const int64_t late = JobNamed("late").id;
  ASSERT_TRUE(store().ClaimForSending(due, Instant(kT0)).has_value());
  const int64_t attempt = store().ClaimForSending(late, Instant(kT0)).value();
  auto recovered = store().RecoverInFlight(kT0 + 1s, {late});
  ASSERT_TRUE(recovered.has_value()) << recovered.error().message;
  EXPECT_EQ(*recovered, std::vector<int64_t>{due});
  EXPECT_EQ(JobNamed("due").state, JobState::kUnknown);
  EXPECT_EQ(JobNamed("late").state, JobState::kSending);
  // Its answer is still written.
  Store::AttemptOutcome sent;
  sent.outcome = OutcomeClass::kSent;
  sent.http_status = 200;
  sent.broadcast_id = "42";
  ASSERT_TRUE(store().RecordOutcome(late, attempt, sent, Instant(kT0 + 2s)));
  EXPECT_EQ(JobNamed("late").state, JobState::kSent);
}

TEST_F(StoreQueue, ALostClaimIsQueuedAgainOnlyIfItCommitted) {
  const int64_t due = JobNamed("due").id;
  const Instant claimed(kT0);
  const int64_t attempt = store().ClaimForSending(due, claimed).value();
  // Another claim's time, or another job: not this claim.
  EXPECT_FALSE(store().SettleLostClaim(due, Instant(kT0 + 1ms), Instant(kT0 + 1s)).value());
  EXPECT_FALSE(store().SettleLostClaim(JobNamed("late").id, claimed, Instant(kT0 + 1s)).value());
  EXPECT_EQ(JobNamed("due").state, JobState::kSending);

  auto settled = store().SettleLostClaim(due, claimed, Instant(kT0 + 1s));
  ASSERT_TRUE(settled.has_value()) << settled.error().message;
  EXPECT_TRUE(*settled);
  EXPECT_TRUE(IsQueued(JobNamed("due").state));
  // The attempt stays in the audit, ended as not applied, saying why.
  const std::vector<AttemptRow> attempts = store().AttemptsOf(due).value();
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].id, attempt);
  EXPECT_EQ(attempts[0].outcome, OutcomeClass::kRetry);
  EXPECT_NE(attempts[0].detail.find("no request was sent"), std::string::npos);
  // Settled once: a second look finds nothing open.
  EXPECT_FALSE(store().SettleLostClaim(due, claimed, Instant(kT0 + 2s)).value());
  // The job can be claimed and sent as any other.
  EXPECT_TRUE(store().ClaimForSending(due, Instant(kT0 + 3s)).has_value());
}

TEST_F(StoreQueue, RecoverInFlightTurnsSendingIntoUnknown) {
  JobRow due = JobNamed("due");
  JobRow soon = JobNamed("soon");
  int64_t a1 = store().ClaimForSending(due.id, Instant(kT0)).value();
  Attempt(soon.id, OutcomeClass::kSent, kT0, "1");
  std::optional<Store> restarted;
  {
    // The daemon dies here; a new process opens the database.
    auto opened = OpenStore(Store::Mode::kReadWrite);
    ASSERT_TRUE(opened.has_value());
    restarted.emplace(std::move(*opened));
  }
  auto recovered = restarted->RecoverInFlight(kT0 + 1h);
  ASSERT_TRUE(recovered.has_value()) << recovered.error().message;
  EXPECT_EQ(*recovered, std::vector<int64_t>{due.id});
  EXPECT_EQ(JobNamed("due").state, JobState::kUnknown);
  EXPECT_THAT(JobNamed("due").last_error, HasSubstr("in flight"));
  EXPECT_EQ(JobNamed("soon").state, JobState::kSent);
  auto attempts = store().AttemptsOf(due.id).value();
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].id, a1);
  EXPECT_EQ(attempts[0].outcome, OutcomeClass::kUnknown);
  EXPECT_EQ(attempts[0].detail, "daemon stopped while the request was in flight");
  EXPECT_EQ(attempts[0].ended_at, std::nullopt);
  // Nothing left to recover; an unknown job is never claimed again by itself.
  EXPECT_TRUE(restarted->RecoverInFlight(kT0 + 2h).value().empty());
  EXPECT_FALSE(restarted->ClaimForSending(due.id, Instant(kT0 + 2h)).has_value());
}

TEST_F(StoreQueue, ExpireOnlyFromScheduledOrReady) {
  JobRow due = JobNamed("due");
  JobRow soon = JobNamed("soon");
  EXPECT_TRUE(store().ExpireJob(soon.id, kT0));
  EXPECT_EQ(JobNamed("soon").state, JobState::kExpired);
  ASSERT_TRUE(store().ClaimForSending(due.id, Instant(kT0)).has_value());
  auto expire = store().ExpireJob(due.id, kT0);
  ASSERT_FALSE(expire.has_value());
  EXPECT_THAT(expire.error().message, HasSubstr("is sending"));
  EXPECT_EQ(JobNamed("due").state, JobState::kSending);
}

TEST_F(StoreQueue, AttemptsSinceAreInStartOrder) {
  JobRow due = JobNamed("due");
  JobRow soon = JobNamed("soon");
  JobRow late = JobNamed("late");
  Attempt(due.id, OutcomeClass::kRetry, kT0);
  Attempt(soon.id, OutcomeClass::kSent, kT0 + 10min, "5");
  Attempt(due.id, OutcomeClass::kSent, kT0 + 20min, "6");
  ASSERT_TRUE(
      store().ClaimForSending(late.id, Instant(kT0 + 30min)).has_value());  // in flight counts too

  auto since = store().AttemptsSince(kT0 + 10min).value();
  ASSERT_EQ(since.size(), 3u);
  EXPECT_EQ(since[0].job_id, soon.id);
  EXPECT_EQ(since[1].job_id, due.id);
  EXPECT_EQ(since[2].job_id, late.id);
  EXPECT_EQ(since[2].target, BroadcastTarget::kChatrooms);
  EXPECT_EQ(since[2].outcome, std::nullopt);
  EXPECT_EQ(store().AttemptsSince(kT0).value().size(), 4u);
  EXPECT_EQ(store().AttemptsOf(due.id).value().size(), 2u);
  EXPECT_EQ(JobNamed("due").attempts, 2);
}

// Every row of the query plan of `sql`, joined.
std::string PlanOf(const std::filesystem::path& db_path, const std::string& sql) {
  SQLite::Database db(db_path, SQLite::OPEN_READONLY);
  SQLite::Statement plan(db, "EXPLAIN QUERY PLAN " + sql);
  std::string text;
  while (plan.executeStep()) text += plan.getColumn(3).getString() + "\n";
  return text;
}

TEST_F(StoreQueue, LeanQueueReadsOnlyTheCoveringIndexNeverABody) {
  SKIP_ON_POSTGRES();
  const std::string sql = Store::LeanQueueQuery();
  EXPECT_THAT(sql, ::testing::Not(HasSubstr("body")));
  // A covering index: the table rows, where the bodies are, are never read.
  const std::string plan = PlanOf(db_path_, sql);
  EXPECT_THAT(plan, HasSubstr("COVERING INDEX jobs_queued")) << plan;
  EXPECT_THAT(plan, ::testing::Not(HasSubstr("TEMP B-TREE"))) << plan;
}

TEST_F(StoreQueue, LeanQueueListsTheQueuedJobsInIdOrder) {
  ASSERT_TRUE(store().ExpireJob(JobNamed("soon").id, kT0));
  std::vector<std::pair<int64_t, std::string>> seen;
  auto n = store().ForEachQueuedJob([&](const QueuedJobRow& row) {
    seen.emplace_back(row.id, std::string(row.app) + "/" + std::string(TargetName(row.target)));
  });
  ASSERT_TRUE(n.has_value()) << n.error().message;
  EXPECT_EQ(*n, 2);
  const std::vector<std::pair<int64_t, std::string>> expected = {
      {JobNamed("due").id, "main/users"}, {JobNamed("late").id, "main/chatrooms"}};
  EXPECT_EQ(seen, expected);
}

TEST_F(StoreQueue, PromoteDueIsAnIndexedRange) {
  SKIP_ON_POSTGRES();
  const std::string plan = PlanOf(
      db_path_,
      "UPDATE jobs SET state = 'ready', updated_at = 1 WHERE state = 'scheduled' AND due <= 1");
  EXPECT_THAT(plan, HasSubstr("INDEX jobs_state_due (state=? AND due<?)")) << plan;
}

TEST_F(StoreQueue, JobChangeLogNamesEveryWriterAndIsPruned) {
  const int64_t start = store().LastJobChange().value();
  EXPECT_EQ(start, 3);  // the three inserts
  // Promotion alone changes nothing the scheduler keeps: not logged.
  EXPECT_EQ(store().PromoteDue(kT0 + 1h).value(), 1);
  EXPECT_EQ(store().LastJobChange().value(), start);

  // Another connection (an operator command) cancels one job and pauses nothing.
  auto other = OpenStore(Store::Mode::kReadWriteExisting);
  ASSERT_TRUE(other.has_value());
  ASSERT_TRUE(other->CancelJob(JobNamed("late").id, kT0));
  // The daemon's own claim is logged too.
  ASSERT_TRUE(store().ClaimForSending(JobNamed("due").id, Instant(kT0)));
  EXPECT_EQ(store().CountJobChangesSince(start).value(), 2);

  std::map<int64_t, bool> changed;  // id -> still queued
  auto last = store().ForEachJobChangedSince(
      start, [&](int64_t id, const QueuedJobRow* row) { changed[id] = row != nullptr; });
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(*last, start + 2);
  const std::map<int64_t, bool> expected = {{JobNamed("due").id, false},
                                            {JobNamed("late").id, false}};
  EXPECT_EQ(changed, expected);

  // Pruned in bounded steps, and a pruned seq is never handed out again.
  EXPECT_EQ(store().PruneJobChanges(*last, 3).value(), 3);
  EXPECT_EQ(store().CountJobChangesSince(0).value(), 2);
  EXPECT_EQ(store().PruneJobChanges(*last, 100).value(), 2);
  EXPECT_EQ(store().CountJobChangesSince(0).value(), 0);
  ASSERT_TRUE(store().ApplyCampaign(File("b.yaml", "b", "h1"), {Spec("x", "once", kT0)}, kT0, kT0));
  EXPECT_EQ(store().LastJobChange().value(), *last + 1);
}

}  // namespace
}  // namespace broadcastd::testing_store
