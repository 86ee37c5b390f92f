// ArrivalsRing; see arrivals.h.
#include "tools/dash/arrivals.h"

#include <algorithm>

namespace turnout::dash {

ArrivalsRing::ArrivalsRing(int capacity) : slots_(std::max(capacity, 1)) {}

void ArrivalsRing::Add(absl::Time time, int64_t arrivals) {
  if (count_ > 0) {
    const int newest = (next_ + capacity() - 1) % capacity();
    if (time < slots_[newest].time) return;
  }
  slots_[next_] = {time, arrivals};
  next_ = (next_ + 1) % capacity();
  count_ = std::min(count_ + 1, capacity());
}

std::vector<ArrivalSample> ArrivalsRing::Samples() const {
  std::vector<ArrivalSample> samples;
  samples.reserve(count_);
  const int oldest = (next_ + capacity() - count_) % capacity();
  for (int i = 0; i < count_; ++i) samples.push_back(slots_[(oldest + i) % capacity()]);
  return samples;
}

}  // namespace turnout::dash
