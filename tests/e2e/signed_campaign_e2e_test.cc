// Signed campaigns and the two-person rule (issue 18, point 3): the real binary against the
// real simulator, with keys made by the real ssh-keygen. A campaign whose targets need more
// signers than its file's valid signatures name waits, shown by --status; a signature
// added releases it, removed holds it again, and an edit voids the signatures of the old
// bytes. Each test waits for the event that would happen (a request the simulator counts,
// a line of --status), never for a time.

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "core/time_format.h"
#include "e2e/folder_fixture.h"
#include "signature/signer_keys.h"

namespace broadcastd {
namespace {

using test_keys::SignerKeys;

class SignedCampaignE2ETest : public FolderE2ETest {
 protected:
  void SetUp() override {
    FolderE2ETest::SetUp();
    keys_.emplace(dir_ / "keys");
    for (const char* who : {"alice", "bob", "carol"}) keys_->Make(who);
    SignerKeys::Write(dir_ / "allowed_signers", keys_->Line("alice@example.com", "alice") +
                                                    keys_->Line("bob@example.com", "bob"));
    StartSimulator({}, "signatures:\n  allowed_signers: " + (dir_ / "allowed_signers").string() +
                           "\n  required: {users: 2, online_users: 1, chatrooms: 1}\n");
  }

  // A campaign with one broadcast to `target`, due now (or at `send_at`).
  static std::string Campaign(const std::string& id, const std::string& target,
                              const std::string& text, const std::string& send_at = "") {
    return "id: " + id + "\nbroadcasts:\n  - name: " + id + "\n    target: " + target +
           (send_at.empty() ? "" : "\n    send_at: \"" + send_at + "\"") +
           "\n    message: {type: txt, msg: \"" + text + "\"}\n";
  }

  // Signs campaigns/`file` with `who`'s key into campaigns/`file`.`label`.sig (mode 0644).
  void Sign(const std::string& file, const std::string& who, const std::string& label) {
    const std::string sig = keys_->Sign(who, Campaigns() / file);
    const auto tmp = dir_ / "sig.tmp";
    SignerKeys::Write(tmp, sig);
    std::filesystem::rename(tmp, Campaigns() / (file + "." + label + ".sig"));
  }

  // A campaign dropped in whole with its signatures: signed in a staging folder, the
  // signatures renamed in first, then the file.
  void DropSigned(const std::string& file, const std::string& content,
                  const std::vector<std::string>& signers) {
    const auto staging = dir_ / "staging";
    std::filesystem::create_directories(staging);
    SignerKeys::Write(staging / file, content);
    for (const std::string& who : signers) {
      const std::string sig = file + "." + who + ".sig";
      SignerKeys::Write(staging / sig, keys_->Sign(who, staging / file));
      std::filesystem::rename(staging / sig, Campaigns() / sig);
    }
    std::filesystem::rename(staging / file, Campaigns() / file);
  }

  // The campaign's row of --status's signature_holds; null when it is not held.
  nlohmann::json HoldOf(const std::string& id) {
    for (const auto& h : Status().value("signature_holds", nlohmann::json::array())) {
      if (h["campaign"] == id) return h;
    }
    return nullptr;
  }
  std::string HoldReason(const std::string& id) {
    const nlohmann::json h = HoldOf(id);
    return h.is_null() ? "" : h["reason"].get<std::string>();
  }

  nlohmann::json JobOf(const std::string& campaign) {
    for (const auto& job : AllJobs()) {
      if (job["campaign"] == campaign) return job;
    }
    return nlohmann::json::object();
  }

  std::string History(int64_t job) {
    return RunCommand({kBinary, "--history", std::to_string(job), "--config",
                       (dir_ / "broadcastd.yaml").string()},
                      dir_.path())
        .output;
  }

  std::optional<SignerKeys> keys_;
};

// users needs two signers: one holds it (nothing sent while a chatroom campaign that one
// signer suffices for goes out); the second signature releases it, and --history names both.
TEST_F(SignedCampaignE2ETest, UsersWaitsForASecondSignerThenGoesOutOnce) {
  dir_.Write("campaigns/all.yaml", Campaign("all", "users", "all-users-text"));
  Sign("all.yaml", "alice", "alice");
  dir_.Write("campaigns/room.yaml", Campaign("room", "chatrooms", "room-text"));
  Sign("room.yaml", "alice", "alice");
  // --check FILE says who signed and what is missing.
  auto check = RunCommand({kBinary, "--check", "--config", (dir_ / "broadcastd.yaml").string(),
                           (Campaigns() / "all.yaml").string()},
                          dir_.path());
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_NE(check.output.find("all.yaml: signed by alice@example.com"), std::string::npos)
      << check.output;
  EXPECT_NE(check.output.find(
                "its jobs would wait: unsigned: users needs 2 signers, has 1 (alice@example.com)"),
            std::string::npos)
      << check.output;
  auto daemon = StartDaemon();
  WaitReady();
  ASSERT_TRUE(WaitFor([&] { return Posted("room-text") == 1; }, 30s)) << Log();
  EXPECT_EQ(HoldReason("all"), "unsigned: users needs 2 signers, has 1 (alice@example.com)");
  EXPECT_EQ(Posted("all-users-text"), 0u);
  EXPECT_TRUE(LogHas("campaign.unsigned file=all.yaml"));
  // The page and the text report show it too.
  auto text = RunCommand({kBinary, "--status", "--config", (dir_ / "broadcastd.yaml").string()},
                         dir_.path());
  EXPECT_NE(text.output.find("WAITING FOR SIGNATURES"), std::string::npos) << text.output;

  Sign("all.yaml", "bob", "bob");
  ASSERT_TRUE(WaitFor([&] { return Posted("all-users-text") == 1; }, 30s)) << Log();
  EXPECT_TRUE(HoldOf("all").is_null());
  const nlohmann::json job = JobOf("all");
  ASSERT_FALSE(job.empty());
  const std::string history = History(job["id"].get<int64_t>());
  EXPECT_NE(history.find("signed by alice@example.com, bob@example.com"), std::string::npos)
      << history;
  EXPECT_NE(history.find("carried the version signed by alice@example.com, bob@example.com"),
            std::string::npos)
      << history;
  StopDaemon(*daemon);
  EXPECT_EQ(Posted("all-users-text"), 1u);
}

// A key not in allowed_signers, a signature of other bytes, one in another namespace: none
// counts, each is named.
TEST_F(SignedCampaignE2ETest, SignaturesThatDoNotCountAreNamed) {
  dir_.Write("campaigns/promo.yaml", Campaign("promo", "online_users", "promo-text"));
  Sign("promo.yaml", "carol", "carol");
  {
    const std::string other = keys_->SignBytes("alice", "id: other\n");
    SignerKeys::Write(Campaigns() / "promo.yaml.other.sig", other);
    const std::string git = keys_->Sign("bob", Campaigns() / "promo.yaml", "git");
    SignerKeys::Write(Campaigns() / "promo.yaml.git.sig", git);
  }
  dir_.Write("campaigns/room.yaml", Campaign("room", "chatrooms", "room-text"));
  Sign("room.yaml", "bob", "bob");
  auto daemon = StartDaemon();
  WaitReady();
  ASSERT_TRUE(WaitFor([&] { return Posted("room-text") == 1; }, 30s)) << Log();
  const nlohmann::json hold = HoldOf("promo");
  ASSERT_FALSE(hold.is_null()) << Status().dump(1);
  EXPECT_EQ(hold["reason"], "unsigned: online_users needs 1 signer, has 0");
  const std::string problems = hold["problems"].get<std::string>();
  EXPECT_NE(problems.find("promo.yaml.carol.sig: not signed by a key in allowed_signers"),
            std::string::npos)
      << problems;
  EXPECT_NE(problems.find("promo.yaml.other.sig: signature of alice@example.com not valid"),
            std::string::npos)
      << problems;
  EXPECT_NE(problems.find("promo.yaml.git.sig: signature of bob@example.com not valid"),
            std::string::npos)
      << problems;
  EXPECT_EQ(Posted("promo-text"), 0u);
  StopDaemon(*daemon);
}

// An edit voids the signatures of the old bytes: held until signed again.
TEST_F(SignedCampaignE2ETest, AnEditAfterSigningIsHeldUntilSignedAgain) {
  const std::string later =
      FormatRfc3339(std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now()) + 1h);
  dir_.Write("campaigns/promo.yaml", Campaign("promo", "chatrooms", "v1-text", later));
  Sign("promo.yaml", "alice", "alice");
  auto daemon = StartDaemon();
  WaitReady();
  ASSERT_TRUE(WaitFor([&] { return !JobOf("promo").empty(); }, 30s)) << Log();
  EXPECT_TRUE(HoldOf("promo").is_null());
  dir_.Write("campaigns/promo.yaml", Campaign("promo", "chatrooms", "v2-text", later));
  ASSERT_TRUE(WaitFor([&] { return !HoldOf("promo").is_null(); }, 30s)) << Log();
  EXPECT_EQ(HoldReason("promo"), "unsigned: chatrooms needs 1 signer, has 0");
  Sign("promo.yaml", "alice", "alice");
  ASSERT_TRUE(WaitFor([&] { return HoldOf("promo").is_null(); }, 30s)) << Log();
  StopDaemon(*daemon);
}

// A signature removed after the jobs were queued holds them: nothing of that campaign is
// sent once its endpoint runs again, while a fully signed campaign queued after it is.
TEST_F(SignedCampaignE2ETest, ASignatureRemovedAfterQueueingHoldsTheJobs) {
  const std::string config = (dir_ / "broadcastd.yaml").string();
  auto daemon = StartDaemon();
  WaitReady();
  auto paused = RunCommand(
      {kBinary, "--pause", "main/users", "--reason", "signing", "--config", config}, dir_.path());
  ASSERT_EQ(paused.exit_code, 0) << paused.output;
  DropSigned("first.yaml", Campaign("first", "users", "first-text"), {"alice", "bob"});
  ASSERT_TRUE(WaitFor([&] { return JobOf("first").value("state", "") == "ready"; }, 30s)) << Log();
  EXPECT_TRUE(HoldOf("first").is_null());
  std::filesystem::remove(Campaigns() / "first.yaml.bob.sig");
  ASSERT_TRUE(WaitFor([&] { return !HoldOf("first").is_null(); }, 30s)) << Log();
  EXPECT_EQ(HoldReason("first"), "unsigned: users needs 2 signers, has 1 (alice@example.com)");
  // A second campaign, signed by both, due after the first.
  DropSigned("second.yaml", Campaign("second", "users", "second-text"), {"alice", "bob"});
  ASSERT_TRUE(WaitFor(
      [&] { return JobOf("second").value("state", "") == "ready" && HoldOf("second").is_null(); },
      30s))
      << Log();
  auto resumed = RunCommand({kBinary, "--resume", "main/users", "--config", config}, dir_.path());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  ASSERT_TRUE(WaitFor([&] { return Posted("second-text") == 1; }, 30s)) << Log();
  EXPECT_EQ(Posted("first-text"), 0u);
  EXPECT_EQ(JobOf("first").value("state", ""), "ready");
  StopDaemon(*daemon);
}

// --check-config reads the signers file with ssh-keygen and names a line it cannot parse.
TEST_F(SignedCampaignE2ETest, CheckConfigNamesABadSignersLine) {
  const std::string config = (dir_ / "broadcastd.yaml").string();
  auto ok = RunCommand({kBinary, "--check-config", "--config", config}, dir_.path());
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("signatures: ok"), std::string::npos) << ok.output;
  SignerKeys::Write(dir_ / "allowed_signers",
                    keys_->Line("alice@example.com", "alice") + "bob@example.com garbage\n");
  auto bad = RunCommand({kBinary, "--check-config", "--config", config}, dir_.path());
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("allowed_signers:2:"), std::string::npos) << bad.output;
}

}  // namespace
}  // namespace broadcastd
