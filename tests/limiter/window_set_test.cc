#include "limiter/window_set.h"

#include <gtest/gtest.h>

#include <chrono>

namespace broadcastd {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const MonoTime kT0 = MonoFromMillis(1'800'000'000'000);

TEST(WindowSetTest, NothingRecordedAllowsAnyTime) {
  WindowSet windows({{1, minutes(30)}}, Duration{500});
  EXPECT_EQ(windows.EarliestStart(kT0), kT0);
}

TEST(WindowSetTest, CountWithinLengthPlusMargin) {
  WindowSet windows({{2, minutes(1)}}, Duration{500});
  windows.Record(kT0);
  EXPECT_EQ(windows.EarliestStart(kT0), kT0);  // one of two used
  windows.Record(kT0 + seconds(10));
  EXPECT_EQ(windows.EarliestStart(kT0 + seconds(10)), kT0 + minutes(1) + Duration{500});
  windows.Record(kT0 + minutes(1) + Duration{500});
  // Now the start at +10 s is the oldest of the two that matter.
  EXPECT_EQ(windows.EarliestStart(kT0), kT0 + seconds(70) + Duration{500});
}

TEST(WindowSetTest, UnusableWindowsAreIgnored) {
  WindowSet windows({{0, minutes(1)}, {3, Duration{0}}}, Duration{500});
  windows.Record(kT0);
  EXPECT_EQ(windows.EarliestStart(kT0), kT0);
  EXPECT_EQ(windows.kept(), 0u);
}

TEST(WindowSetTest, KeepsOnlyTheLargestCount) {
  WindowSet windows({{1, seconds(1)}, {10, minutes(1)}}, Duration{0});
  for (int i = 0; i < 50; ++i) windows.Record(kT0 + seconds(i * 7));
  EXPECT_EQ(windows.kept(), 10u);
}

TEST(WindowSetTest, OutOfOrderStartsAreSorted) {
  WindowSet windows({{2, minutes(1)}}, Duration{0});
  windows.Record(kT0 + seconds(20));
  windows.Record(kT0);
  EXPECT_EQ(windows.EarliestStart(kT0), kT0 + minutes(1));
}

TEST(WindowSetTest, ForgetKeepsWhatStillMatters) {
  WindowSet windows({{1, minutes(30)}}, Duration{500});
  windows.Record(kT0);
  windows.Forget(kT0 + minutes(30));  // still inside the window plus margin
  EXPECT_EQ(windows.EarliestStart(kT0 + minutes(30)), kT0 + minutes(30) + Duration{500});
  windows.Forget(kT0 + minutes(30) + Duration{500});
  EXPECT_EQ(windows.kept(), 0u);
}

}  // namespace
}  // namespace broadcastd
