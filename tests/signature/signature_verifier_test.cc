#include "signature/signature_verifier.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "signature/child_process.h"
#include "signer_keys.h"

namespace broadcastd {
namespace {

using test_keys::SignerKeys;
namespace fs = std::filesystem;

class SignatureVerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sigverify-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    keys_ = std::make_unique<SignerKeys>(dir_);
    keys_->Make("alice");
    keys_->Make("bob");
    keys_->Make("carol");
    config_.allowed_signers = dir_ / "allowed_signers";
    SignerKeys::Write(config_.allowed_signers, keys_->Line("alice@example.com", "alice") +
                                                   keys_->Line("bob@example.com", "bob"));
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::shared_ptr<SignatureVerifier> Verifier() {
    auto v = SignatureVerifier::Create(config_);
    EXPECT_TRUE(v.has_value()) << (v ? "" : v.error().message);
    return v ? *v : nullptr;
  }

  fs::path dir_;
  std::unique_ptr<SignerKeys> keys_;
  SignatureConfig config_;
  const std::string file_ = "id: promo\nbroadcasts: []\n";
};

TEST_F(SignatureVerifierTest, AGoodSignatureNamesItsSigner) {
  auto v = Verifier();
  SignatureCheck check = v->Verify(file_, keys_->SignBytes("alice", file_));
  EXPECT_TRUE(check.valid) << check.reason;
  EXPECT_EQ(check.principal, "alice@example.com");
}

TEST_F(SignatureVerifierTest, AKeyNotInAllowedSignersDoesNotCount) {
  SignatureCheck check = Verifier()->Verify(file_, keys_->SignBytes("carol", file_));
  EXPECT_FALSE(check.valid);
  EXPECT_NE(check.reason.find("not signed by a key in allowed_signers"), std::string::npos)
      << check.reason;
}

TEST_F(SignatureVerifierTest, ASignatureOfOtherBytesDoesNotCount) {
  SignatureCheck check = Verifier()->Verify(file_, keys_->SignBytes("alice", file_ + "# more\n"));
  EXPECT_FALSE(check.valid);
  EXPECT_NE(check.reason.find("alice@example.com"), std::string::npos) << check.reason;
}

TEST_F(SignatureVerifierTest, ASignatureInAnotherNamespaceDoesNotCount) {
  SignatureCheck check = Verifier()->Verify(file_, keys_->SignBytes("alice", file_, "git"));
  EXPECT_FALSE(check.valid);
}

TEST_F(SignatureVerifierTest, AnExpiredKeyDoesNotCount) {
  SignerKeys::Write(config_.allowed_signers,
                    keys_->Line("alice@example.com", "alice", "valid-before=\"20200101\""));
  SignatureCheck check = Verifier()->Verify(file_, keys_->SignBytes("alice", file_));
  EXPECT_FALSE(check.valid);
}

TEST_F(SignatureVerifierTest, ARevokedKeyDoesNotCount) {
  config_.revoked = dir_ / "revoked";
  SignerKeys::Write(*config_.revoked, keys_->PublicKey("alice"));
  auto v = Verifier();
  EXPECT_FALSE(v->Verify(file_, keys_->SignBytes("alice", file_)).valid);
  EXPECT_TRUE(v->Verify(file_, keys_->SignBytes("bob", file_)).valid);
}

TEST_F(SignatureVerifierTest, AVerdictIsWorkedOutOnceAndCanBeKeptElsewhere) {
  const std::string sig = keys_->SignBytes("alice", file_);
  auto v = Verifier();
  EXPECT_TRUE(v->Verify(file_, sig).valid);
  EXPECT_TRUE(v->Verify(file_, sig).valid);
  EXPECT_EQ(v->runs(), 1u);
  auto kept = v->TakeNew();
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_TRUE(v->TakeNew().empty());
  // A new verifier on the same signers files takes the kept verdict and runs nothing.
  auto again = Verifier();
  EXPECT_EQ(again->KeyOf(file_, sig), kept[0].first);
  again->Remember(kept[0].first, *DecodeCheck(EncodeCheck(kept[0].second)));
  EXPECT_TRUE(again->Verify(file_, sig).valid);
  EXPECT_EQ(again->runs(), 0u);
  // Other signers files: another key, and ssh-keygen's own verdict.
  SignerKeys::Write(config_.allowed_signers, keys_->Line("bob@example.com", "bob"));
  auto other = Verifier();
  EXPECT_NE(other->KeyOf(file_, sig), kept[0].first);
  EXPECT_FALSE(other->Verify(file_, sig).valid);
}

TEST_F(SignatureVerifierTest, MissingSignersFileIsAnError) {
  config_.allowed_signers = dir_ / "none";
  auto v = SignatureVerifier::Create(config_);
  ASSERT_FALSE(v.has_value());
  EXPECT_NE(v.error().message.find("allowed_signers"), std::string::npos);
}

TEST_F(SignatureVerifierTest, CheckSignerFilesNamesABadLine) {
  EXPECT_TRUE(CheckSignerFiles(config_).has_value());
  SignerKeys::Write(config_.allowed_signers,
                    keys_->Line("alice@example.com", "alice") + "bob@example.com not-a-key\n");
  auto st = CheckSignerFiles(config_);
  ASSERT_FALSE(st.has_value());
  EXPECT_NE(st.error().message.find(":2:"), std::string::npos) << st.error().message;
}

TEST_F(SignatureVerifierTest, CheckSignerFilesReadsTheRevocationFile) {
  config_.revoked = dir_ / "revoked";
  SignerKeys::Write(*config_.revoked, keys_->PublicKey("alice"));
  EXPECT_TRUE(CheckSignerFiles(config_).has_value());
  SignerKeys::Write(*config_.revoked, "this is no key\n");
  auto st = CheckSignerFiles(config_);
  ASSERT_FALSE(st.has_value());
  EXPECT_NE(st.error().message.find("signatures.revoked"), std::string::npos);
}

TEST(ChildProcessTest, ATimeBoundEndsTheChild) {
  auto r = RunChild({"sleep", "10"}, "", Duration(200));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->exit_code, -1);
}

TEST(ChildProcessTest, InputReachesStdinAndOutputComesBack) {
  auto r = RunChild({"cat"}, std::string(200000, 'x'), Duration(10000));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->exit_code, 0);
  // Every byte went in (cat ended on its own); what comes back is kept up to 64 KiB.
  EXPECT_GE(r->out.size(), 65536u);
  EXPECT_LT(r->out.size(), 200000u);
}

}  // namespace
}  // namespace broadcastd
