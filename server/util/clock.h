// The one source of "now" for every rule that depends on time: the 15-minute annul window, how far
// ahead a door's scan_time may be, the arrivals of the last minute, the rate limiters, the token
// cache's lifetime, an import's duration limit, the retention pass, and the times the stores record
// (a scan's receipt and annulment, a token's or a signing key's revocation, a key's creation).
// The server takes it from ServerOptions::clock and hands the same one down; tests pass a
// FakeClock (fake_clock.h) and move it across a rule's edge. Pacing that is no rule (database
// reconnect backoff, the embedded PostgreSQL's supervision, latency metrics, the live feed's tick)
// keeps reading the wall clock. docs/design.md, "Time: one clock for the rules".
#ifndef TURNOUT_SERVER_UTIL_CLOCK_H_
#define TURNOUT_SERVER_UTIL_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace turnout::util {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;

  // The wall clock, shared by the whole process.
  static const Clock* Real();
};

class RealClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

inline const Clock* Clock::Real() {
  static const RealClock real;
  return &real;
}

}  // namespace turnout::util

#endif  // TURNOUT_SERVER_UTIL_CLOCK_H_
