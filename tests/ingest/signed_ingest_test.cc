// The ingester with signed campaigns: real keys and signatures (ssh-keygen), a real SQLite
// store, the ingester's fake `now`. A campaign short of signers is held in the store; a
// signature added releases it; an edit voids the signatures of the old bytes; a restart
// runs ssh-keygen for nothing it checked before.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "core/clock.h"
#include "core/time_format.h"
#include "fakes/temp_dir.h"
#include "fakes/test_config.h"
#include "ingest/campaign_ingester.h"
#include "signature/signer_keys.h"

namespace broadcastd {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test_keys::SignerKeys;

constexpr const char* kCampaign = R"(id: later
broadcasts:
  - name: one
    target: users
    send_at: "2099-01-01T00:00:00Z"
    message: {type: txt, msg: "one"}
  - name: two
    target: chatrooms
    send_at: "2099-01-02T00:00:00Z"
    message: {type: txt, msg: "two"}
)";

class SignedIngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ / "campaigns");
    ::chmod((dir_ / "campaigns").c_str(), 0755);
    keys_.emplace(dir_ / "keys");
    keys_->Make("alice");
    keys_->Make("bob");
    SignerKeys::Write(dir_ / "allowed_signers", keys_->Line("alice@example.com", "alice") +
                                                    keys_->Line("bob@example.com", "bob"));
    config_ = TestConfig(dir_.path());
    SignatureConfig signatures;
    signatures.allowed_signers = dir_ / "allowed_signers";
    signatures.required = {{BroadcastTarget::kUsers, 2}, {BroadcastTarget::kChatrooms, 1}};
    config_.signatures = signatures;
    auto store = Store::Open(config_.database, Store::Mode::kReadWrite);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    store_.emplace(std::move(*store));
    ingester_.emplace(config_, *store_);
  }

  // Sets `path`'s mtime an hour before now_: settled at its second look.
  void Age(const fs::path& p) {
    ::chmod(p.c_str(), 0644);
    const int64_t ms = ToMillis(now_ - 1h);
    struct timespec times[2] = {{0, UTIME_OMIT}, {ms / 1000, (ms % 1000) * 1000000}};
    EXPECT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, 0), 0);
  }
  void Write(const std::string& name, std::string_view content) {
    Age(dir_.Write("campaigns/" + name, content));
  }
  void Sign(const std::string& file, const std::string& who) {
    const fs::path sig = dir_ / "campaigns" / (file + "." + who + ".sig");
    SignerKeys::Write(sig, keys_->Sign(who, dir_ / "campaigns" / file));
    Age(sig);
  }

  // Scans until nothing is left unsettled (a file or signature is read at its second look).
  void ScanSettled() {
    for (int i = 0; i < 4; ++i) {
      auto r = ingester_->Scan(now_);
      ASSERT_TRUE(r.has_value()) << r.error().message;
      now_ += 1s;
      if (r->unsettled == 0) return;
    }
    FAIL() << "still unsettled after 4 scans";
  }

  std::vector<Store::SignatureHold> Holds() { return store_->SignatureHolds().value(); }

  TempDir dir_;
  std::optional<SignerKeys> keys_;
  Config config_;
  std::optional<Store> store_;
  std::optional<CampaignIngester> ingester_;
  TimePoint now_ = FromMillis(1'800'000'000'000);
};

TEST_F(SignedIngestTest, OneSignerHoldsUsersTheSecondReleasesAndARestartRunsNothing) {
  Write("a.yaml", kCampaign);
  Sign("a.yaml", "alice");
  ScanSettled();
  std::vector<Store::SignatureHold> holds = Holds();
  ASSERT_EQ(holds.size(), 1u);
  EXPECT_EQ(holds[0].campaign_id, "later");
  EXPECT_EQ(holds[0].reason, "unsigned: users needs 2 signers, has 1 (alice@example.com)");
  EXPECT_EQ(holds[0].queued, 2);
  EXPECT_EQ(store_->SignatureHeldJobs().value().size(), 2u);

  Sign("a.yaml", "bob");
  ScanSettled();
  EXPECT_TRUE(Holds().empty());
  EXPECT_TRUE(store_->SignatureHeldJobs().value().empty());
  EXPECT_EQ(store_->SignaturesOf("later").value()->signers, "alice@example.com, bob@example.com");
  EXPECT_EQ(ingester_->signature_runs(), 2u);

  // A rescan and a restart: the verdicts are kept, ssh-keygen is not run again.
  ScanSettled();
  EXPECT_EQ(ingester_->signature_runs(), 2u);
  ingester_.emplace(config_, *store_);
  ScanSettled();
  EXPECT_EQ(ingester_->signature_runs(), 0u);
  EXPECT_TRUE(Holds().empty());
}

TEST_F(SignedIngestTest, AnEditVoidsTheSignaturesOfTheOldBytes) {
  Write("a.yaml", kCampaign);
  Sign("a.yaml", "alice");
  Sign("a.yaml", "bob");
  ScanSettled();
  EXPECT_TRUE(Holds().empty());
  Write("a.yaml", std::string(kCampaign) + "# edited\n");
  ScanSettled();
  std::vector<Store::SignatureHold> holds = Holds();
  ASSERT_EQ(holds.size(), 1u);
  EXPECT_EQ(holds[0].reason, "unsigned: users needs 2 signers, has 0");
  EXPECT_NE(holds[0].problems.find("a.yaml.alice.sig: signature of alice@example.com not valid"),
            std::string::npos)
      << holds[0].problems;
}

TEST_F(SignedIngestTest, RemovingASignatureHoldsTheQueuedJobsAndTurningItOffReleasesThem) {
  Write("a.yaml", kCampaign);
  Sign("a.yaml", "alice");
  Sign("a.yaml", "bob");
  ScanSettled();
  EXPECT_TRUE(Holds().empty());
  fs::remove(dir_ / "campaigns" / "a.yaml.bob.sig");
  ScanSettled();
  ASSERT_EQ(Holds().size(), 1u);
  // The claim of a held job is refused.
  const int64_t job = *store_->SignatureHeldJobs().value().begin();
  auto claim = store_->ClaimForSending(job, Instant(now_));
  ASSERT_FALSE(claim.has_value());
  EXPECT_TRUE(claim.error().Is(ErrorKind::kConflict));
  EXPECT_NE(claim.error().message.find("unsigned: users needs 2 signers"), std::string::npos);
  // Signatures off (a reload): nothing waits for them.
  config_.signatures.reset();
  ingester_->SetConfig(config_);
  ScanSettled();
  EXPECT_TRUE(Holds().empty());
}

}  // namespace
}  // namespace broadcastd
