// Dashboard is the state of turnout-dash between the one WatchAttendance stream and the viewers:
// it takes the stream's messages and state changes and the arrivals samples, keeps the latest of
// each, publishes the board (board.h) into a BoardFeed whenever what the page shows changes, and
// answers /healthz. Thread-safe; time comes in from the caller.
#ifndef TURNOUT_TOOLS_DASH_DASHBOARD_H_
#define TURNOUT_TOOLS_DASH_DASHBOARD_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client-lib/attendance_watcher.h"
#include "tools/dash/arrivals.h"
#include "tools/dash/board.h"
#include "tools/dash/feed.h"
#include "turnout/v1/attendance_service.pb.h"

namespace turnout::dash {

struct Health {
  bool ok = false;  // the stream is live
  std::string text;
};

class Dashboard {
 public:
  // `now` gives the time for /healthz's "last message" age; `sample_every` is how often the
  // arrivals are sampled (the line spans 60 samples).
  Dashboard(std::function<absl::Time()> now, absl::Duration sample_every);

  // A message of the stream. A heartbeat changes nothing on screen, so it publishes nothing.
  void OnUpdate(const v1::AttendanceUpdate& update) ABSL_LOCKS_EXCLUDED(mu_);
  // A change of the stream's state (client::AttendanceWatcher's on_state).
  void OnState(client::WatchState state, const absl::Status& why) ABSL_LOCKS_EXCLUDED(mu_);
  void SetEventTitle(const std::string& title) ABSL_LOCKS_EXCLUDED(mu_);
  // An arrivals_last_minute sample of the entrance.
  void AddArrivals(absl::Time time, int64_t arrivals) ABSL_LOCKS_EXCLUDED(mu_);

  // 200-worthy when the stream is live, with how long ago it last spoke; else why not.
  Health health() const ABSL_LOCKS_EXCLUDED(mu_);

  BoardFeed& feed() { return feed_; }

 private:
  void PublishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::function<absl::Time()> now_;
  BoardFeed feed_;

  mutable absl::Mutex mu_;
  Board board_ ABSL_GUARDED_BY(mu_);
  ArrivalsRing arrivals_ ABSL_GUARDED_BY(mu_);
  client::WatchState state_ ABSL_GUARDED_BY(mu_) = client::WatchState::kConnecting;
  absl::Status why_ ABSL_GUARDED_BY(mu_);
  absl::Time last_message_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace turnout::dash

#endif  // TURNOUT_TOOLS_DASH_DASHBOARD_H_
