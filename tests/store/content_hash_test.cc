#include "store/content_hash.h"

#include <gtest/gtest.h>

namespace broadcastd {
namespace {

TEST(ContentHash, MatchesPublishedSha256Vectors) {
  EXPECT_EQ(ContentHash(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ContentHash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ContentHash, ChangesWithOneByte) { EXPECT_NE(ContentHash("id: a\n"), ContentHash("id: b\n")); }

}  // namespace
}  // namespace broadcastd
