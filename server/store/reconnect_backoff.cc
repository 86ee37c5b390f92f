#include "server/store/reconnect_backoff.h"

#include <algorithm>

namespace turnout::store {

absl::Duration ReconnectBackoff::Delay(int failures, double unit) const {
  absl::Duration d = first;
  for (int i = 1; i < failures && d < max; ++i) d *= 2;
  d = std::min(d, max);
  unit = std::clamp(unit, 0.0, 1.0);
  return d / 2 + (d / 2) * unit;
}

}  // namespace turnout::store
