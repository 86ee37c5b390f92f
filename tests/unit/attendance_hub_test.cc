// The live-attendance fan-out on its own: a fake count reader and recording subscribers, the
// publisher driven by hand (PublishNow) and a fake clock, so no test sleeps.
#include "server/live/attendance_hub.h"

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

  // Tests tick by hand (PublishNow); with the publisher thread, only its wake-ups publish (the
  // tick is an hour).
  std::unique_ptr<AttendanceHub> NewHub(bool run_publisher) {
    HubOptions options;
    options.interval = absl::Hours(1);
    options.heartbeat = absl::Seconds(15);
    options.clock = &clock_;
    options.run_publisher = run_publisher;
    return std::make_unique<AttendanceHub>(
        [this](int64_t event_id) -> absl::StatusOr<v1::Attendance> {
          ++reads_[event_id];
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

// The tick is an hour here: only the wake-up can publish.
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
  clock_.Advance(absl::Hours(2));  // idle for longer than an interval
  hub_->MarkChanged(1);
  EXPECT_TRUE(w.AwaitCount(2));
  hub_->Unsubscribe(1, &w);
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
