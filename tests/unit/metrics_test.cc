// The Prometheus text format as written by server/util/metrics.h, and the limits' retry hints.
#include "server/util/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/api/rate_limiter.h"
#include "server/api/retry_after.h"
#include "server/api/stream_slots.h"

namespace turnout {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTest, CountersRenderPerLabelValuesInTextFormat) {
  metrics::Registry registry;
  metrics::Counter& scans = registry.AddCounter("turnout_scans_total", "Scans.", {"status"});
  metrics::Counter& plain = registry.AddCounter("turnout_plain_total", "No labels.");
  scans.Add({"ADMITTED"});
  scans.Add({"ADMITTED"}, 2);
  scans.Add({"INVALID"});
  EXPECT_EQ(scans.Value({"ADMITTED"}), 3);
  EXPECT_EQ(registry.Render(),
            "# HELP turnout_scans_total Scans.\n"
            "# TYPE turnout_scans_total counter\n"
            "turnout_scans_total{status=\"ADMITTED\"} 3\n"
            "turnout_scans_total{status=\"INVALID\"} 1\n"
            "# HELP turnout_plain_total No labels.\n"
            "# TYPE turnout_plain_total counter\n"
            "turnout_plain_total 0\n");
  plain.Add(1234567);
  EXPECT_THAT(registry.Render(), HasSubstr("turnout_plain_total 1234567\n"));
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithSumAndCount) {
  metrics::Registry registry;
  metrics::Histogram& h = registry.AddHistogram("turnout_batch", "Batch sizes.", {}, {1, 4});
  h.Observe(1);
  h.Observe(3);
  h.Observe(9);
  EXPECT_EQ(h.Count(), 3u);
  EXPECT_EQ(registry.Render(),
            "# HELP turnout_batch Batch sizes.\n"
            "# TYPE turnout_batch histogram\n"
            "turnout_batch_bucket{le=\"1\"} 1\n"
            "turnout_batch_bucket{le=\"4\"} 2\n"
            "turnout_batch_bucket{le=\"+Inf\"} 3\n"
            "turnout_batch_sum 13\n"
            "turnout_batch_count 3\n");
}

TEST(MetricsTest, HistogramWithLabelsPutsLeLast) {
  metrics::Registry registry;
  metrics::Histogram& h = registry.AddHistogram("t_seconds", "T.", {"method"}, {0.5});
  h.Observe({"Scan"}, 0.25);
  EXPECT_THAT(registry.Render(), HasSubstr("t_seconds_bucket{method=\"Scan\",le=\"0.5\"} 1\n"));
  EXPECT_THAT(registry.Render(), HasSubstr("t_seconds_sum{method=\"Scan\"} 0.25\n"));
}

TEST(MetricsTest, GaugesAreReadWhenRendered) {
  metrics::Registry registry;
  int subscribers = 2;
  registry.AddGauge("turnout_subscribers", "Now.", [&] { return subscribers; });
  EXPECT_THAT(registry.Render(), HasSubstr("turnout_subscribers 2\n"));
  subscribers = 5;
  EXPECT_THAT(registry.Render(), HasSubstr("turnout_subscribers 5\n"));
}

TEST(MetricsTest, CountersKeptElsewhereAreReadWhenRenderedAndTypedAsCounters) {
  metrics::Registry registry;
  int64_t reconnects = 2;
  registry.AddCounterReader("turnout_db_reconnects_total", "Outages ended.",
                            [&] { return static_cast<double>(reconnects); });
  reconnects = 3;
  EXPECT_EQ(registry.Render(),
            "# HELP turnout_db_reconnects_total Outages ended.\n"
            "# TYPE turnout_db_reconnects_total counter\n"
            "turnout_db_reconnects_total 3\n");
}

TEST(MetricsTest, LabelValuesAndHelpAreEscaped) {
  EXPECT_EQ(metrics::EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  metrics::Registry registry;
  registry.AddCounter("x_total", "line one\nline \\two", {"k"}).Add({"v\""});
  EXPECT_THAT(registry.Render(), HasSubstr("# HELP x_total line one\\nline \\\\two\n"));
  EXPECT_THAT(registry.Render(), HasSubstr("x_total{k=\"v\\\"\"} 1\n"));
}

TEST(RetryAfterTest, RateLimiterSaysWhenTheNextCallGoesThrough) {
  api::RateLimiter limiter(/*per_second=*/0.5, /*burst=*/2, "public_rate", "calls");
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  EXPECT_TRUE(limiter.Take("ipv4:10.0.0.1", t0).ok());
  EXPECT_TRUE(limiter.Take("ipv4:10.0.0.1", t0).ok());
  absl::Status refused = limiter.Take("ipv4:10.0.0.1", t0 + absl::Milliseconds(500));
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.message(), "too many calls from this address; retry in 2 s");
  EXPECT_EQ(api::RetryAfterOf(refused), "2");
  EXPECT_EQ(api::LimitOf(refused), "public_rate");
  EXPECT_TRUE(limiter.Take("ipv4:10.0.0.2", t0).ok()) << "another address has its own budget";
  EXPECT_TRUE(limiter.Take("ipv4:10.0.0.1", t0 + absl::Seconds(2)).ok());
}

TEST(RetryAfterTest, StreamSlotsRefuseWithAHintPerCallerAndInTotal) {
  api::StreamSlots slots(/*total=*/2, /*per_caller=*/1, "imports", "imports");
  EXPECT_TRUE(slots.Acquire(7).ok());
  absl::Status mine = slots.Acquire(7);
  EXPECT_EQ(mine.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(mine.message()), HasSubstr("this token already has 1"));
  EXPECT_EQ(api::RetryAfterOf(mine), "10");
  EXPECT_TRUE(slots.Acquire(8).ok());
  absl::Status full = slots.Acquire(9);
  EXPECT_THAT(std::string(full.message()), HasSubstr("at most 2 imports at once; retry in 10 s"));
  EXPECT_EQ(api::LimitOf(full), "imports");
  slots.Release(7);
  EXPECT_TRUE(slots.Acquire(9).ok());
  EXPECT_EQ(slots.in_use(), 2);
}

TEST(RetryAfterTest, AnOrdinaryErrorCarriesNoHint) {
  EXPECT_EQ(api::RetryAfterOf(absl::InvalidArgumentError("x")), std::nullopt);
  EXPECT_EQ(api::LimitOf(absl::InvalidArgumentError("x")), std::nullopt);
}

}  // namespace
}  // namespace turnout
