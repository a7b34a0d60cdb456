// The store's part of adoption (schema 10): a new queue holds the campaigns of its first
// scan until an operator confirms them. Runs on SQLite and, as pg.StoreAdoption*, on
// PostgreSQL.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/schema.h"
#include "store/store.h"
#include "store_test_support.h"

namespace broadcastd::testing_store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class StoreAdoption : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    store().set_adopt_new_campaigns(true);
  }

  std::vector<std::string> AdoptedIds() {
    const auto adopted = store().AdoptedCampaigns();
    EXPECT_TRUE(adopted.has_value());
    std::vector<std::string> ids;
    if (adopted) {
      for (const auto& c : *adopted) ids.push_back(c.campaign_id);
    }
    return ids;
  }
};

TEST_F(StoreAdoption, ANewQueueAdoptsItsFirstScanAndHoldsItsJobs) {
  ASSERT_TRUE(store().Adopting().value());
  ASSERT_TRUE(store().ApplyCampaign(File("a.yaml", "promo", "h1"),
                                    {Spec("now", "once", kT0), Spec("later", "once", kT0 + 1h)},
                                    kT0, kT0));
  EXPECT_THAT(AdoptedIds(), ElementsAre("promo"));
  const auto adopted = store().AdoptedCampaigns().value();
  EXPECT_EQ(adopted[0].file, "a.yaml");
  EXPECT_EQ(adopted[0].queued_jobs, 2);
  EXPECT_EQ(adopted[0].since, kT0);
  EXPECT_THAT(store().HeldJobIds().value(), ElementsAre(JobNamed("now").id, JobNamed("later").id));

  // Never claimed while held, by this connection or another.
  auto claim = store().ClaimForSending(JobNamed("now").id, Instant(kT0));
  ASSERT_FALSE(claim.has_value());
  EXPECT_EQ(claim.error().kind, ErrorKind::kConflict);
  EXPECT_THAT(claim.error().message, HasSubstr("campaign promo is held"));
  EXPECT_EQ(JobNamed("now").state, JobState::kReady);
  EXPECT_EQ(JobNamed("now").attempts, 0);

  // The lateness deadline still runs: a held job expires.
  ASSERT_TRUE(store().ExpireJob(JobNamed("later").id, kT0 + 2h));
  EXPECT_THAT(store().HeldJobIds().value(), ElementsAre(JobNamed("now").id));
}

TEST_F(StoreAdoption, TheHoldIsTheCampaignsAndOutlastsTheFirstScan) {
  ASSERT_TRUE(
      store().ApplyCampaign(File("a.yaml", "promo", "h1"), {Spec("one", "once", kT0)}, kT0, kT0));
  auto ended = store().EndAdoption();
  ASSERT_TRUE(ended.has_value()) << ended.error().message;
  ASSERT_EQ(ended->size(), 1u);
  EXPECT_EQ((*ended)[0].campaign_id, "promo");
  EXPECT_FALSE(store().Adopting().value());
  // Ended once: a second call reports nothing (each adoption is logged once).
  EXPECT_TRUE(store().EndAdoption().value().empty());

  // A broadcast the file adds later is held with its campaign.
  ASSERT_TRUE(store().ApplyCampaign(File("a.yaml", "promo", "h2"),
                                    {Spec("one", "once", kT0), Spec("two", "once", kT0)}, kT0,
                                    kT0 + 1s));
  EXPECT_THAT(store().HeldJobIds().value(), ElementsAre(JobNamed("one").id, JobNamed("two").id));
  // A campaign of a file dropped after the first scan is new: not held.
  ASSERT_TRUE(store().ApplyCampaign(File("b.yaml", "fresh", "h3"), {Spec("three", "once", kT0)},
                                    kT0, kT0 + 2s));
  EXPECT_THAT(AdoptedIds(), ElementsAre("promo"));
  EXPECT_TRUE(store().ClaimForSending(JobNamed("three").id, Instant(kT0 + 3s)).has_value());

  // Stored: another connection (a restarted daemon) sees the same hold.
  auto reopened = OpenStore(Store::Mode::kReadWrite);
  ASSERT_TRUE(reopened.has_value()) << reopened.error().message;
  EXPECT_FALSE(reopened->Adopting().value());
  EXPECT_EQ(reopened->HeldJobIds().value().size(), 2u);
}

TEST_F(StoreAdoption, ConfirmReleasesOneCampaignAndIsAudited) {
  ASSERT_TRUE(
      store().ApplyCampaign(File("a.yaml", "promo", "h1"), {Spec("one", "once", kT0)}, kT0, kT0));
  ASSERT_TRUE(
      store().ApplyCampaign(File("b.yaml", "other", "h2"), {Spec("two", "once", kT0)}, kT0, kT0));
  ASSERT_TRUE(store().EndAdoption().has_value());

  auto op = OpenStore(Store::Mode::kReadWriteExisting);
  ASSERT_TRUE(op.has_value()) << op.error().message;
  auto unknown = op->ConfirmAdopted("nope", kT0 + 1s);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().kind, ErrorKind::kNotFound);

  auto confirmed = op->ConfirmAdopted("promo", kT0 + 1s);
  ASSERT_TRUE(confirmed.has_value()) << confirmed.error().message;
  EXPECT_EQ(*confirmed, 1);
  EXPECT_THAT(AdoptedIds(), ElementsAre("other"));
  EXPECT_THAT(store().HeldJobIds().value(), ElementsAre(JobNamed("two").id));
  EXPECT_TRUE(store().ClaimForSending(JobNamed("one").id, Instant(kT0 + 2s)).has_value());
  EXPECT_FALSE(store().ClaimForSending(JobNamed("two").id, Instant(kT0 + 2s)).has_value());

  const auto actions = op->OperatorActions().value();
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].action, "confirm");
  EXPECT_EQ(actions[0].scope, CampaignScope("promo"));
  EXPECT_EQ(actions[0].at, kT0 + 1s);
  // Confirmed once: a second time there is nothing held.
  EXPECT_FALSE(op->ConfirmAdopted("promo", kT0 + 3s).has_value());

  auto all = op->ConfirmAllAdopted(kT0 + 4s);
  ASSERT_TRUE(all.has_value()) << all.error().message;
  EXPECT_THAT(*all, ElementsAre("other"));
  EXPECT_TRUE(AdoptedIds().empty());
  EXPECT_TRUE(store().HeldJobIds().value().empty());
  EXPECT_EQ(op->OperatorActions().value().size(), 2u);
}

TEST_F(StoreAdoption, AStoreThatOnlyRecordsAdoptsNothing) {
  store().set_adopt_new_campaigns(false);
  ASSERT_TRUE(
      store().ApplyCampaign(File("a.yaml", "promo", "h1"), {Spec("one", "once", kT0)}, kT0, kT0));
  EXPECT_TRUE(AdoptedIds().empty());
  EXPECT_TRUE(store().ClaimForSending(JobNamed("one").id, Instant(kT0)).has_value());
}

TEST_F(StoreAdoption, AnEndedAdoptionAdoptsNothing) {
  ASSERT_TRUE(store().EndAdoption().has_value());
  ASSERT_TRUE(
      store().ApplyCampaign(File("a.yaml", "promo", "h1"), {Spec("one", "once", kT0)}, kT0, kT0));
  EXPECT_TRUE(AdoptedIds().empty());
  EXPECT_TRUE(store().HeldJobIds().value().empty());
}

// A database upgraded from version 9 is no new queue: what its folder holds is its own.
TEST_F(StoreAdoption, AnUpgradedDatabaseIsNoNewQueue) {
  if (OnPostgres()) {
    PgTestDb old("_v9");
    ASSERT_TRUE(Store::OpenPostgres(old.uri(), Store::Mode::kReadWrite).has_value());
    old.Connect()->Exec(
        "BEGIN; DROP TABLE campaign_signatures; DROP TABLE signature_checks; "
        "ALTER TABLE attempts DROP COLUMN signers; "
        "DROP TABLE adopted_campaigns; DROP TABLE queue_adoption; "
        "UPDATE broadcastd_schema SET version = 9; COMMIT");
    auto upgraded = Store::OpenPostgres(old.uri(), Store::Mode::kReadWrite);
    ASSERT_TRUE(upgraded.has_value()) << upgraded.error().message;
    EXPECT_EQ(upgraded->SchemaVersion().value(), CurrentSchemaVersion());
    EXPECT_FALSE(upgraded->Adopting().value());
    return;
  }
  const auto path = dir_.path() / "v9.db";
  ASSERT_TRUE(Store::Open(path, Store::Mode::kReadWrite).has_value());
  {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE);
    raw.exec(
        "DROP TABLE campaign_signatures; DROP TABLE signature_checks; "
        "ALTER TABLE attempts DROP COLUMN signers; "
        "DROP TABLE adopted_campaigns; DROP TABLE queue_adoption; PRAGMA user_version = 9");
  }
  auto upgraded = Store::Open(path, Store::Mode::kReadWrite);
  ASSERT_TRUE(upgraded.has_value()) << upgraded.error().message;
  EXPECT_EQ(upgraded->SchemaVersion().value(), CurrentSchemaVersion());
  EXPECT_FALSE(upgraded->Adopting().value());
  upgraded->set_adopt_new_campaigns(true);
  ASSERT_TRUE(
      upgraded->ApplyCampaign(File("a.yaml", "promo", "h1"), {Spec("one", "once", kT0)}, kT0, kT0));
  EXPECT_TRUE(upgraded->AdoptedCampaigns().value().empty());
}

}  // namespace
}  // namespace broadcastd::testing_store
