#include "server/live/attendance_hub.h"

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

void AttendanceHub::Run() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&wake_), options_.interval);
      wake_ = false;
      if (stopping_) return;
    }
    PublishNow();
  }
}

void AttendanceHub::WakeIfIdle(const Feed& feed) {
  if (!feed.subscribers.empty() && options_.clock->Now() - feed.last_sent >= options_.interval) {
    wake_ = true;
  }
}

void AttendanceHub::Subscribe(int64_t event_id, Subscriber* subscriber) {
  absl::MutexLock lock(&mu_);
  Feed& feed = feeds_[event_id];
  feed.subscribers.insert(subscriber);
  if (feed.snapshot != nullptr) {
    subscriber->Offer(feed.snapshot);
  } else {
    feed.waiting_for_snapshot.insert(subscriber);
    feed.dirty = true;
    wake_ = true;  // a new stream waits for its first counts
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
  to_notify_.insert(event_id);
  if (auto it = feeds_.find(event_id); it != feeds_.end()) {
    it->second.dirty = true;
    WakeIfIdle(it->second);
  }
}

void AttendanceHub::MarkChangedElsewhere(int64_t event_id) {
  absl::MutexLock lock(&mu_);
  if (auto it = feeds_.find(event_id); it != feeds_.end()) {
    it->second.dirty = true;
    WakeIfIdle(it->second);
  }
}

void AttendanceHub::MarkAllChanged() {
  absl::MutexLock lock(&mu_);
  for (auto& [event_id, feed] : feeds_) feed.dirty = true;
}

int AttendanceHub::subscribers() const {
  absl::MutexLock lock(&mu_);
  int n = 0;
  for (const auto& [event_id, feed] : feeds_) n += static_cast<int>(feed.subscribers.size());
  return n;
}

void AttendanceHub::PublishNow() {
  absl::MutexLock tick(&tick_mu_);
  std::vector<int64_t> to_read;
  std::vector<int64_t> notify;
  {
    absl::MutexLock fan(&fanout_mu_);
    Deliveries beats;
    {
      absl::MutexLock lock(&mu_);
      const absl::Time now = options_.clock->Now();
      notify.assign(to_notify_.begin(), to_notify_.end());
      to_notify_.clear();
      for (auto& [event_id, feed] : feeds_) {
        if (feed.subscribers.empty()) continue;
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
  if (!notify.empty() && notify_) notify_(notify);
  for (int64_t event_id : to_read) {
    absl::StatusOr<v1::Attendance> counts = read_(event_id);
    absl::MutexLock fan(&fanout_mu_);
    Deliveries deliveries;
    {
      absl::MutexLock lock(&mu_);
      if (!counts.ok()) {
        feeds_[event_id].dirty = true;  // the database is away; try again next tick
        continue;
      }
      deliveries = Publish(event_id, *counts, /*heartbeat=*/false);
    }
    Deliver(deliveries);
  }
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
  // Now, not after the fan-out: whoever sees the update may change something at once, and that
  // change must find the feed busy (not idle) so it waits for the next tick.
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
