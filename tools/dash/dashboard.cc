// Dashboard; see dashboard.h.
#include "tools/dash/dashboard.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace turnout::dash {

Dashboard::Dashboard(std::function<absl::Time()> now, absl::Duration sample_every)
    : now_(std::move(now)) {
  absl::MutexLock lock(&mu_);
  board_.sample_every = sample_every;
  PublishLocked();
}

void Dashboard::OnUpdate(const v1::AttendanceUpdate& update) {
  absl::MutexLock lock(&mu_);
  last_message_ = now_();
  if (update.heartbeat() && board_.attendance.has_value()) return;
  board_.attendance = update.attendance();
  PublishLocked();
}

void Dashboard::OnState(client::WatchState state, const absl::Status& why) {
  absl::MutexLock lock(&mu_);
  const bool changed = state != state_;
  state_ = state;
  why_ = why;
  if (!changed) return;
  board_.state = client::WatchStateName(state);
  PublishLocked();
}

void Dashboard::SetEventTitle(const std::string& title) {
  absl::MutexLock lock(&mu_);
  if (board_.event_title == title) return;
  board_.event_title = title;
  PublishLocked();
}

void Dashboard::AddArrivals(absl::Time time, int64_t arrivals) {
  absl::MutexLock lock(&mu_);
  arrivals_.Add(time, arrivals);
  board_.arrivals = arrivals_.Samples();
  PublishLocked();
}

Health Dashboard::health() const {
  absl::MutexLock lock(&mu_);
  if (state_ == client::WatchState::kLive) {
    return {true, absl::StrCat(
                      "live: last message ",
                      absl::FormatDuration(absl::Trunc(now_() - last_message_, absl::Seconds(1))),
                      " ago\n")};
  }
  std::string text = client::WatchStateName(state_);
  if (!why_.ok()) absl::StrAppend(&text, ": ", why_.ToString());
  return {false, text + "\n"};
}

void Dashboard::PublishLocked() { feed_.Publish(BoardJson(board_)); }

}  // namespace turnout::dash
