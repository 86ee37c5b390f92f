// AttendanceWatcher keeps one WatchAttendance stream of an event open, on a thread of its own, for
// as long as it lives. It reconnects by itself with backoff whenever the stream drops, takes a
// stream that stays silent well past the server's 15 s heartbeat for dead (a vanished network
// leaves a blocked read otherwise), and tells its owner every message and every change of state.
// turnout-dash and `turnoutctl watch` are built on it.
//
//   AttendanceWatcher watcher(*client, "events/1", {},
//       [](const v1::AttendanceUpdate& update) { ... },   // snapshots, updates, heartbeats
//       [](WatchState state, const absl::Status& why) { ... });
//   ...                                                   // ~AttendanceWatcher stops it
//
// A reconnected stream starts with a snapshot, so the owner only ever needs the latest message.
// Errors a retry cannot cure (a bad or revoked token, an event the token may not watch) end the
// watch with kFailed instead of retrying forever.
#ifndef TURNOUT_CLIENT_LIB_ATTENDANCE_WATCHER_H_
#define TURNOUT_CLIENT_LIB_ATTENDANCE_WATCHER_H_

#include <functional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client-lib/client.h"

namespace turnout::client {

enum class WatchState {
  kConnecting,    // before the first message
  kLive,          // a stream is open and has sent its snapshot
  kReconnecting,  // the stream dropped; trying again (the status says why)
  kFailed,        // an error no retry can cure; the watcher has stopped
};

// "connecting", "live", "reconnecting", "failed".
const char* WatchStateName(WatchState state);

struct WatcherOptions {
  // No message for this long ends the stream as dead. The server sends a heartbeat every 15 s.
  absl::Duration idle_timeout = absl::Seconds(40);
  // The wait before the first reconnect attempt, doubled after each failed one up to max_backoff.
  absl::Duration first_backoff = absl::Milliseconds(250);
  absl::Duration max_backoff = absl::Seconds(5);
};

// The wait before reconnect attempt `failures` (1 for the first attempt after a drop).
absl::Duration WatchBackoff(const WatcherOptions& options, int failures);

// True for the errors a reconnect cannot cure: UNAUTHENTICATED, PERMISSION_DENIED,
// INVALID_ARGUMENT, NOT_FOUND, UNIMPLEMENTED.
bool IsPermanentWatchError(const absl::Status& status);

class AttendanceWatcher {
 public:
  using UpdateFn = std::function<void(const v1::AttendanceUpdate&)>;
  using StateFn = std::function<void(WatchState, const absl::Status&)>;

  // Starts watching `event` at once. `client` must outlive the watcher. Both callbacks run on the
  // watcher's thread, one at a time, and must not destroy the watcher. `on_state` is called on
  // each change of state, and again with the new reason for each failed reconnect attempt.
  AttendanceWatcher(const Client& client, std::string event, WatcherOptions options,
                    UpdateFn on_update, StateFn on_state);
  // Ends the stream at once and joins the thread.
  ~AttendanceWatcher();

  AttendanceWatcher(const AttendanceWatcher&) = delete;
  AttendanceWatcher& operator=(const AttendanceWatcher&) = delete;

 private:
  void Run();
  // Cancels the open stream when it has been silent for idle_timeout.
  void Watchdog();
  // False when the watcher is stopping.
  bool SleepUnlessStopping(absl::Duration duration);

  const Client& client_;
  const std::string event_;
  const WatcherOptions options_;
  const UpdateFn on_update_;
  const StateFn on_state_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* stream_ ABSL_GUARDED_BY(mu_) = nullptr;
  absl::Time last_message_ ABSL_GUARDED_BY(mu_);
  bool idle_cancelled_ ABSL_GUARDED_BY(mu_) = false;

  std::thread thread_;
  std::thread watchdog_;
};

}  // namespace turnout::client

#endif  // TURNOUT_CLIENT_LIB_ATTENDANCE_WATCHER_H_
