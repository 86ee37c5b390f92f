// When an event's personal data may be purged, by hand and automatically (server/domain/retention.h).
#include "server/domain/retention.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace turnout::domain {
namespace {

using ::testing::HasSubstr;

const absl::Time kEnd = absl::FromUnixSeconds(1444950000);  // 2015-10-15 23:00 UTC

TEST(MayPurgeTest, AtOrAfterTheEndItMay) {
  EXPECT_TRUE(MayPurge(kEnd, kEnd, false).ok());
  EXPECT_TRUE(MayPurge(kEnd, kEnd + absl::Seconds(1), false).ok());
}

TEST(MayPurgeTest, BeforeTheEndItIsRefusedSayingWhenAndHow) {
  const absl::Status status = MayPurge(kEnd, kEnd - absl::Minutes(90), false);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("2015-10-15 23:00:00 UTC"));
  EXPECT_THAT(status.message(), HasSubstr("1h30m"));
  EXPECT_THAT(status.message(), HasSubstr("force"));
}

TEST(MayPurgeTest, FarFromTheEndItCountsDays) {
  EXPECT_THAT(MayPurge(kEnd, kEnd - absl::Hours(24 * 40 + 5), false).message(),
              HasSubstr("in 40 days"));
}

TEST(MayPurgeTest, ForcedItMayAnyTime) {
  EXPECT_TRUE(MayPurge(kEnd, kEnd - absl::Hours(24 * 3), true).ok());
}

TEST(RetentionTest, DueOnceTheRetentionAfterTheEndHasPassed) {
  const absl::Duration days30 = absl::Hours(24 * 30);
  EXPECT_FALSE(RetentionExpired(kEnd, kEnd, days30));
  EXPECT_FALSE(RetentionExpired(kEnd, kEnd + days30 - absl::Seconds(1), days30));
  EXPECT_TRUE(RetentionExpired(kEnd, kEnd + days30, days30));
  EXPECT_TRUE(RetentionExpired(kEnd, kEnd + days30 * 10, days30));
}

TEST(RetentionTest, ZeroRetentionNeverPurges) {
  EXPECT_FALSE(RetentionExpired(kEnd, kEnd + absl::Hours(24 * 3650), absl::ZeroDuration()));
  EXPECT_FALSE(RetentionExpired(kEnd, kEnd + absl::Hours(24 * 3650), -absl::Hours(1)));
}

TEST(RetentionTest, TheCutoffIsTheLatestEndDue) {
  const absl::Duration days30 = absl::Hours(24 * 30);
  const absl::Time now = kEnd + days30 + absl::Hours(5);
  const absl::Time cutoff = RetentionCutoff(now, days30);
  EXPECT_TRUE(RetentionExpired(cutoff, now, days30));
  EXPECT_FALSE(RetentionExpired(cutoff + absl::Seconds(1), now, days30));
}

}  // namespace
}  // namespace turnout::domain
