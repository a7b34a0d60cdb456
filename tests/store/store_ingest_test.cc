#include <SQLiteCpp/Database.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "core/time_format.h"
#include "store/store.h"
#include "store_test_support.h"

namespace broadcastd::testing_store {
namespace {

using ::testing::HasSubstr;
using Effect = Store::ApplyEffect;

class StoreIngest : public StoreTest {};

TEST_F(StoreIngest, CreatesTheCampaignAndItsJobs) {
  Store::CampaignFile file{"spring.yaml", "spring", "h1", "main", 5};
  auto effect = store().ApplyCampaign(
      file, {Spec("now", "once", kT0 - 1s), Spec("later", "once", kT0 + 1h)}, kT0, kT0);
  ASSERT_TRUE(effect.has_value()) << effect.error().message;
  EXPECT_EQ(*effect, Effect::kCreated);

  auto campaigns = store().Campaigns().value();
  ASSERT_EQ(campaigns.size(), 1u);
  EXPECT_EQ(campaigns[0].file, "spring.yaml");
  EXPECT_EQ(campaigns[0].campaign_id, "spring");
  EXPECT_EQ(campaigns[0].status, CampaignStatus::kOk);
  EXPECT_EQ(campaigns[0].priority, 5);
  EXPECT_EQ(campaigns[0].updated_at, kT0);

  JobRow now = JobNamed("now");
  EXPECT_EQ(now.state, JobState::kReady);
  EXPECT_EQ(now.campaign_id, "spring");
  EXPECT_EQ(now.file, "spring.yaml");
  EXPECT_EQ(now.attempts, 0);
  EXPECT_EQ(JobNamed("later").state, JobState::kScheduled);
  EXPECT_EQ(JobNamed("later").due, kT0 + 1h);
  EXPECT_LT(now.id, JobNamed("later").id);  // insertion order
}

TEST_F(StoreIngest, TheSameHashChangesNothing) {
  auto file = File("a.yaml", "a", "h1");
  ASSERT_TRUE(store().ApplyCampaign(file, {Spec("x", "once", kT0 + 1h)}, kT0, kT0));
  std::string before = Dump();
  // Even with different specs and a later clock: the hash says the file did not change.
  auto effect = store().ApplyCampaign(file, {Spec("y", "once", kT0)}, kT0 + 2h, kT0 + 2h);
  ASSERT_TRUE(effect.has_value()) << effect.error().message;
  EXPECT_EQ(*effect, Effect::kUnchanged);
  EXPECT_EQ(Dump(), before);
}

TEST_F(StoreIngest, AChangedFileUpdatesOnlyJobsNoAttemptMayHaveReached) {
  ASSERT_TRUE(store().ApplyCampaign(
      File("a.yaml", "a", "h1"),
      {Spec("fresh", "once", kT0 - 1s, R"({"v":1})"), Spec("tried", "once", kT0 - 1s, R"({"v":1})"),
       Spec("retrying", "once", kT0 - 1s, R"({"v":1})")},
      kT0, kT0));
  Attempt(JobNamed("tried").id, OutcomeClass::kSent, kT0, "42");
  Attempt(JobNamed("retrying").id, OutcomeClass::kRetry, kT0);
  JobRow tried_before = JobNamed("tried");
  JobRow retrying_before = JobNamed("retrying");

  Store::CampaignFile changed{"a.yaml", "a", "h2", "other", 9};
  auto effect = store().ApplyCampaign(
      changed,
      {Spec("fresh", "once", kT0 + 1h, R"({"v":2})", BroadcastTarget::kChatrooms),
       Spec("tried", "once", kT0 + 1h, R"({"v":2})"),
       Spec("retrying", "once", kT0 + 1h, R"({"v":2})")},
      kT0 + 1min, kT0 + 1min);
  ASSERT_TRUE(effect.has_value()) << effect.error().message;
  EXPECT_EQ(*effect, Effect::kUpdated);

  JobRow fresh = JobNamed("fresh");
  EXPECT_EQ(fresh.body, R"({"v":2})");
  EXPECT_EQ(fresh.due, kT0 + 1h);
  EXPECT_EQ(fresh.state, JobState::kScheduled);  // due moved into the future
  EXPECT_EQ(fresh.target, BroadcastTarget::kChatrooms);
  EXPECT_EQ(fresh.updated_at, kT0 + 1min);

  JobRow tried = JobNamed("tried");
  EXPECT_EQ(tried.body, R"({"v":1})");
  EXPECT_EQ(tried.state, JobState::kSent);
  EXPECT_EQ(tried.updated_at, tried_before.updated_at);
  // A retry answer proved the attempt was not applied: the job still follows its file.
  JobRow retrying = JobNamed("retrying");
  EXPECT_EQ(retrying.body, R"({"v":2})");
  EXPECT_EQ(retrying.due, kT0 + 1h);
  EXPECT_EQ(retrying.attempts, retrying_before.attempts);
  EXPECT_EQ(retrying.state, JobState::kScheduled);

  auto campaign = store().Campaigns().value().at(0);
  EXPECT_EQ(campaign.content_hash, "h2");
  EXPECT_EQ(campaign.app, "other");
  EXPECT_EQ(campaign.priority, 9);
}

TEST_F(StoreIngest, ADroppedSpecCancelsItsJobOnlyIfNeverAttempted) {
  ASSERT_TRUE(store().ApplyCampaign(
      File("a.yaml", "a", "h1"),
      {Spec("keep", "once", kT0), Spec("drop", "once", kT0), Spec("tried", "once", kT0)}, kT0,
      kT0));
  Attempt(JobNamed("tried").id, OutcomeClass::kUnknown, kT0);
  ASSERT_TRUE(
      store().ApplyCampaign(File("a.yaml", "a", "h2"), {Spec("keep", "once", kT0)}, kT0, kT0 + 1s));
  EXPECT_EQ(JobNamed("keep").state, JobState::kReady);
  EXPECT_EQ(JobNamed("drop").state, JobState::kCancelled);
  EXPECT_THAT(JobNamed("drop").last_error, HasSubstr("no longer in campaign a"));
  EXPECT_EQ(JobNamed("tried").state, JobState::kUnknown);
}

TEST_F(StoreIngest, TimedOccurrencesBeforeCoveredFromAreKept) {
  std::string early = FormatRfc3339(kT0 + 1h);
  std::string late = FormatRfc3339(kT0 + 25h);
  ASSERT_TRUE(
      store().ApplyCampaign(File("a.yaml", "a", "h1"),
                            {Spec("nightly", early, kT0 + 1h), Spec("nightly", late, kT0 + 25h),
                             Spec("once", "once", kT0 + 1h)},
                            kT0, kT0));
  // The new version was expanded from kT0 + 2h on and no longer has these occurrences.
  TimePoint covered_from = kT0 + 2h;
  std::string newer = FormatRfc3339(kT0 + 49h);
  ASSERT_TRUE(store().ApplyCampaign(File("a.yaml", "a", "h2"), {Spec("nightly", newer, kT0 + 49h)},
                                    covered_from, kT0 + 1min));
  EXPECT_EQ(JobNamed("nightly", early).state, JobState::kScheduled);  // before covered_from
  EXPECT_EQ(JobNamed("nightly", late).state, JobState::kCancelled);   // in range, gone
  EXPECT_EQ(JobNamed("once").state, JobState::kCancelled);            // "once": always covered
  EXPECT_EQ(JobNamed("nightly", newer).state, JobState::kScheduled);
}

TEST_F(StoreIngest, RemovalCancelsUnattemptedJobsAndKeepsAttemptedOnes) {
  ASSERT_TRUE(store().ApplyCampaign(
      File("a.yaml", "a", "h1"),
      {Spec("x", "once", kT0), Spec("y", "once", kT0 + 1h), Spec("z", "once", kT0)}, kT0, kT0));
  Attempt(JobNamed("z").id, OutcomeClass::kSent, kT0, "7");
  auto removed = store().RemoveCampaign("a.yaml", kT0 + 1min);
  ASSERT_TRUE(removed.has_value()) << removed.error().message;
  EXPECT_EQ(*removed, 2);
  EXPECT_EQ(JobNamed("x").state, JobState::kCancelled);
  EXPECT_EQ(JobNamed("y").state, JobState::kCancelled);
  EXPECT_EQ(JobNamed("z").state, JobState::kSent);
  EXPECT_EQ(JobNamed("z").broadcast_id, "7");
  EXPECT_EQ(store().Campaigns().value().at(0).status, CampaignStatus::kRemoved);
  EXPECT_EQ(store().RemoveCampaign("a.yaml", kT0 + 2min).value(), 0);
  EXPECT_EQ(store().RemoveCampaign("never.yaml", kT0 + 2min).value(), 0);
}

TEST_F(StoreIngest, ARestoredFileBringsBackItsJobsButNotOperatorCancellations) {
  ASSERT_TRUE(store().ApplyCampaign(File("a.yaml", "a", "h1"),
                                    {Spec("x", "once", kT0), Spec("y", "once", kT0)}, kT0, kT0));
  ASSERT_TRUE(store().CancelJob(JobNamed("y").id, kT0));
  ASSERT_TRUE(store().RemoveCampaign("a.yaml", kT0 + 1s));
  auto effect = store().ApplyCampaign(
      File("a.yaml", "a", "h1"), {Spec("x", "once", kT0), Spec("y", "once", kT0)}, kT0, kT0 + 2s);
  ASSERT_TRUE(effect.has_value()) << effect.error().message;
  EXPECT_EQ(*effect, Effect::kCreated);
  EXPECT_EQ(JobNamed("x").state, JobState::kReady);
  EXPECT_EQ(JobNamed("x").last_error, "");
  EXPECT_EQ(JobNamed("y").state, JobState::kCancelled);
  EXPECT_EQ(store().Jobs()->size(), 2u);
}

TEST_F(StoreIngest, RejectionKeepsEarlierJobsAndRecordsTheErrorOnce) {
  ASSERT_TRUE(
      store().ApplyCampaign(File("a.yaml", "a", "h1"), {Spec("x", "once", kT0 + 1h)}, kT0, kT0));
  std::string jobs_before = Dump();
  auto rejected =
      store().RejectCampaign("a.yaml", "h2", "a.yaml:3:5: unknown key 'mesage'", kT0 + 1min);
  ASSERT_TRUE(rejected.has_value()) << rejected.error().message;
  EXPECT_TRUE(*rejected);
  auto campaign = store().Campaigns().value().at(0);
  EXPECT_EQ(campaign.status, CampaignStatus::kRejected);
  EXPECT_EQ(campaign.last_error, "a.yaml:3:5: unknown key 'mesage'");
  EXPECT_EQ(campaign.content_hash, "h2");
  EXPECT_EQ(campaign.campaign_id, "a");
  EXPECT_EQ(JobNamed("x").state, JobState::kScheduled);
  EXPECT_EQ(JobNamed("x").updated_at, kT0);

  std::string after_first = Dump();
  EXPECT_FALSE(store()
                   .RejectCampaign("a.yaml", "h2", "a.yaml:3:5: unknown key 'mesage'", kT0 + 2min)
                   .value());
  EXPECT_EQ(Dump(), after_first);
  EXPECT_TRUE(store().RejectCampaign("a.yaml", "h3", "other error", kT0 + 3min).value());

  // Back to the last good content: the file counts as changed, since its row is rejected.
  auto effect = store().ApplyCampaign(File("a.yaml", "a", "h1"), {Spec("x", "once", kT0 + 1h)}, kT0,
                                      kT0 + 4min);
  ASSERT_TRUE(effect.has_value()) << effect.error().message;
  EXPECT_EQ(*effect, Effect::kUpdated);
  EXPECT_EQ(store().Campaigns().value().at(0).status, CampaignStatus::kOk);
  EXPECT_EQ(store().Campaigns().value().at(0).last_error, "");
}

TEST_F(StoreIngest, ANewInvalidFileIsRecordedWithoutACampaignId) {
  EXPECT_TRUE(store().RejectCampaign("bad.yaml", "h", "bad.yaml:1:1: not a mapping", kT0).value());
  auto campaign = store().Campaigns().value().at(0);
  EXPECT_EQ(campaign.file, "bad.yaml");
  EXPECT_EQ(campaign.status, CampaignStatus::kRejected);
  EXPECT_EQ(campaign.campaign_id, "");
  EXPECT_TRUE(store().Jobs()->empty());
}

TEST_F(StoreIngest, ACampaignIdUsedByAnotherLiveFileIsRefused) {
  ASSERT_TRUE(
      store().ApplyCampaign(File("a.yaml", "promo", "h1"), {Spec("x", "once", kT0)}, kT0, kT0));
  std::string before = Dump();
  auto clash =
      store().ApplyCampaign(File("b.yaml", "promo", "h2"), {Spec("x", "once", kT0)}, kT0, kT0);
  ASSERT_FALSE(clash.has_value());
  EXPECT_THAT(clash.error().message, HasSubstr("'promo' is already used by a.yaml"));
  EXPECT_EQ(Dump(), before);

  // A rejected file still holds its id: its jobs are live.
  ASSERT_TRUE(store().RejectCampaign("a.yaml", "h3", "broken", kT0));
  EXPECT_FALSE(store()
                   .ApplyCampaign(File("b.yaml", "promo", "h2"), {Spec("x", "once", kT0)}, kT0, kT0)
                   .has_value());

  // A removed one does not.
  ASSERT_TRUE(store().RemoveCampaign("a.yaml", kT0));
  auto taken =
      store().ApplyCampaign(File("b.yaml", "promo", "h2"), {Spec("x", "once", kT0)}, kT0, kT0);
  ASSERT_TRUE(taken.has_value()) << taken.error().message;
  // And a removed file coming back with the id now taken is refused, naming the holder.
  auto back =
      store().ApplyCampaign(File("a.yaml", "promo", "h1"), {Spec("x", "once", kT0)}, kT0, kT0);
  ASSERT_FALSE(back.has_value());
  EXPECT_THAT(back.error().message, HasSubstr("already used by b.yaml"));
  // Coming back invalid, it gives the id up rather than clash.
  EXPECT_TRUE(store().RejectCampaign("a.yaml", "h4", "broken", kT0).value());
}

TEST_F(StoreIngest, AFailureInTheMiddleLeavesTheDatabaseExactlyAsBefore) {
  ASSERT_TRUE(store().ApplyCampaign(
      File("a.yaml", "a", "h1"),
      {Spec("x", "once", kT0 + 1h, R"({"v":1})"), Spec("gone", "once", kT0 + 1h)}, kT0, kT0));
  {
    // Makes the third insert of the next version fail, after an update and two inserts.
    if (pg_) {
      pg_conn_->Exec(
          "CREATE FUNCTION fail_third() RETURNS trigger LANGUAGE plpgsql AS "
          "$$ BEGIN RAISE EXCEPTION 'forced failure'; END $$; "
          "CREATE TRIGGER fail_third_insert BEFORE INSERT ON jobs FOR EACH ROW "
          "WHEN (NEW.broadcast = 'third') EXECUTE FUNCTION fail_third()");
    } else {
      SQLite::Database raw(db_path_, SQLite::OPEN_READWRITE);
      raw.exec(
          "CREATE TRIGGER fail_third_insert BEFORE INSERT ON jobs "
          "WHEN NEW.broadcast = 'third' BEGIN SELECT RAISE(ABORT, 'forced failure'); END");
    }
  }
  std::string before = Dump();
  auto effect = store().ApplyCampaign(
      Store::CampaignFile{"a.yaml", "a2", "h2", "other", 3},
      {Spec("x", "once", kT0 + 2h, R"({"v":2})"), Spec("first", "once", kT0),
       Spec("second", "once", kT0), Spec("third", "once", kT0), Spec("fourth", "once", kT0)},
      kT0, kT0 + 1min);
  ASSERT_FALSE(effect.has_value());
  EXPECT_THAT(effect.error().message, HasSubstr("forced failure"));
  EXPECT_THAT(effect.error().message, HasSubstr(store().path().string()));
  EXPECT_THAT(effect.error().message, HasSubstr("apply campaign a.yaml"));
  EXPECT_EQ(Dump(), before);

  // And the store goes on working afterwards.
  EXPECT_TRUE(
      store().ApplyCampaign(File("a.yaml", "a", "h3"), {Spec("x", "once", kT0)}, kT0, kT0 + 2min));
}

TEST_F(StoreIngest, TwoSpecsForOneOccurrenceAreRefusedWholesale) {
  ASSERT_TRUE(store().ApplyCampaign(File("a.yaml", "a", "h1"), {Spec("x", "once", kT0)}, kT0, kT0));
  std::string before = Dump();
  auto effect = store().ApplyCampaign(
      File("a.yaml", "a", "h2"),
      {Spec("y", "once", kT0), Spec("z", "once", kT0), Spec("z", "once", kT0 + 1s)}, kT0, kT0);
  ASSERT_FALSE(effect.has_value());
  EXPECT_THAT(effect.error().message, HasSubstr("broadcast 'z'"));
  EXPECT_EQ(Dump(), before);
}

TEST_F(StoreIngest, AddMissingJobsOnlyInserts) {
  std::string d1 = FormatRfc3339(kT0 + 1h), d2 = FormatRfc3339(kT0 + 25h),
              d3 = FormatRfc3339(kT0 + 49h);
  ASSERT_TRUE(store().ApplyCampaign(
      File("a.yaml", "a", "h1"), {Spec("n", d1, kT0 + 1h, "old"), Spec("n", d2, kT0 + 25h, "old")},
      kT0, kT0));
  ASSERT_TRUE(store().CancelJob(JobNamed("n", d2).id, kT0));
  auto added = store().AddMissingJobs(
      "a.yaml",
      {Spec("n", d1, kT0 + 1h, "new"), Spec("n", d2, kT0 + 25h, "new"), Spec("n", d3, kT0 + 49h)},
      kT0 + 1min);
  ASSERT_TRUE(added.has_value()) << added.error().message;
  EXPECT_EQ(*added, 1);
  EXPECT_EQ(JobNamed("n", d1).body, "old");
  EXPECT_EQ(JobNamed("n", d2).state, JobState::kCancelled);
  EXPECT_EQ(JobNamed("n", d3).state, JobState::kScheduled);
  EXPECT_EQ(JobNamed("n", d3).campaign_id, "a");
  EXPECT_EQ(store().AddMissingJobs("a.yaml", {Spec("n", d3, kT0 + 49h)}, kT0).value(), 0);

  EXPECT_FALSE(store().AddMissingJobs("unknown.yaml", {Spec("n", d3, kT0)}, kT0).has_value());
  ASSERT_TRUE(store().RemoveCampaign("a.yaml", kT0));
  EXPECT_FALSE(store().AddMissingJobs("a.yaml", {Spec("m", d3, kT0)}, kT0).has_value());
}

TEST_F(StoreIngest, EarliestPendingIsTheFirstTimedOccurrenceNoAttemptMayHaveReached) {
  std::string d1 = FormatRfc3339(kT0 - 1h), d2 = FormatRfc3339(kT0 + 1h),
              d3 = FormatRfc3339(kT0 + 25h);
  ASSERT_TRUE(store().ApplyCampaign(File("a.yaml", "a", "h1"),
                                    {Spec("n", d1, kT0 - 1h), Spec("n", d2, kT0 + 1h),
                                     Spec("n", d3, kT0 + 25h), Spec("m", "once", kT0 - 2h)},
                                    kT0, kT0));
  EXPECT_EQ(store().EarliestPending("a", "n").value(), kT0 - 1h);
  Attempt(JobNamed("n", d1).id, OutcomeClass::kRetry, kT0);
  EXPECT_EQ(store().EarliestPending("a", "n").value(), kT0 - 1h);  // proven not applied
  Attempt(JobNamed("n", d1).id, OutcomeClass::kUnknown, kT0 + 1s);
  EXPECT_EQ(store().EarliestPending("a", "n").value(), kT0 + 1h);
  EXPECT_EQ(store().EarliestPending("a", "m").value(), std::nullopt);  // "once" only
  EXPECT_EQ(store().EarliestPending("b", "n").value(), std::nullopt);
}

}  // namespace
}  // namespace broadcastd::testing_store

namespace broadcastd::testing_store {
namespace {

class StoreIngestBatch : public StoreTest {
 protected:
  // What `other` (another connection) has seen of this one's commits. PostgreSQL's
  // notifications arrive a moment after the commit: when `changed_from` is given, waits
  // (a bounded poll) until the version moves from it.
  static int64_t DataVersion(Store& other, std::optional<int64_t> changed_from = {}) {
    int64_t version = other.DataVersion().value();
    for (int i = 0; i < 200 && changed_from && version == *changed_from; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      version = other.DataVersion().value();
    }
    return version;
  }
};

TEST_F(StoreIngestBatch, ManyFilesLandInOneCommitAndAFailedOneUndoesOnlyItself) {
  ASSERT_TRUE(
      store().ApplyCampaign(File("held.yaml", "taken", "h0"), {Spec("x", "once", kT0)}, kT0, kT0));
  auto other = OpenStore(Store::Mode::kReadWrite);
  ASSERT_TRUE(other.has_value()) << other.error().message;
  const int64_t version = DataVersion(*other);

  ASSERT_TRUE(store().BeginBatch().has_value());
  EXPECT_TRUE(store().InBatch());
  EXPECT_EQ(
      store().ApplyCampaign(File("a.yaml", "a", "h1"), {Spec("x", "once", kT0)}, kT0, kT0).value(),
      Effect::kCreated);
  // Another file holding the id: refused, and nothing of it stays in the batch.
  auto clash =
      store().ApplyCampaign(File("b.yaml", "taken", "h2"), {Spec("y", "once", kT0)}, kT0, kT0);
  ASSERT_FALSE(clash.has_value());
  EXPECT_EQ(clash.error().kind, ErrorKind::kConflict);
  EXPECT_TRUE(store().InBatch());
  Store::FileFacts facts;
  facts.stamp = Store::FileStamp{1, 2, 3, 4, 5};
  facts.repeats = true;
  EXPECT_TRUE(store().RejectCampaign("c.yaml", "h3", "c.yaml:1:1: broken", kT0, facts).value());
  EXPECT_EQ(DataVersion(*other), version);               // nothing committed yet
  EXPECT_EQ(other->IngestedFiles().value().size(), 1u);  // held.yaml alone
  ASSERT_TRUE(store().CommitBatch().has_value());
  EXPECT_FALSE(store().InBatch());
  EXPECT_NE(DataVersion(*other, version), version);

  const std::vector<Store::IngestedFile> files = store().IngestedFiles().value();
  ASSERT_EQ(files.size(), 3u);  // a, c, held: no row for b.yaml
  EXPECT_EQ(files[0].file, "a.yaml");
  EXPECT_EQ(files[0].campaign_id, "a");
  EXPECT_EQ(files[1].file, "c.yaml");
  EXPECT_EQ(files[1].status, CampaignStatus::kRejected);
  ASSERT_TRUE(files[1].facts.stamp.has_value());
  EXPECT_EQ(*files[1].facts.stamp, *facts.stamp);
  EXPECT_FALSE(files[0].facts.stamp.has_value());
  EXPECT_EQ(store().HolderOf("taken").value(), std::optional<std::string>("held.yaml"));
  EXPECT_EQ(store().HolderOf("nobody").value(), std::nullopt);
}

TEST_F(StoreIngestBatch, ARolledBackBatchLeavesNothing) {
  const std::string before = Dump();
  ASSERT_TRUE(store().BeginBatch().has_value());
  ASSERT_TRUE(store().ApplyCampaign(File("a.yaml", "a", "h1"), {Spec("x", "once", kT0)}, kT0, kT0));
  ASSERT_TRUE(store().SetCheckedUnder("key").has_value());
  store().RollbackBatch();
  EXPECT_FALSE(store().InBatch());
  EXPECT_EQ(Dump(), before);
  EXPECT_EQ(store().CheckedUnder().value(), std::nullopt);
}

TEST_F(StoreIngestBatch, FactsOfTheSameContentAreRecordedWithoutAnyOtherChange) {
  ASSERT_TRUE(store().ApplyCampaign(File("a.yaml", "a", "h1"), {Spec("x", "once", kT0)}, kT0, kT0));
  const std::vector<JobRow> jobs = store().Jobs().value();
  Store::FileFacts facts;
  facts.stamp = Store::FileStamp{7, 8, 9, 10, 11};
  ASSERT_TRUE(store().SetFileFacts("a.yaml", facts).has_value());
  EXPECT_EQ(store().IngestedFiles().value().at(0).facts.stamp, facts.stamp);
  EXPECT_EQ(store().Jobs().value().at(0).updated_at, jobs.at(0).updated_at);
  EXPECT_EQ(store().SetFileFacts("none.yaml", facts).error().kind, ErrorKind::kNotFound);
}

}  // namespace
}  // namespace broadcastd::testing_store
