// A Clock (clock.h) that stands still until a test moves it: Set and Advance may be called from
// the test's thread while the server's threads read it.
//
//   util::FakeClock clock(absl::Now());
//   TestServer server([&](api::ServerOptions& o) { o.clock = &clock; });
//   ...                                   // scan
//   clock.Advance(absl::Minutes(15) + absl::Seconds(1));
//   ...                                   // annulling it is now refused
#ifndef TURNOUT_SERVER_UTIL_FAKE_CLOCK_H_
#define TURNOUT_SERVER_UTIL_FAKE_CLOCK_H_

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/util/clock.h"

namespace turnout::util {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start) : now_(start) {}

  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Set(absl::Time t) {
    absl::MutexLock lock(&mu_);
    now_ = t;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace turnout::util

#endif  // TURNOUT_SERVER_UTIL_FAKE_CLOCK_H_
