#include "server/live/attendance_hub.h"

#include <algorithm>
#include <utility>

#include "grpcpp/impl/codegen/proto_utils.h"

namespace turnout::live {

Update::Update(v1::AttendanceUpdate message) : message_(std::move(message)) {
  bool own_buffer = false;
  // Serializing a message of a few hundred bytes into memory cannot fail.
  (void)grpc::SerializationTraits<v1::AttendanceUpdate>::Serialize(message_, &wire_, &own_buffer);
}

AttendanceHub::AttendanceHub(ReadCounts read, Notify notify, HubOptions options)
    : read_(std::move(read)), notify_(std::move(notify)), options_(std::move(options)) {
  if (options_.run_publisher) thread_ = std::thread([this] { Run(); });
}

AttendanceHub::~AttendanceHub() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    wake_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

absl::Time PublishAt(bool dirty, absl::Time last_sent, absl::Duration gap,
                     const HubOptions& options) {
  return last_sent + (dirty ? gap : options.heartbeat);
}

absl::Duration GapAfter(absl::Duration took, const HubOptions& options) {
  return std::max(options.min_gap, took / std::clamp(options.busy_share, 0.01, 1.0));
}

void AttendanceHub::Run() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      const absl::Duration wait = NextWakeLocked() - options_.clock->Now();
      // Not past the heartbeat: the clock of tests may stand still or jump.
      mu_.AwaitWithTimeout(absl::Condition(&wake_), std::min(wait, options_.heartbeat));
      wake_ = false;
      if (stopping_) return;
    }
    PublishDue();
  }
}

absl::Time AttendanceHub::NextWake() const {
  absl::MutexLock lock(&mu_);
  return NextWakeLocked();
}

absl::Time AttendanceHub::NextWakeLocked() const {
  absl::Time next = absl::InfiniteFuture();
  if (!to_notify_.empty()) next = last_notified_ + options_.min_gap;
  for (const auto& [event_id, feed] : feeds_) {
    if (feed.subscribers.empty()) continue;
    // A feed with no update yet (a failed read) is dirty: retried a gap after the attempt.
    next = std::min(next, PublishAt(feed.dirty, feed.last_sent, feed.gap, options_));
  }
  return next;
}

void AttendanceHub::MarkDirty(Feed& feed) {
  if (!feed.dirty && !feed.subscribers.empty()) wake_ = true;
  feed.dirty = true;
}

void AttendanceHub::Subscribe(int64_t event_id, Subscriber* subscriber) {
  absl::MutexLock lock(&mu_);
  Feed& feed = feeds_[event_id];
  feed.subscribers.insert(subscriber);
  // The publisher may sleep until a heartbeat: it must learn that this feed is watched (and, if
  // it changed while nobody watched, due).
  wake_ = true;
  if (feed.snapshot != nullptr) {
    subscriber->Offer(feed.snapshot);
  } else {
    feed.waiting_for_snapshot.insert(subscriber);
    feed.dirty = true;
    // A new stream waits for its first counts: read at once, whatever the gap.
    feed.last_sent = absl::InfinitePast();
  }
}

void AttendanceHub::Unsubscribe(int64_t event_id, Subscriber* subscriber) {
  absl::MutexLock fan(&fanout_mu_);  // a fan-out in progress may still offer to it
  absl::MutexLock lock(&mu_);
  auto it = feeds_.find(event_id);
  if (it == feeds_.end()) return;
  it->second.subscribers.erase(subscriber);
  it->second.waiting_for_snapshot.erase(subscriber);
}

void AttendanceHub::MarkChanged(int64_t event_id) {
  absl::MutexLock lock(&mu_);
  if (to_notify_.empty()) wake_ = true;  // it may sleep until a heartbeat
  to_notify_.insert(event_id);
  if (auto it = feeds_.find(event_id); it != feeds_.end()) MarkDirty(it->second);
}

void AttendanceHub::MarkChangedElsewhere(int64_t event_id) {
  absl::MutexLock lock(&mu_);
  if (auto it = feeds_.find(event_id); it != feeds_.end()) MarkDirty(it->second);
}

void AttendanceHub::MarkAllChanged() {
  absl::MutexLock lock(&mu_);
  for (auto& [event_id, feed] : feeds_) MarkDirty(feed);
}

int AttendanceHub::subscribers() const {
  absl::MutexLock lock(&mu_);
  int n = 0;
  for (const auto& [event_id, feed] : feeds_) n += static_cast<int>(feed.subscribers.size());
  return n;
}

void AttendanceHub::PublishDue() { Publish(/*force=*/false); }

void AttendanceHub::PublishNow() { Publish(/*force=*/true); }

void AttendanceHub::Publish(bool force) {
  absl::MutexLock tick(&tick_mu_);
  std::vector<int64_t> to_read;
  std::vector<int64_t> notify;
  {
    absl::MutexLock fan(&fanout_mu_);
    Deliveries beats;
    {
      absl::MutexLock lock(&mu_);
      const absl::Time now = options_.clock->Now();
      if (!to_notify_.empty() && (force || now >= last_notified_ + options_.min_gap)) {
        notify.assign(to_notify_.begin(), to_notify_.end());
        to_notify_.clear();
        last_notified_ = now;
      }
      for (auto& [event_id, feed] : feeds_) {
        if (feed.subscribers.empty()) continue;
        if (!force && now < PublishAt(feed.dirty, feed.last_sent, feed.gap, options_)) continue;
        if (feed.dirty) {
          // Cleared before the read: a change committed during it marks the feed again.
          feed.dirty = false;
          to_read.push_back(event_id);
        } else if (feed.latest != nullptr && now - feed.last_sent >= options_.heartbeat) {
          v1::AttendanceUpdate message = feed.latest->message();
          message.set_heartbeat(true);
          message.set_snapshot(false);
          auto beat = std::make_shared<const Update>(std::move(message));
          for (Subscriber* s : feed.subscribers) beats.emplace_back(s, beat);
          feed.last_sent = now;
        }
      }
    }
    Deliver(beats);
  }
  for (int64_t event_id : to_read) {
    const absl::Time started = options_.clock->Now();
    absl::StatusOr<v1::Attendance> counts = read_(event_id);
    absl::MutexLock fan(&fanout_mu_);
    Deliveries deliveries;
    {
      absl::MutexLock lock(&mu_);
      if (!counts.ok()) {
        // The database is away: try again in options_.retry.
        Feed& feed = feeds_[event_id];
        feed.dirty = true;
        feed.last_sent = options_.clock->Now();
        feed.gap = options_.retry;
        continue;
      }
      deliveries = Publish(event_id, *counts, /*heartbeat=*/false);
    }
    Deliver(deliveries);
    const absl::Duration took = options_.clock->Now() - started;
    absl::MutexLock lock(&mu_);
    feeds_[event_id].gap = GapAfter(took, options_);
  }
  // After the local offers: this replica's screens do not wait for the round trip.
  if (!notify.empty() && notify_) notify_(notify);
}

AttendanceHub::Deliveries AttendanceHub::Publish(int64_t event_id, const v1::Attendance& counts,
                                                 bool heartbeat) {
  Feed& feed = feeds_[event_id];
  v1::AttendanceUpdate message;
  message.set_sequence(++feed.sequence);
  message.set_heartbeat(heartbeat);
  *message.mutable_attendance() = counts;
  v1::AttendanceUpdate snapshot = message;
  snapshot.set_snapshot(true);
  feed.latest = std::make_shared<const Update>(std::move(message));
  feed.snapshot = std::make_shared<const Update>(std::move(snapshot));
  // Now, not after the fan-out: the gap to the next update runs from the read.
  feed.last_sent = options_.clock->Now();
  Deliveries deliveries;
  deliveries.reserve(feed.subscribers.size());
  for (Subscriber* s : feed.subscribers) {
    deliveries.emplace_back(s, feed.waiting_for_snapshot.erase(s) > 0 ? feed.snapshot : feed.latest);
  }
  return deliveries;
}

void AttendanceHub::Deliver(Deliveries& deliveries) {
  for (auto& [subscriber, update] : deliveries) subscriber->Offer(std::move(update));
}

}  // namespace turnout::live
