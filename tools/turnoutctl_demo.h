// `turnoutctl demo`: loads the reference scenario of PRODUCT.md §1, the two 2015 Regional Trainings
// "Unlocking Our Power: Moving Pro-Immigrant Policies" (Oakland and Los Angeles), with their
// plenaries and two rounds of breakouts across five policy tracks, and publishes them.
//
// Idempotent: every create carries a fixed request_id ("demo-oakland-2015",
// "demo-oakland-2015-r1-legislative", ...), so running it again creates nothing new.
#ifndef TURNOUT_TOOLS_TURNOUTCTL_DEMO_H_
#define TURNOUT_TOOLS_TURNOUTCTL_DEMO_H_

#include <vector>

#include "absl/status/statusor.h"
#include "client-lib/client.h"

namespace turnout::tools {

// Creates (or finds) the demo events and their sessions and publishes the events. Returns the
// events.
absl::StatusOr<std::vector<v1::Event>> LoadDemo(const client::Client& client);

}  // namespace turnout::tools

#endif  // TURNOUT_TOOLS_TURNOUTCTL_DEMO_H_
