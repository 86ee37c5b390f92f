#include "server/embedded_pg/restart_schedule.h"

#include <algorithm>

namespace turnout::embedded_pg {

absl::Duration RestartDelay(int restarts) {
  if (restarts <= 0) return absl::ZeroDuration();
  absl::Duration delay = kMinRestartDelay;
  for (int i = 1; i < restarts && delay < kMaxRestartDelay; ++i) delay *= 2;
  return std::min(delay, kMaxRestartDelay);
}

absl::Duration RestartSchedule::DelayAfterExit(absl::Duration ran_for) {
  if (ran_for > kStableRun) restarts_ = 0;
  const absl::Duration delay = RestartDelay(restarts_);
  if (delay < kMaxRestartDelay) ++restarts_;  // past the cap the count no longer matters
  return delay;
}

}  // namespace turnout::embedded_pg
