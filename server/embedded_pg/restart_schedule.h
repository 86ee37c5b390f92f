// When the supervisor restarts a postgres that died. Doors are waiting (docs/design.md,
// "Recovery"), so the first restart is immediate; one that dies again soon after is restarted
// after 100 ms, then 200 ms, 400 ms, ... up to 5 s, so a postgres that cannot start does not
// spin. A postgres that ran for more than 30 s before dying counts as a fresh start: its
// restart is immediate again. Pure: the caller measures how long each run lasted.
//
//   RestartSchedule schedule;
//   ... postgres exits after running for `ran_for` ...
//   const absl::Duration wait = schedule.DelayAfterExit(ran_for);
#ifndef TURNOUT_SERVER_EMBEDDED_PG_RESTART_SCHEDULE_H_
#define TURNOUT_SERVER_EMBEDDED_PG_RESTART_SCHEDULE_H_

#include "absl/time/time.h"

namespace turnout::embedded_pg {

inline constexpr absl::Duration kMinRestartDelay = absl::Milliseconds(100);
inline constexpr absl::Duration kMaxRestartDelay = absl::Seconds(5);
// A postgres that ran longer than this before dying is restarted at once again.
inline constexpr absl::Duration kStableRun = absl::Seconds(30);

// The wait before a restart that follows `restarts` earlier restarts since postgres last ran
// stably: 0 for none, then 100 ms doubling to at most 5 s.
absl::Duration RestartDelay(int restarts);

// RestartDelay over a sequence of exits. Not thread-safe (the supervisor thread owns it).
class RestartSchedule {
 public:
  // The wait before restarting a postgres that ran for `ran_for` and then exited.
  absl::Duration DelayAfterExit(absl::Duration ran_for);

 private:
  int restarts_ = 0;  // since postgres last ran stably
};

}  // namespace turnout::embedded_pg

#endif  // TURNOUT_SERVER_EMBEDDED_PG_RESTART_SCHEDULE_H_
