// The arrivals-per-minute line of the big screen: turnout-dash samples the entrance's
// arrivals_last_minute once a minute and keeps the last 60 samples here, so the line covers the
// last hour. The dashboard process holds them; the server keeps no history.
#ifndef TURNOUT_TOOLS_DASH_ARRIVALS_H_
#define TURNOUT_TOOLS_DASH_ARRIVALS_H_

#include <cstdint>
#include <vector>

#include "absl/time/time.h"

namespace turnout::dash {

struct ArrivalSample {
  absl::Time time;
  int64_t arrivals = 0;  // arrivals_last_minute at `time`
};

// A fixed-size ring of samples, oldest first. Not thread-safe: Dashboard guards it.
class ArrivalsRing {
 public:
  static constexpr int kDefaultCapacity = 60;

  explicit ArrivalsRing(int capacity = kDefaultCapacity);

  // Appends a sample; when full, the oldest is dropped. Samples are expected in time order; one
  // older than the newest (a clock stepped back) replaces nothing and is dropped.
  void Add(absl::Time time, int64_t arrivals);

  // The samples, oldest first; at most `capacity`.
  std::vector<ArrivalSample> Samples() const;

  int capacity() const { return static_cast<int>(slots_.size()); }

 private:
  std::vector<ArrivalSample> slots_;
  int next_ = 0;   // where the next sample goes
  int count_ = 0;  // samples held, at most slots_.size()
};

}  // namespace turnout::dash

#endif  // TURNOUT_TOOLS_DASH_ARRIVALS_H_
