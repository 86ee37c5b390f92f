// Live attendance inside one replica: the per-event fan-out behind WatchAttendance.
//
// Writers only mark an event dirty (MarkChanged, called after a commit that changed its counts);
// they never wait for subscribers. A publisher thread reads a dirty, watched event's counts (the
// same numbers GetAttendance gives), gives them the event's next sequence number, serializes the
// update once, and offers that one shared update to every subscriber of the event (each stream
// writes the same reference-counted bytes; see Update).
//
// When (the coalescing rule, PublishAt and GapAfter): a change is published at once when the
// event's last update is older than its gap, so an idle stream hears of a scan within
// milliseconds; a change sooner than that waits for the end of the gap, and every change made
// meanwhile rides on that one read. The gap is `min_gap`, or longer when the last update's read
// and offers took long: the publisher works on one event at most `busy_share` of the time, so
// when the machine is loaded (a fan-out takes longer) updates come less often and scanning keeps
// its share. On an unloaded server a busy event gets one update per `min_gap` and a scan waits at
// most `min_gap` (plus the read and the fan-out) for its update. Beyond that, load coalesces: one
// thread reads and offers, so changes made during a fan-out wait for it and share the next read,
// and a subscriber holds at most one message in flight and one pending slot that
// newer counts overwrite, so a slow or stalled subscriber costs a constant amount of memory,
// skips to the newest counts, and never slows anyone else. The offers happen outside the lock
// writers take, so a fan-out to thousands of streams never holds up a scan. When nothing
// changed for `heartbeat`, subscribers get the latest counts again, flagged as a heartbeat.
//
// Across replicas (notifier): after its local offers, the publisher sends one notification
// naming the events that changed on this replica (at most one per `min_gap`, never one per
// scan), and a change notified by another replica marks the event dirty here.
//
//   AttendanceHub hub(read_counts, notify, options);
//   hub.Subscribe(event_id, subscriber);   // the subscriber gets a snapshot, then updates
//   hub.MarkChanged(event_id);            // after a commit
//   hub.Unsubscribe(event_id, subscriber);
#ifndef TURNOUT_SERVER_LIVE_ATTENDANCE_HUB_H_
#define TURNOUT_SERVER_LIVE_ATTENDANCE_HUB_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "grpcpp/support/byte_buffer.h"
#include "server/util/clock.h"
#include "turnout/v1/attendance_service.pb.h"

namespace turnout::live {

namespace v1 = ::turnout::v1;

// One message of a WatchAttendance stream, shared by every subscriber it goes to: the message and
// its wire form, serialized once. A grpc::ByteBuffer's slices are reference-counted, so a stream
// writing wire() hands gRPC a reference to the same bytes, never a copy or a new serialization.
class Update {
 public:
  explicit Update(v1::AttendanceUpdate message);
  Update(const Update&) = delete;
  Update& operator=(const Update&) = delete;

  const v1::AttendanceUpdate& message() const { return message_; }
  const grpc::ByteBuffer& wire() const { return wire_; }

 private:
  const v1::AttendanceUpdate message_;
  grpc::ByteBuffer wire_;
};
using SharedUpdate = std::shared_ptr<const Update>;

// Whoever receives an event's updates: in the server, one WatchAttendance stream.
class Subscriber {
 public:
  virtual ~Subscriber() = default;
  // Called with the hub's lock for the event held: must not block (keep the latest, write later).
  // The first message a subscriber is offered is a snapshot.
  virtual void Offer(SharedUpdate update) = 0;
};

struct HubOptions {
  // The least time between two updates of one event (and between two notifications): a change
  // after a quieter spell is published at once, one sooner waits for the rest of the gap.
  absl::Duration min_gap = absl::Milliseconds(25);
  // The publisher's share of the time for one busy event at most: after an update whose read and
  // offers took t, the next waits until t / busy_share after it (when that is beyond min_gap).
  double busy_share = 0.5;
  // After a failed read (the database is away), the event's next attempt this much later.
  absl::Duration retry = absl::Milliseconds(250);
  // A heartbeat at least this often when nothing changes.
  absl::Duration heartbeat = absl::Seconds(15);
  const util::Clock* clock = util::Clock::Real();
  // false (tests): no publisher thread; the test calls PublishDue or PublishNow itself.
  bool run_publisher = true;
};

// The coalescing rule: when an event's next update is due. A dirty event is due `gap` after its
// last update (at once if that is past); a clean one gets a heartbeat `heartbeat` after it.
absl::Time PublishAt(bool dirty, absl::Time last_sent, absl::Duration gap,
                     const HubOptions& options);
// The gap after an update whose read and offers took `took`: min_gap, or took / busy_share.
absl::Duration GapAfter(absl::Duration took, const HubOptions& options);

class AttendanceHub {
 public:
  // Reads an event's counts now (a database read; called on the publisher's own thread).
  using ReadCounts = std::function<absl::StatusOr<v1::Attendance>(int64_t event_id)>;
  // Tells the other replicas that these events changed; called at most once per min_gap.
  using Notify = std::function<void(const std::vector<int64_t>& event_ids)>;

  AttendanceHub(ReadCounts read, Notify notify, HubOptions options = {});
  ~AttendanceHub();  // stops the publisher
  AttendanceHub(const AttendanceHub&) = delete;
  AttendanceHub& operator=(const AttendanceHub&) = delete;

  void Subscribe(int64_t event_id, Subscriber* subscriber);
  // After this returns, `subscriber` is never offered anything again.
  void Unsubscribe(int64_t event_id, Subscriber* subscriber);

  // A commit on this replica changed the event's counts.
  void MarkChanged(int64_t event_id);
  // Another replica said so (not passed on again).
  void MarkChangedElsewhere(int64_t event_id);
  // Every event may have changed (the notifications were lost for a while): fresh snapshots.
  void MarkAllChanged();

  // What the publisher thread does when it wakes: publishes every watched event whose update is
  // due at options.now() (PublishAt), sends the heartbeats due, and notifies the other replicas
  // if the last notification is min_gap old. Public for tests driving a fake clock.
  void PublishDue();
  // Publishes every dirty, watched event and notifies, whatever the time (tests).
  void PublishNow();
  // When the publisher thread wakes next unless a change wakes it sooner.
  absl::Time NextWake() const;

  int subscribers() const;

 private:
  struct Feed {
    absl::flat_hash_set<Subscriber*> subscribers;
    absl::flat_hash_set<Subscriber*> waiting_for_snapshot;
    SharedUpdate latest;    // the last update published, or null
    SharedUpdate snapshot;  // the same counts, flagged as a snapshot
    int64_t sequence = 0;
    bool dirty = true;
    absl::Time last_sent = absl::InfinitePast();
    absl::Duration gap;  // before the next update (GapAfter the last)
  };
  // Who gets which update from one publish.
  using Deliveries = std::vector<std::pair<Subscriber*, SharedUpdate>>;
  void Run();
  void Publish(bool force);
  // Marks `feed` dirty; wakes the publisher if it was clean and is watched (it sleeps until the
  // next heartbeat otherwise, and must learn when this change is due).
  void MarkDirty(Feed& feed) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Time NextWakeLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The event's next update (and snapshot), and who gets which.
  Deliveries Publish(int64_t event_id, const v1::Attendance& counts, bool heartbeat)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Offers them, without mu_: writers (MarkChanged, on the scan path) never wait for a fan-out.
  void Deliver(Deliveries& deliveries) ABSL_EXCLUSIVE_LOCKS_REQUIRED(fanout_mu_);

  const ReadCounts read_;
  const Notify notify_;
  const HubOptions options_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<int64_t, Feed> feeds_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<int64_t> to_notify_ ABSL_GUARDED_BY(mu_);
  absl::Time last_notified_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Mutex tick_mu_;  // one tick at a time
  // Held while offering, and by Unsubscribe: once Unsubscribe returns nothing is offered to the
  // subscriber, yet MarkChanged (mu_ only) never waits for the offers. Taken before mu_.
  absl::Mutex fanout_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  std::thread thread_;
};

}  // namespace turnout::live

#endif  // TURNOUT_SERVER_LIVE_ATTENDANCE_HUB_H_
