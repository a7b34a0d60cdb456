#include "signature/signature_rule.h"

#include <gtest/gtest.h>

namespace broadcastd {
namespace {

SignatureConfig TwoForUsers() {
  SignatureConfig c;
  c.required = {{BroadcastTarget::kUsers, 2}, {BroadcastTarget::kOnlineUsers, 1}};
  return c;
}

FileSignature Good(const std::string& name, const std::string& who) {
  return FileSignature{name, SignatureCheck{true, who, ""}};
}

TEST(SignatureRuleTest, TheStrictestTargetDecidesAndNamesWhoSigned) {
  auto j = JudgeSignatures({BroadcastTarget::kUsers, BroadcastTarget::kOnlineUsers}, TwoForUsers(),
                           {Good("p.yaml.sig", "alice@example.com")});
  ASSERT_TRUE(j.hold);
  EXPECT_EQ(*j.hold, "unsigned: users needs 2 signers, has 1 (alice@example.com)");
}

TEST(SignatureRuleTest, OnePersonSigningTwiceIsOneSigner) {
  auto j = JudgeSignatures(
      {BroadcastTarget::kUsers}, TwoForUsers(),
      {Good("p.yaml.sig", "alice@example.com"), Good("p.yaml.again.sig", "alice@example.com")});
  EXPECT_EQ(j.signers.size(), 1u);
  EXPECT_TRUE(j.hold);
}

TEST(SignatureRuleTest, TwoSignersReleaseAndBadOnesAreListed) {
  auto j = JudgeSignatures(
      {BroadcastTarget::kUsers}, TwoForUsers(),
      {Good("p.yaml.sig", "alice@example.com"), Good("p.yaml.bob.sig", "bob@example.com"),
       FileSignature{"p.yaml.eve.sig", SignatureCheck{false, "", "no"}}});
  EXPECT_FALSE(j.hold);
  EXPECT_EQ(j.SignersLine(), "alice@example.com, bob@example.com");
  ASSERT_EQ(j.problems.size(), 1u);
  EXPECT_EQ(j.problems[0], "p.yaml.eve.sig: no");
}

TEST(SignatureRuleTest, ATargetNotRequiredNeedsNone) {
  auto j = JudgeSignatures({BroadcastTarget::kChatrooms}, TwoForUsers(), {});
  EXPECT_FALSE(j.hold);
  auto none = JudgeSignatures({BroadcastTarget::kOnlineUsers}, TwoForUsers(), {});
  ASSERT_TRUE(none.hold);
  EXPECT_EQ(*none.hold, "unsigned: online_users needs 1 signer, has 0");
}

}  // namespace
}  // namespace broadcastd
