// `turnoutctl demo`: loads the reference scenario of docs/design.md, the two 2015 Regional
// Trainings "Unlocking Our Power: Moving Pro-Immigrant Policies" (Oakland and Los Angeles), with
// their plenaries and two rounds of breakouts across five policy tracks, and publishes them. It also
// loads a practice training dated the day it runs, doors open now in the machine's time zone, so
// that a newcomer can scan at a live door (turnout-scan) without telling the server the time.
//
// Idempotent: every create carries a fixed request_id ("demo-oakland-2015",
// "demo-oakland-2015-r1-legislative", ...; "demo-practice-2026-12-03" for the practice of that
// day), so running it again creates nothing new, and the practice is created once per day.
#ifndef TURNOUT_TOOLS_TURNOUTCTL_DEMO_H_
#define TURNOUT_TOOLS_TURNOUTCTL_DEMO_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client-lib/client.h"

namespace turnout::tools {

// An event and its program as CreateEvent and CreateSession requests, each with its request_id.
struct DemoEvent {
  v1::CreateEventRequest event;
  std::vector<std::pair<std::string, v1::Session>> sessions;  // (request_id, session)
};

// The practice training of the day `now` falls on in `time_zone` (an IANA name): doors open at
// `now` (to the minute) for eight hours, a plenary and two breakouts of one round whose rooms open
// at once. Its request_id names that day.
DemoEvent PracticeEvent(absl::Time now, const std::string& time_zone);

// Creates (or finds) the demo events and their sessions and publishes the events: the two 2015
// trainings, then the practice of today (PracticeEvent(now, time_zone)). Returns the events.
absl::StatusOr<std::vector<v1::Event>> LoadDemo(const client::Client& client, absl::Time now,
                                                const std::string& time_zone);

}  // namespace turnout::tools

#endif  // TURNOUT_TOOLS_TURNOUTCTL_DEMO_H_
