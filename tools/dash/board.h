// What the big screen shows, as the JSON turnout-dash streams to every viewer: the entrance's
// counts, each room's occupancy with the colour of its bar, the arrivals line and whether the
// counts are live. Pure functions of their inputs; Dashboard (dashboard.h) calls them.
//
// The JSON carries numbers, checkpoint titles and times only: no labels (the page has them in its
// language) and no personal data (a DASHBOARD token is never shown any).
#ifndef TURNOUT_TOOLS_DASH_BOARD_H_
#define TURNOUT_TOOLS_DASH_BOARD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tools/dash/arrivals.h"
#include "turnout/v1/resources.pb.h"

namespace turnout::dash {

// The colour of a room's bar.
enum class BarLevel {
  kNormal,     // below 90 % of capacity
  kAmber,      // from 90 % of capacity
  kRed,        // full: inside at or above capacity
  kUnlimited,  // capacity 0: no bar to fill
};

// The level of a room with `inside` people and `capacity` seats (0: unlimited).
BarLevel RoomBarLevel(int64_t inside, int64_t capacity);

// "normal", "amber", "red", "unlimited": the page's CSS classes.
const char* BarLevelName(BarLevel level);

// Everything the page draws.
struct Board {
  // "connecting", "live", "reconnecting" or "failed" (WatchStateName).
  std::string state = "connecting";
  // The event's title, when the dashboard could read it; else the page shows the event's name.
  std::string event_title;
  // The latest counts; none before the first snapshot.
  std::optional<v1::Attendance> attendance;
  // Oldest first.
  std::vector<ArrivalSample> arrivals;
  // How often the arrivals are sampled: the line spans 60 of these.
  absl::Duration sample_every = absl::Minutes(1);
};

// The board as one JSON object:
//   {"state":"live","event":"events/1","title":"…","as_of_ms":…,
//    "entrance":{"title":…,"registered":…,"checked_in":…,"inside":…,"capacity":…,
//                "arrivals_last_minute":…},
//    "rooms":[{"title":…,"inside":…,"capacity":…,"checked_in":…,"level":"amber"},…],
//    "arrivals":[[time_ms,count],…],"window_ms":3600000}
// The entrance is the checkpoint with no session; "entrance" is null before the first snapshot.
std::string BoardJson(const Board& board);

}  // namespace turnout::dash

#endif  // TURNOUT_TOOLS_DASH_BOARD_H_
