// Signed campaigns in the store (schema 11), on SQLite and on PostgreSQL (the "pg." run):
// a held campaign's jobs are never claimed, the scheduler's reads leave them out and the job
// change log names them when the hold comes or goes; each attempt keeps the signers of the
// version it carried; ssh-keygen's verdicts are kept.

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "store/store.h"
#include "store_test_support.h"

namespace broadcastd::testing_store {
namespace {

class StoreSignatures : public StoreTest {
 protected:
  int64_t QueueOne() {
    EXPECT_TRUE(
        store().ApplyCampaign(File("a.yaml", "a", "h1"), {Spec("x", "once", kT0 - 1s)}, kT0, kT0));
    return store().Jobs().value().at(0).id;
  }
  // The ids the job change log names after `after`.
  std::set<int64_t> ChangedSince(int64_t after) {
    std::set<int64_t> ids;
    EXPECT_TRUE(store().ForEachJobChangedSince(
        after, [&](int64_t id, const QueuedJobRow*) { ids.insert(id); }));
    return ids;
  }
};

TEST_F(StoreSignatures, AHeldCampaignIsNeverClaimedAndItsReleaseIsLogged) {
  const int64_t job = QueueOne();
  Store::CampaignSignatures held{"alice@example.com", "a.yaml.bob.sig: not valid",
                                 "unsigned: users needs 2 signers, has 1 (alice@example.com)"};
  const int64_t before_hold = store().LastJobChange().value();
  ASSERT_TRUE(store().SetCampaignSignatures("a", held, kT0));
  EXPECT_EQ(ChangedSince(before_hold), std::set<int64_t>{job});
  EXPECT_EQ(store().SignatureHeldJobs().value(), std::set<int64_t>{job});
  auto holds = store().SignatureHolds().value();
  ASSERT_EQ(holds.size(), 1u);
  EXPECT_EQ(holds[0].campaign_id, "a");
  EXPECT_EQ(holds[0].file, "a.yaml");
  EXPECT_EQ(holds[0].queued, 1);
  EXPECT_EQ(holds[0].signers, "alice@example.com");
  auto claim = store().ClaimForSending(job, Instant(kT0));
  ASSERT_FALSE(claim.has_value());
  EXPECT_TRUE(claim.error().Is(ErrorKind::kConflict));
  EXPECT_NE(claim.error().message.find("unsigned: users needs 2"), std::string::npos);

  const int64_t before_release = store().LastJobChange().value();
  ASSERT_TRUE(store().SetCampaignSignatures(
      "a", Store::CampaignSignatures{"alice@example.com, bob@example.com", "", std::nullopt}, kT0));
  EXPECT_EQ(ChangedSince(before_release), std::set<int64_t>{job});
  EXPECT_TRUE(store().SignatureHolds().value().empty());
  auto attempt = store().ClaimForSending(job, Instant(kT0));
  ASSERT_TRUE(attempt.has_value()) << attempt.error().message;
  EXPECT_EQ(store().AttemptSigners(job).value(),
            (std::map<int64_t, std::string>{{*attempt, "alice@example.com, bob@example.com"}}));
}

TEST_F(StoreSignatures, ClearingReleasesEveryHoldAndAttemptsWithoutSignaturesKeepNone) {
  const int64_t job = QueueOne();
  ASSERT_TRUE(store().SetCampaignSignatures(
      "a", Store::CampaignSignatures{"", "", "unsigned: users needs 1 signer, has 0"}, kT0));
  EXPECT_EQ(store().ClearCampaignSignatures().value(), 1);
  EXPECT_TRUE(store().SignatureHeldJobs().value().empty());
  EXPECT_FALSE(store().SignaturesOf("a").value().has_value());
  ASSERT_TRUE(store().ClaimForSending(job, Instant(kT0)).has_value());
  EXPECT_TRUE(store().AttemptSigners(job).value().empty());
  EXPECT_FALSE(store().SetCampaignSignatures("nope", {}, kT0).has_value());
}

TEST_F(StoreSignatures, VerdictsAreKept) {
  ASSERT_TRUE(store().AddSignatureChecks({{"k1", "good\talice"}, {"k2", "bad\tno"}}, kT0));
  ASSERT_TRUE(store().AddSignatureChecks({{"k1", "good\talice"}}, kT0));
  EXPECT_EQ(store().SignatureChecks().value(),
            (std::map<std::string, std::string>{{"k1", "good\talice"}, {"k2", "bad\tno"}}));
}

}  // namespace
}  // namespace broadcastd::testing_store
