// A job is (campaign id, broadcast name, occurrence), whatever file carries it: the
// store side of renames, moves, clashes, removals and the attempts that pin a job.

#include <SQLiteCpp/Database.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/store.h"
#include "store_test_support.h"

namespace broadcastd::testing_store {
namespace {

using ::testing::HasSubstr;
using Effect = Store::ApplyEffect;

Store::CampaignFile Moved(std::string file, std::string campaign_id, std::string hash,
                          std::string from) {
  Store::CampaignFile f = File(std::move(file), std::move(campaign_id), std::move(hash));
  f.replaces = std::move(from);
  return f;
}

Store::JobSpec AsSoonAsAllowed(std::string broadcast, TimePoint mtime) {
  Store::JobSpec spec = Spec(std::move(broadcast), "once", mtime);
  spec.due_is_default = true;
  return spec;
}

class StoreIdentity : public StoreTest {
 protected:
  const CampaignRow* Row(const std::vector<CampaignRow>& rows, const std::string& file) {
    for (const CampaignRow& row : rows) {
      if (row.file == file) return &row;
    }
    ADD_FAILURE() << "no row for " << file;
    return nullptr;
  }

  // Claims the job and records a retry answer (a 429) with its not-before.
  void Retried(int64_t job_id, TimePoint at, OutcomeClass outcome = OutcomeClass::kRetry) {
    auto attempt = store().ClaimForSending(job_id, Instant(at));
    ASSERT_TRUE(attempt.has_value()) << attempt.error().message;
    Store::AttemptOutcome o;
    o.outcome = outcome;
    o.http_status = 429;
    o.retry_not_before = at + 1min;
    ASSERT_TRUE(store().RecordOutcome(job_id, *attempt, o, Instant(at)).has_value());
  }
};

TEST_F(StoreIdentity, ARenameSeenInOneScanMovesTheCampaignAndTouchesNoJob) {
  std::vector<Store::JobSpec> specs = {Spec("sent", "once", kT0), Spec("later", "once", kT0 + 1h),
                                       Spec("retried", "once", kT0)};
  ASSERT_TRUE(store().ApplyCampaign(File("a.yaml", "promo", "h1"), specs, kT0, kT0));
  Attempt(JobNamed("sent").id, OutcomeClass::kSent, kT0, "42");
  Retried(JobNamed("retried").id, kT0);
  const std::string jobs_before = Dump("jobs");

  auto effect =
      store().ApplyCampaign(Moved("b.yaml", "promo", "h1", "a.yaml"), specs, kT0, kT0 + 1min);
  ASSERT_TRUE(effect.has_value()) << effect.error().message;
  EXPECT_EQ(*effect, Effect::kMoved);
  EXPECT_EQ(Dump("jobs"), jobs_before);
  EXPECT_EQ(JobNamed("later").file, "b.yaml");

  auto rows = store().Campaigns().value();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(Row(rows, "a.yaml")->status, CampaignStatus::kRemoved);
  EXPECT_EQ(Row(rows, "b.yaml")->status, CampaignStatus::kOk);
  EXPECT_EQ(Row(rows, "b.yaml")->campaign_id, "promo");
  EXPECT_EQ(Row(rows, "b.yaml")->id, JobNamed("later").campaign_ref);

  // Removing the old name afterwards cancels nothing: it holds nothing any more.
  EXPECT_EQ(store().RemoveCampaign("a.yaml", kT0 + 2min).value(), 0);
  EXPECT_EQ(Dump("jobs"), jobs_before);
  // And the next look at b.yaml, unchanged, changes nothing.
  EXPECT_EQ(store().ApplyCampaign(File("b.yaml", "promo", "h1"), specs, kT0, kT0 + 3min).value(),
            Effect::kUnchanged);
}

TEST_F(StoreIdentity, ARenameAcrossScansBringsBackPendingJobsWithTheirDueAndNothingElse) {
  ASSERT_TRUE(store().ApplyCampaign(File("a.yaml", "promo", "h1"),
                                    {Spec("sent", "once", kT0), AsSoonAsAllowed("asap", kT0 - 1h),
                                     Spec("later", "once", kT0 + 1h)},
                                    kT0, kT0));
  Attempt(JobNamed("sent").id, OutcomeClass::kSent, kT0, "42");
  const JobRow asap_before = JobNamed("asap");
  EXPECT_EQ(store().RemoveCampaign("a.yaml", kT0 + 1min).value(), 2);
  EXPECT_EQ(JobNamed("asap").state, JobState::kCancelled);

  // b.yaml is a newer file: its modification time would make a later due.
  auto effect =
      store().ApplyCampaign(File("b.yaml", "promo", "h2"),
                            {Spec("sent", "once", kT0), AsSoonAsAllowed("asap", kT0 + 2min),
                             Spec("later", "once", kT0 + 1h)},
                            kT0, kT0 + 2min);
  ASSERT_TRUE(effect.has_value()) << effect.error().message;
  EXPECT_EQ(*effect, Effect::kCreated);
  EXPECT_EQ(store().Jobs()->size(), 3u);
  JobRow asap = JobNamed("asap");
  EXPECT_EQ(asap.id, asap_before.id);
  EXPECT_EQ(asap.state, JobState::kReady);
  EXPECT_EQ(asap.due, kT0 - 1h);
  EXPECT_EQ(asap.last_error, "");
  EXPECT_EQ(JobNamed("later").state, JobState::kScheduled);
  EXPECT_EQ(JobNamed("sent").state, JobState::kSent);
  EXPECT_EQ(JobNamed("sent").attempts, 1);
}

TEST_F(StoreIdentity, TwoFilesWithOneIdTheHolderKeepsIt) {
  ASSERT_TRUE(
      store().ApplyCampaign(File("b.yaml", "promo", "h1"), {Spec("x", "once", kT0)}, kT0, kT0));
  const std::string before = Dump();
  for (const auto& claim :
       {File("a.yaml", "promo", "h2"), Moved("a.yaml", "promo", "h2", "c.yaml")}) {
    auto clash = store().ApplyCampaign(claim, {Spec("x", "once", kT0, "other")}, kT0, kT0);
    ASSERT_FALSE(clash.has_value());
    EXPECT_EQ(clash.error().kind, ErrorKind::kConflict);
    EXPECT_THAT(clash.error().message, HasSubstr("'promo' is already used by b.yaml"));
    EXPECT_EQ(Dump(), before);
  }
  // Rejected or refused, the holder still holds it: its jobs are live.
  ASSERT_TRUE(store().RejectCampaign("b.yaml", "h3", "broken", kT0));
  EXPECT_FALSE(store().ApplyCampaign(File("a.yaml", "promo", "h2"), {}, kT0, kT0).has_value());
  ASSERT_TRUE(store().RefuseFile("b.yaml", "world-writable", kT0));
  EXPECT_FALSE(store().ApplyCampaign(File("a.yaml", "promo", "h2"), {}, kT0, kT0).has_value());
  EXPECT_EQ(JobNamed("x").state, JobState::kReady);
}

TEST_F(StoreIdentity, AFileThatTakesAnotherCampaignLetsGoOfItsOwn) {
  ASSERT_TRUE(
      store().ApplyCampaign(File("a.yaml", "x", "h1"), {Spec("one", "once", kT0 + 1h)}, kT0, kT0));
  ASSERT_TRUE(store().ApplyCampaign(File("b.yaml", "y", "h1"),
                                    {Spec("two", "once", kT0 + 1h), Spec("sent", "once", kT0)}, kT0,
                                    kT0));
  Attempt(JobNamed("sent").id, OutcomeClass::kSent, kT0, "7");
  // Campaign x moves into b.yaml, and y is in no file any more.
  auto effect = store().ApplyCampaign(Moved("b.yaml", "x", "h2", "a.yaml"),
                                      {Spec("one", "once", kT0 + 1h)}, kT0, kT0 + 1min);
  ASSERT_TRUE(effect.has_value()) << effect.error().message;
  EXPECT_EQ(*effect, Effect::kMoved);
  EXPECT_EQ(JobNamed("one").state, JobState::kScheduled);
  EXPECT_EQ(JobNamed("one").file, "b.yaml");
  EXPECT_EQ(JobNamed("two").state, JobState::kCancelled);
  EXPECT_THAT(JobNamed("two").last_error, HasSubstr("campaign y is no longer in"));
  EXPECT_EQ(JobNamed("sent").state, JobState::kSent);
  EXPECT_EQ(JobNamed("two").file, "");
  auto rows = store().Campaigns().value();
  EXPECT_EQ(Row(rows, "a.yaml")->status, CampaignStatus::kRemoved);
  EXPECT_EQ(Row(rows, "b.yaml")->campaign_id, "x");
  // y is free: another file may take it, and brings its pending job back.
  ASSERT_TRUE(store().ApplyCampaign(File("c.yaml", "y", "h1"), {Spec("two", "once", kT0 + 1h)}, kT0,
                                    kT0 + 2min));
  EXPECT_EQ(JobNamed("two").state, JobState::kScheduled);
}

TEST_F(StoreIdentity, AJobAnAttemptMayHaveReachedIsNeverRewrittenCancelledOrRevived) {
  std::vector<Store::JobSpec> v1 = {
      Spec("unknown", "once", kT0, "v1"), Spec("failed", "once", kT0, "v1"),
      Spec("retried-then-unknown", "once", kT0, "v1"), Spec("in-flight", "once", kT0, "v1")};
  ASSERT_TRUE(store().ApplyCampaign(File("a.yaml", "promo", "h1"), v1, kT0, kT0));
  Attempt(JobNamed("unknown").id, OutcomeClass::kUnknown, kT0);
  Attempt(JobNamed("failed").id, OutcomeClass::kPermanent, kT0);
  Retried(JobNamed("retried-then-unknown").id, kT0);
  ASSERT_TRUE(store().ResolveNotSent(JobNamed("unknown").id, kT0).has_value());  // ready again
  Attempt(JobNamed("retried-then-unknown").id, OutcomeClass::kUnknown, kT0 + 2min);
  ASSERT_TRUE(store().ResolveNotSent(JobNamed("retried-then-unknown").id, kT0 + 2min));
  ASSERT_TRUE(store().ClaimForSending(JobNamed("in-flight").id, Instant(kT0 + 2min)).has_value());
  const std::string before = Dump("jobs");

  std::vector<Store::JobSpec> v2 = v1;
  for (auto& spec : v2) spec.body = "v2";
  ASSERT_TRUE(store().ApplyCampaign(File("a.yaml", "promo", "h2"), v2, kT0, kT0 + 3min));
  EXPECT_EQ(Dump("jobs"), before);  // an edit
  EXPECT_EQ(store().RemoveCampaign("a.yaml", kT0 + 4min).value(), 0);
  EXPECT_EQ(Dump("jobs"), before);  // a removal
  ASSERT_TRUE(store().ApplyCampaign(Moved("b.yaml", "promo", "h3", "a.yaml"), v2, kT0, kT0 + 5min));
  EXPECT_EQ(Dump("jobs"), before);  // added back under another name
  ASSERT_TRUE(store().ApplyCampaign(File("b.yaml", "promo", "h4"), {}, kT0, kT0 + 6min));
  EXPECT_EQ(Dump("jobs"), before);  // dropped from the file
}

TEST_F(StoreIdentity, AJobEveryAttemptOfWhichWasRefusedFollowsItsFile) {
  ASSERT_TRUE(store().ApplyCampaign(
      File("a.yaml", "promo", "h1"),
      {Spec("edited", "once", kT0, "v1"), Spec("removed", "once", kT0, "v1")}, kT0, kT0));
  Retried(JobNamed("edited").id, kT0);
  Retried(JobNamed("edited").id, kT0 + 2min, OutcomeClass::kNextDay);
  Retried(JobNamed("removed").id, kT0);
  const JobRow edited_before = JobNamed("edited");
  ASSERT_EQ(edited_before.attempts, 2);

  ASSERT_TRUE(store().ApplyCampaign(
      File("a.yaml", "promo", "h2"),
      {Spec("edited", "once", kT0, "v2"), Spec("removed", "once", kT0, "v1")}, kT0, kT0 + 3min));
  JobRow edited = JobNamed("edited");
  EXPECT_EQ(edited.body, "v2");
  EXPECT_EQ(edited.state, JobState::kReady);
  EXPECT_EQ(edited.not_before, edited_before.not_before);  // the server's wait still holds
  EXPECT_EQ(edited.attempts, 2);

  ASSERT_TRUE(store().ApplyCampaign(File("a.yaml", "promo", "h3"),
                                    {Spec("edited", "once", kT0, "v2")}, kT0, kT0 + 4min));
  EXPECT_EQ(JobNamed("removed").state, JobState::kCancelled);
  EXPECT_EQ(store().RemoveCampaign("a.yaml", kT0 + 5min).value(), 1);
  EXPECT_EQ(JobNamed("edited").state, JobState::kCancelled);
  EXPECT_FALSE(store().ClaimForSending(JobNamed("edited").id, Instant(kT0 + 6min)).has_value());
}

TEST_F(StoreIdentity, ARefusedFileKeepsItsCampaignAndIsReportedOncePerChange) {
  ASSERT_TRUE(store().ApplyCampaign(File("a.yaml", "promo", "h1"), {Spec("x", "once", kT0 + 1h)},
                                    kT0, kT0));
  const std::string jobs_before = Dump("jobs");
  EXPECT_TRUE(store().RefuseFile("a.yaml", "group-writable", kT0 + 1min).value());
  EXPECT_FALSE(store().RefuseFile("a.yaml", "group-writable", kT0 + 2min).value());
  EXPECT_TRUE(store().RefuseFile("a.yaml", "a symlink", kT0 + 3min).value());
  EXPECT_TRUE(store().RefuseFile("fifo.yaml", "not a regular file", kT0 + 3min).value());
  EXPECT_EQ(Dump("jobs"), jobs_before);
  auto rows = store().Campaigns().value();
  EXPECT_EQ(Row(rows, "a.yaml")->status, CampaignStatus::kRefused);
  EXPECT_EQ(Row(rows, "a.yaml")->last_error, "a symlink");
  EXPECT_EQ(Row(rows, "a.yaml")->campaign_id, "promo");
  EXPECT_EQ(Row(rows, "fifo.yaml")->status, CampaignStatus::kRefused);
  EXPECT_EQ(Row(rows, "fifo.yaml")->campaign_id, "");

  // Trusted again with the same content: the file counts as changed and is ok again.
  auto effect = store().ApplyCampaign(File("a.yaml", "promo", "h1"), {Spec("x", "once", kT0 + 1h)},
                                      kT0, kT0 + 4min);
  ASSERT_TRUE(effect.has_value()) << effect.error().message;
  EXPECT_EQ(*effect, Effect::kUpdated);
  EXPECT_EQ(Dump("jobs"), jobs_before);
  EXPECT_EQ(Row(store().Campaigns().value(), "a.yaml")->status, CampaignStatus::kOk);
  // A refused file that goes away is removed like any other.
  EXPECT_EQ(store().RemoveCampaign("fifo.yaml", kT0 + 5min).value(), 0);
}

}  // namespace
}  // namespace broadcastd::testing_store
