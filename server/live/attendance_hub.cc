#include "server/live/attendance_hub.h"

#include <utility>

namespace turnout::live {

AttendanceHub::AttendanceHub(ReadCounts read, Notify notify, HubOptions options)
    : read_(std::move(read)), notify_(std::move(notify)), options_(std::move(options)) {
  if (options_.publisher_thread) thread_ = std::thread([this] { Run(); });
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
  if (!feed.subscribers.empty() && options_.now() - feed.last_sent >= options_.interval) {
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
    absl::MutexLock lock(&mu_);
    const absl::Time now = options_.now();
    notify.assign(to_notify_.begin(), to_notify_.end());
    to_notify_.clear();
    for (auto& [event_id, feed] : feeds_) {
      if (feed.subscribers.empty()) continue;
      if (feed.dirty) {
        // Cleared before the read: a change committed during it marks the feed again.
        feed.dirty = false;
        to_read.push_back(event_id);
      } else if (feed.latest != nullptr && now - feed.last_sent >= options_.heartbeat) {
        auto beat = std::make_shared<v1::AttendanceUpdate>(*feed.latest);
        beat->set_heartbeat(true);
        beat->set_snapshot(false);
        for (Subscriber* s : feed.subscribers) s->Offer(beat);
        feed.last_sent = now;
      }
    }
  }
  if (!notify.empty() && notify_) notify_(notify);
  for (int64_t event_id : to_read) {
    absl::StatusOr<v1::Attendance> counts = read_(event_id);
    absl::MutexLock lock(&mu_);
    if (!counts.ok()) {
      feeds_[event_id].dirty = true;  // the database is away; try again next tick
      continue;
    }
    Publish(event_id, *counts, /*heartbeat=*/false);
  }
}

void AttendanceHub::Publish(int64_t event_id, const v1::Attendance& counts, bool heartbeat) {
  // The time is read before the first Offer: a subscriber may act on its update at once, and what
  // it does next (a change, a clock a test moves) must not be what last_sent records.
  const absl::Time now = options_.now();
  Feed& feed = feeds_[event_id];
  auto update = std::make_shared<v1::AttendanceUpdate>();
  update->set_sequence(++feed.sequence);
  update->set_heartbeat(heartbeat);
  *update->mutable_attendance() = counts;
  auto snapshot = std::make_shared<v1::AttendanceUpdate>(*update);
  snapshot->set_snapshot(true);
  feed.latest = std::move(update);
  feed.snapshot = std::move(snapshot);
  for (Subscriber* s : feed.subscribers) {
    s->Offer(feed.waiting_for_snapshot.erase(s) > 0 ? feed.snapshot : feed.latest);
  }
  feed.last_sent = now;
}

}  // namespace turnout::live
