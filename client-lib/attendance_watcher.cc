// AttendanceWatcher; see attendance_watcher.h.
#include "client-lib/attendance_watcher.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace turnout::client {

const char* WatchStateName(WatchState state) {
  switch (state) {
    case WatchState::kConnecting:
      return "connecting";
    case WatchState::kLive:
      return "live";
    case WatchState::kReconnecting:
      return "reconnecting";
    case WatchState::kFailed:
      return "failed";
  }
  return "unknown";
}

absl::Duration WatchBackoff(const WatcherOptions& options, int failures) {
  absl::Duration wait = options.first_backoff;
  for (int i = 1; i < failures && wait < options.max_backoff; ++i) wait *= 2;
  return std::min(wait, options.max_backoff);
}

bool IsPermanentWatchError(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kUnimplemented:
      return true;
    default:
      return false;
  }
}

AttendanceWatcher::AttendanceWatcher(const Client& client, std::string event,
                                     WatcherOptions options, UpdateFn on_update, StateFn on_state)
    : client_(client),
      event_(std::move(event)),
      options_(options),
      on_update_(std::move(on_update)),
      on_state_(std::move(on_state)) {
  thread_ = std::thread([this] { Run(); });
  watchdog_ = std::thread([this] { Watchdog(); });
}

AttendanceWatcher::~AttendanceWatcher() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (stream_ != nullptr) stream_->TryCancel();
  }
  thread_.join();
  watchdog_.join();
}

bool AttendanceWatcher::SleepUnlessStopping(absl::Duration duration) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&stopping_), duration);
  return !stopping_;
}

void AttendanceWatcher::Run() {
  on_state_(WatchState::kConnecting, absl::OkStatus());
  v1::WatchAttendanceRequest request;
  request.set_event(event_);
  WatchState state = WatchState::kConnecting;
  for (int failures = 0;;) {
    grpc::ClientContext context;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      stream_ = &context;
      last_message_ = absl::Now();
      idle_cancelled_ = false;
    }
    absl::Status status =
        client_.WatchAttendanceStream(context, request, [&](const v1::AttendanceUpdate& update) {
          {
            absl::MutexLock lock(&mu_);
            last_message_ = absl::Now();
          }
          failures = 0;
          request.set_resume_after_sequence(update.sequence());
          if (state != WatchState::kLive) {
            state = WatchState::kLive;
            on_state_(state, absl::OkStatus());
          }
          on_update_(update);
          return true;
        });
    {
      absl::MutexLock lock(&mu_);
      stream_ = nullptr;
      if (stopping_) return;
      if (idle_cancelled_) {
        status = absl::UnavailableError(absl::StrCat(
            "no message for ", absl::FormatDuration(options_.idle_timeout), "; reconnecting"));
      }
    }
    if (status.ok()) status = absl::UnavailableError("the server ended the stream");
    if (IsPermanentWatchError(status)) {
      on_state_(WatchState::kFailed, status);
      return;
    }
    state = WatchState::kReconnecting;
    on_state_(state, status);
    if (!SleepUnlessStopping(WatchBackoff(options_, ++failures))) return;
  }
}

void AttendanceWatcher::Watchdog() {
  const absl::Duration tick = std::min(absl::Seconds(1), options_.idle_timeout / 4);
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), tick);
    if (stream_ != nullptr && !idle_cancelled_ &&
        absl::Now() - last_message_ >= options_.idle_timeout) {
      idle_cancelled_ = true;
      stream_->TryCancel();
    }
  }
}

}  // namespace turnout::client
