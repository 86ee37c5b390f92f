// How long the database pool waits between reconnection attempts while PostgreSQL is unreachable:
// exponential from `first` to `max`, each wait drawn in [d/2, d] ("equal jitter") so that replicas
// that lost the database together do not knock on it together.
//
// Pure: the random draw is an argument, so tests pin it.
#ifndef TURNOUT_SERVER_STORE_RECONNECT_BACKOFF_H_
#define TURNOUT_SERVER_STORE_RECONNECT_BACKOFF_H_

#include "absl/time/time.h"

namespace turnout::store {

struct ReconnectBackoff {
  absl::Duration first = absl::Milliseconds(25);
  absl::Duration max = absl::Milliseconds(300);

  // The wait after `failures` failed attempts in a row (>= 1), given `unit` drawn uniformly from
  // [0, 1): first × 2^(failures - 1), at most `max`, scaled into [d/2, d].
  absl::Duration Delay(int failures, double unit) const;
};

}  // namespace turnout::store

#endif  // TURNOUT_SERVER_STORE_RECONNECT_BACKOFF_H_
