// turnout-bench watch's arithmetic: which messages count, and when a scan reaches a screen.
#include "tools/bench/watch_stats.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace turnout::bench {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

constexpr int64_t kMs = 1000000;

Received Got(int64_t received_ms, int64_t value, bool fresh = true, int64_t stamp_ms = 0) {
  Received r;
  r.received_ns = received_ms * kMs;
  r.stamp_ns = stamp_ms * kMs;
  r.value = value;
  r.fresh = fresh;
  return r;
}

TEST(WatchStatsTest, PercentilesAreNearestRank) {
  std::vector<int64_t> ns;
  for (int i = 100; i >= 1; --i) ns.push_back(i * kMs);
  const LatencySummary s = SummarizeLatencies(ns);
  EXPECT_EQ(s.count, 100);
  EXPECT_DOUBLE_EQ(s.p50_ms, 50);
  EXPECT_DOUBLE_EQ(s.p99_ms, 99);
  EXPECT_DOUBLE_EQ(s.max_ms, 100);
  EXPECT_EQ(SummarizeLatencies({}).count, 0);
}

TEST(WatchStatsTest, BroadcastLatencyCountsFreshMessagesMadeInTheWindow) {
  const std::vector<std::vector<Received>> streams = {
      {Got(105, 0, /*fresh=*/false, 100),  // a snapshot: not a broadcast
       Got(260, 1, true, 250), Got(530, 2, true, 500)},
      {Got(270, 1, true, 250), Got(1010, 3, true, 1000)},  // made after the window
  };
  EXPECT_THAT(BroadcastLatencies(streams, 200 * kMs, 1000 * kMs),
              UnorderedElementsAre(10 * kMs, 30 * kMs, 20 * kMs));
  EXPECT_EQ(DistinctUpdates(streams, 200 * kMs, 1000 * kMs), 2);
}

TEST(WatchStatsTest, AScanIsOnAScreenOnceItShowsThatManyMoreCheckIns) {
  // Base 10; scans start at 0, 5 and 10 ms. The screen shows 11 at 20 ms, then 13 at 260 ms (the
  // second and third scans coalesced into one update).
  const std::vector<int64_t> starts = {0, 5 * kMs, 10 * kMs};
  const std::vector<std::vector<Received>> screens = {
      {Got(1, 10, false), Got(20, 11), Got(260, 13)},
  };
  const ScreenLatencies all = ScanToScreen(starts, 10, screens, 0, INT64_MAX);
  EXPECT_THAT(all.ns, ElementsAre(20 * kMs, 255 * kMs, 250 * kMs));
  EXPECT_EQ(all.missed, 0);
  // Only scans started in the window count; a screen that never shows one misses it.
  const std::vector<std::vector<Received>> stuck = {{Got(1, 10, false), Got(20, 11)}};
  const ScreenLatencies later = ScanToScreen(starts, 10, stuck, 5 * kMs, INT64_MAX);
  EXPECT_TRUE(later.ns.empty());
  EXPECT_EQ(later.missed, 2);
}

}  // namespace
}  // namespace turnout::bench
