// The live-attendance fan-out on its own: a fake count reader and recording subscribers, the
// publisher driven by hand (PublishNow) and a fake clock, so no test sleeps.
#include "server/live/attendance_hub.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/util/fake_clock.h"

namespace turnout::live {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class Recorder final : public Subscriber {
 public:
  void Offer(SharedUpdate update) override { updates.push_back(std::move(update)); }
  std::vector<SharedUpdate> updates;
};

class HubTest : public ::testing::Test {
 protected:
  HubTest() { hub_ = NewHub(/*run_publisher=*/false); }

  // Tests publish by hand (PublishNow, or PublishDue for the coalescing rule); with the publisher
  // thread and the default gap of an hour, only a change to an idle feed publishes.
  std::unique_ptr<AttendanceHub> NewHub(bool run_publisher,
                                        absl::Duration min_gap = absl::Hours(1)) {
    HubOptions options;
    options.min_gap = min_gap;
    options.heartbeat = absl::Seconds(15);
    options.clock = &clock_;
    options.run_publisher = run_publisher;
    return std::make_unique<AttendanceHub>(
        [this](int64_t event_id) -> absl::StatusOr<v1::Attendance> {
          ++reads_[event_id];
          clock_.Advance(read_takes_);
          if (fail_reads_) return absl::UnavailableError("database away");
          v1::Attendance a;
          a.set_event(absl::StrCat("events/", event_id));
          v1::CheckpointAttendance* c = a.add_checkpoints();
          c->set_checked_in(checked_in_[event_id]);
          c->set_title(title_);
          return a;
        },
        [this](const std::vector<int64_t>& ids) { notified_.push_back(ids); }, options);
  }

  static int64_t CheckedIn(const SharedUpdate& u) {
    return u->message().attendance().checkpoints(0).checked_in();
  }

  util::FakeClock clock_{absl::FromUnixSeconds(1700000000)};
  std::map<int64_t, int64_t> checked_in_;
  std::map<int64_t, int> reads_;
  bool fail_reads_ = false;
  absl::Duration read_takes_;  // the fake clock advances this much per read
  std::string title_ = "Entrance";
  std::vector<std::vector<int64_t>> notified_;
  std::unique_ptr<AttendanceHub> hub_;
};

TEST_F(HubTest, AStreamStartsWithASnapshotThenGetsNumberedUpdates) {
  Recorder r;
  hub_->Subscribe(1, &r);
  EXPECT_THAT(r.updates, IsEmpty()) << "nothing read yet";
  hub_->PublishNow();
  ASSERT_EQ(r.updates.size(), 1u);
  EXPECT_TRUE(r.updates[0]->message().snapshot());
  EXPECT_EQ(r.updates[0]->message().sequence(), 1);

  checked_in_[1] = 7;
  hub_->MarkChanged(1);
  hub_->PublishNow();
  ASSERT_EQ(r.updates.size(), 2u);
  EXPECT_FALSE(r.updates[1]->message().snapshot());
  EXPECT_EQ(r.updates[1]->message().sequence(), 2);
  EXPECT_EQ(CheckedIn(r.updates[1]), 7);

  // A later subscriber starts from a snapshot of the latest counts, without a new read.
  Recorder late;
  hub_->Subscribe(1, &late);
  ASSERT_EQ(late.updates.size(), 1u);
  EXPECT_TRUE(late.updates[0]->message().snapshot());
  EXPECT_EQ(late.updates[0]->message().sequence(), 2);
  EXPECT_EQ(CheckedIn(late.updates[0]), 7);
  EXPECT_EQ(reads_[1], 2);
}

TEST_F(HubTest, ManyChangesBetweenTicksCostOneReadAndOneSharedUpdate) {
  Recorder a, b;
  hub_->Subscribe(1, &a);
  hub_->Subscribe(1, &b);
  hub_->PublishNow();
  for (int i = 0; i < 500; ++i) {
    checked_in_[1] = i;
    hub_->MarkChanged(1);
  }
  hub_->PublishNow();
  EXPECT_EQ(reads_[1], 2);
  ASSERT_EQ(a.updates.size(), 2u);
  EXPECT_EQ(CheckedIn(a.updates[1]), 499);
  EXPECT_EQ(a.updates[1].get(), b.updates[1].get()) << "one message, shared";
  EXPECT_THAT(notified_, ElementsAre(ElementsAre(1))) << "one notification for 500 changes";
}

// WatchAttendance streams write update->wire(): gRPC copies a ByteBuffer by taking references to
// its slices, so every stream sends the bytes serialized here once, whatever the subscriber count.
TEST_F(HubTest, AnUpdateIsSerializedOnceAndEveryStreamsCopySharesItsBytes) {
  Recorder a, b;
  // As large as a real program's counts: gRPC copies a message of up to 23 bytes inline instead.
  checked_in_[1] = 42;
  title_ = std::string(200, 'x');
  hub_->Subscribe(1, &a);
  hub_->Subscribe(1, &b);
  hub_->PublishNow();
  ASSERT_EQ(a.updates.size(), 1u);
  const Update& update = *a.updates[0];
  ASSERT_EQ(&update, b.updates[0].get());
  ASSERT_GT(update.wire().Length(), 200u);

  grpc::ByteBuffer first(update.wire());   // what one stream hands gRPC
  grpc::ByteBuffer second(update.wire());  // and another
  grpc::Slice original, s1, s2;
  ASSERT_TRUE(update.wire().TrySingleSlice(&original).ok());
  ASSERT_TRUE(first.TrySingleSlice(&s1).ok());
  ASSERT_TRUE(second.TrySingleSlice(&s2).ok());
  EXPECT_EQ(s1.begin(), original.begin()) << "a stream's copy refers to the same bytes";
  EXPECT_EQ(s2.begin(), original.begin());

  EXPECT_EQ(std::string(reinterpret_cast<const char*>(original.begin()), original.size()),
            update.message().SerializeAsString())
      << "the bytes are the message";
  v1::AttendanceUpdate parsed;
  ASSERT_TRUE(parsed.ParseFromArray(original.begin(), static_cast<int>(original.size())));
  EXPECT_TRUE(parsed.snapshot());
  EXPECT_EQ(parsed.attendance().checkpoints(0).checked_in(), 42);
}

TEST_F(HubTest, NothingChangedMeansNoReadUntilTheHeartbeat) {
  Recorder r;
  hub_->Subscribe(1, &r);
  hub_->PublishNow();
  clock_.Advance(absl::Seconds(14));
  hub_->PublishNow();
  EXPECT_EQ(r.updates.size(), 1u);
  clock_.Advance(absl::Seconds(1));
  hub_->PublishNow();
  ASSERT_EQ(r.updates.size(), 2u);
  EXPECT_TRUE(r.updates[1]->message().heartbeat());
  EXPECT_EQ(r.updates[1]->message().sequence(), 1) << "the same counts, the same sequence";
  EXPECT_EQ(reads_[1], 1) << "a heartbeat reads nothing";
}

// The gap is an hour here: only the wake-up for an idle feed can publish.
TEST_F(HubTest, AChangeToAnIdleEventIsPublishedAtOnceByThePublisherThread) {
  class Waiting final : public Subscriber {
   public:
    void Offer(SharedUpdate update) override {
      absl::MutexLock lock(&mu);
      updates.push_back(std::move(update));
    }
    bool AwaitCount(size_t n) {
      absl::MutexLock lock(&mu);
      auto reached = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu) { return updates.size() >= n; };
      return mu.AwaitWithTimeout(absl::Condition(&reached), absl::Seconds(10));
    }
    absl::Mutex mu;
    std::vector<SharedUpdate> updates ABSL_GUARDED_BY(mu);
  } w;
  hub_ = NewHub(/*run_publisher=*/true);
  hub_->Subscribe(1, &w);
  ASSERT_TRUE(w.AwaitCount(1)) << "a new stream's snapshot is read at once";
  // Publishes nothing (nothing changed) and returns once the publisher's round has ended (one
  // round at a time): the clock must not jump while that round measures its fan-out.
  hub_->PublishNow();
  // Idle for longer than an interval (the publisher reads the clock under the hub lock, which
  // MarkChanged takes after this write).
  clock_.Advance(absl::Hours(2));
  hub_->MarkChanged(1);
  EXPECT_TRUE(w.AwaitCount(2));
  hub_->Unsubscribe(1, &w);
}

// The coalescing rule, driven by a fake clock: PublishDue is what the publisher thread runs when
// it wakes.
TEST_F(HubTest, TheRuleIsTheGapAfterTheLastUpdateOrTheHeartbeat) {
  HubOptions options;
  options.min_gap = absl::Milliseconds(25);
  options.heartbeat = absl::Seconds(15);
  options.busy_share = 0.5;
  const absl::Time last = absl::FromUnixSeconds(1700000000);
  const absl::Duration gap = absl::Milliseconds(25);
  EXPECT_EQ(PublishAt(/*dirty=*/true, last, gap, options), last + gap);
  EXPECT_EQ(PublishAt(/*dirty=*/false, last, gap, options), last + absl::Seconds(15));
  EXPECT_EQ(PublishAt(/*dirty=*/true, absl::InfinitePast(), gap, options), absl::InfinitePast())
      << "never published: at once";
  EXPECT_EQ(GapAfter(absl::Milliseconds(5), options), absl::Milliseconds(25)) << "the least gap";
  EXPECT_EQ(GapAfter(absl::Milliseconds(40), options), absl::Milliseconds(80))
      << "a loaded publisher works half the time at most";
}

// A read and fan-out that took 40 ms (a loaded machine) hold the next update back 80 ms after the
// read began, not 25.
TEST_F(HubTest, ASlowFanOutLengthensTheGap) {
  Recorder r;
  hub_ = NewHub(/*run_publisher=*/false, absl::Milliseconds(25));
  read_takes_ = absl::Milliseconds(40);
  hub_->Subscribe(1, &r);
  const absl::Time started = clock_.Now();
  hub_->PublishDue();
  ASSERT_EQ(r.updates.size(), 1u);
  checked_in_[1] = 1;
  hub_->MarkChanged(1);
  hub_->PublishDue();  // notifies the other replicas; the update is held back
  EXPECT_EQ(r.updates.size(), 1u);
  // The gap runs from the end of the read (when the update's counts were taken).
  EXPECT_EQ(hub_->NextWake(), started + absl::Milliseconds(40) + absl::Milliseconds(80));
  clock_.Set(started + absl::Milliseconds(100));
  hub_->PublishDue();
  EXPECT_EQ(r.updates.size(), 1u);
  clock_.Set(started + absl::Milliseconds(120));
  hub_->PublishDue();
  ASSERT_EQ(r.updates.size(), 2u);
  EXPECT_EQ(CheckedIn(r.updates[1]), 1);
}

TEST_F(HubTest, AChangeAfterAQuietGapIsPublishedAtOnce) {
  Recorder r;
  hub_ = NewHub(/*run_publisher=*/false, absl::Milliseconds(25));
  hub_->Subscribe(1, &r);
  hub_->PublishDue();
  ASSERT_EQ(r.updates.size(), 1u) << "a new stream's snapshot is due at once";
  clock_.Advance(absl::Milliseconds(25));
  checked_in_[1] = 1;
  hub_->MarkChanged(1);
  EXPECT_LE(hub_->NextWake(), clock_.Now()) << "due now";
  hub_->PublishDue();
  ASSERT_EQ(r.updates.size(), 2u) << "no waiting on a quiet feed";
  EXPECT_EQ(CheckedIn(r.updates[1]), 1);
}

TEST_F(HubTest, AChangeSoonAfterAnUpdateWaitsForTheGapAndCarriesTheNewestCounts) {
  Recorder r;
  hub_ = NewHub(/*run_publisher=*/false, absl::Milliseconds(25));
  hub_->Subscribe(1, &r);
  hub_->PublishDue();
  const absl::Time first = clock_.Now();
  clock_.Advance(absl::Milliseconds(5));
  checked_in_[1] = 1;
  hub_->MarkChanged(1);
  hub_->PublishDue();
  EXPECT_EQ(r.updates.size(), 1u) << "5 ms after the last update: held back";
  EXPECT_EQ(hub_->NextWake(), first + absl::Milliseconds(25));
  clock_.Advance(absl::Milliseconds(10));
  checked_in_[1] = 2;
  hub_->MarkChanged(1);
  clock_.Set(first + absl::Milliseconds(25));
  hub_->PublishDue();
  ASSERT_EQ(r.updates.size(), 2u);
  EXPECT_EQ(CheckedIn(r.updates[1]), 2) << "both changes in one update";
  EXPECT_EQ(r.updates[1]->message().sequence(), 2);
  EXPECT_EQ(reads_[1], 2);
}

// 200 changes a second for 2 s, the publisher waking whenever it is due: every change reaches
// the subscriber within the gap, with one read per gap at most.
TEST_F(HubTest, UnderContinuousChangesEachChangeWaitsAtMostTheGap) {
  const absl::Duration gap = absl::Milliseconds(25);
  Recorder r;
  hub_ = NewHub(/*run_publisher=*/false, gap);
  hub_->Subscribe(1, &r);
  hub_->PublishDue();
  const absl::Time start = clock_.Now();
  std::vector<absl::Time> changed_at;  // change k made the count k + 1
  absl::Duration worst;
  size_t seen = 0;
  for (absl::Time t = start; t < start + absl::Seconds(2); t += absl::Milliseconds(1)) {
    clock_.Set(t);
    if ((t - start) % absl::Milliseconds(5) == absl::ZeroDuration()) {
      checked_in_[1] = static_cast<int64_t>(changed_at.size()) + 1;
      changed_at.push_back(t);
      hub_->MarkChanged(1);
    }
    if (hub_->NextWake() <= clock_.Now()) hub_->PublishDue();
    for (; seen < r.updates.size(); ++seen) {
      for (int64_t k = 0; k < CheckedIn(r.updates[seen]); ++k) {
        if (changed_at[k] != absl::InfiniteFuture()) {
          worst = std::max(worst, clock_.Now() - changed_at[k]);
          changed_at[k] = absl::InfiniteFuture();  // seen
        }
      }
    }
  }
  EXPECT_LE(worst, gap);
  EXPECT_GE(worst, gap - absl::Milliseconds(5)) << "and the changes are coalesced";
  EXPECT_LE(reads_[1], 1 + 2 * 1000 / 25 + 1) << "at most one read per gap";
  EXPECT_GE(reads_[1], 2 * 1000 / 25 - 1);
}

TEST_F(HubTest, NotificationsGoAtMostOncePerGap) {
  hub_ = NewHub(/*run_publisher=*/false, absl::Milliseconds(25));
  hub_->MarkChanged(5);
  hub_->PublishDue();
  EXPECT_THAT(notified_, ElementsAre(ElementsAre(5))) << "the first at once";
  clock_.Advance(absl::Milliseconds(10));
  hub_->MarkChanged(5);
  hub_->MarkChanged(6);
  hub_->PublishDue();
  EXPECT_EQ(notified_.size(), 1u);
  clock_.Advance(absl::Milliseconds(15));
  hub_->PublishDue();
  ASSERT_EQ(notified_.size(), 2u);
  EXPECT_THAT(notified_[1], ::testing::UnorderedElementsAre(5, 6));
}

// A real clock and a real publisher thread: a change inside the gap is published when the gap
// ends, with no further change to wake the publisher.
TEST_F(HubTest, ThePublisherThreadWakesWhenAHeldBackChangeIsDue) {
  class Waiting final : public Subscriber {
   public:
    void Offer(SharedUpdate update) override {
      absl::MutexLock lock(&mu);
      updates.push_back(std::move(update));
    }
    bool AwaitCount(size_t n) {
      absl::MutexLock lock(&mu);
      auto reached = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu) { return updates.size() >= n; };
      return mu.AwaitWithTimeout(absl::Condition(&reached), absl::Seconds(10));
    }
    absl::Mutex mu;
    std::vector<SharedUpdate> updates ABSL_GUARDED_BY(mu);
  } w;
  HubOptions options;
  options.min_gap = absl::Milliseconds(200);
  options.heartbeat = absl::Hours(1);
  std::atomic<int64_t> count{0};
  AttendanceHub hub(
      [&count](int64_t) -> absl::StatusOr<v1::Attendance> {
        v1::Attendance a;
        a.add_checkpoints()->set_checked_in(count.load());
        return a;
      },
      nullptr, options);
  hub.Subscribe(1, &w);
  ASSERT_TRUE(w.AwaitCount(1));
  count = 1;
  hub.MarkChanged(1);  // within 200 ms of the snapshot, almost surely: held back, then published
  ASSERT_TRUE(w.AwaitCount(2));
  {
    absl::MutexLock lock(&w.mu);
    EXPECT_EQ(CheckedIn(w.updates[1]), 1);
  }
  hub.Unsubscribe(1, &w);
}

TEST_F(HubTest, AnUnsubscribedStreamIsOfferedNothingMore) {
  Recorder r;
  hub_->Subscribe(1, &r);
  hub_->PublishNow();
  hub_->Unsubscribe(1, &r);
  hub_->MarkChanged(1);
  hub_->PublishNow();
  EXPECT_EQ(r.updates.size(), 1u);
  EXPECT_EQ(hub_->subscribers(), 0);
}

TEST_F(HubTest, EventsNobodyWatchesAreNotRead) {
  hub_->MarkChanged(5);
  hub_->PublishNow();
  EXPECT_EQ(reads_[5], 0);
  EXPECT_THAT(notified_, ElementsAre(ElementsAre(5))) << "other replicas may have watchers";
}

TEST_F(HubTest, ChangesFromOtherReplicasAreReadButNotPassedOn) {
  Recorder r;
  hub_->Subscribe(1, &r);
  hub_->PublishNow();
  notified_.clear();
  checked_in_[1] = 3;
  hub_->MarkChangedElsewhere(1);
  hub_->PublishNow();
  EXPECT_EQ(CheckedIn(r.updates.back()), 3);
  EXPECT_THAT(notified_, IsEmpty());
}

TEST_F(HubTest, AFailedReadIsRetriedOnTheNextTick) {
  Recorder r;
  fail_reads_ = true;
  hub_->Subscribe(1, &r);
  hub_->PublishNow();
  EXPECT_THAT(r.updates, IsEmpty());
  fail_reads_ = false;
  hub_->PublishNow();
  ASSERT_EQ(r.updates.size(), 1u);
  EXPECT_TRUE(r.updates[0]->message().snapshot());
}

TEST_F(HubTest, AFailedReadIsRetriedAfterTheRetryDelayNotEveryGap) {
  Recorder r;
  hub_ = NewHub(/*run_publisher=*/false, absl::Milliseconds(25));
  fail_reads_ = true;
  hub_->Subscribe(1, &r);
  hub_->PublishDue();
  EXPECT_EQ(reads_[1], 1);
  fail_reads_ = false;
  clock_.Advance(absl::Milliseconds(100));
  hub_->PublishDue();
  EXPECT_EQ(reads_[1], 1) << "the database was away 100 ms ago";
  clock_.Advance(absl::Milliseconds(150));
  hub_->PublishDue();
  EXPECT_EQ(reads_[1], 2);
  ASSERT_EQ(r.updates.size(), 1u);
  EXPECT_TRUE(r.updates[0]->message().snapshot());
}

// Scans while nobody watched left the feed dirty; a new watcher gets the last snapshot at once
// and the publisher, woken by the subscription, sends the fresh counts without waiting for a tick.
TEST_F(HubTest, ANewWatcherOfAFeedThatChangedUnwatchedGetsFreshCountsAtOnce) {
  Recorder first;
  hub_ = NewHub(/*run_publisher=*/false, absl::Milliseconds(25));
  hub_->Subscribe(1, &first);
  hub_->PublishDue();
  hub_->Unsubscribe(1, &first);
  clock_.Advance(absl::Seconds(1));
  checked_in_[1] = 9;
  hub_->MarkChanged(1);
  hub_->PublishDue();  // the notification; nobody watches here
  Recorder late;
  hub_->Subscribe(1, &late);
  EXPECT_LE(hub_->NextWake(), clock_.Now()) << "due at once";
  hub_->PublishDue();
  ASSERT_EQ(late.updates.size(), 2u);
  EXPECT_TRUE(late.updates[0]->message().snapshot());
  EXPECT_EQ(CheckedIn(late.updates[1]), 9);
}

TEST_F(HubTest, AfterLostNotificationsEveryWatchedEventIsReadAgain) {
  Recorder a, b;
  hub_->Subscribe(1, &a);
  hub_->Subscribe(2, &b);
  hub_->PublishNow();
  hub_->MarkAllChanged();
  hub_->PublishNow();
  EXPECT_EQ(reads_[1], 2);
  EXPECT_EQ(reads_[2], 2);
}

}  // namespace
}  // namespace turnout::live
