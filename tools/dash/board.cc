// BoardJson and the bar levels; see board.h.
#include "tools/dash/board.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "tools/common/text.h"

namespace turnout::dash {
namespace {

using ::google::protobuf::util::TimeUtil;

std::string EntranceJson(const v1::CheckpointAttendance& c) {
  return absl::StrCat("{\"title\":", tools::JsonQuote(c.title()),
                      ",\"registered\":", c.registered(), ",\"checked_in\":", c.checked_in(),
                      ",\"inside\":", c.inside(), ",\"capacity\":", c.capacity(),
                      ",\"arrivals_last_minute\":", c.arrivals_last_minute(), "}");
}

std::string RoomJson(const v1::CheckpointAttendance& c) {
  return absl::StrCat("{\"title\":", tools::JsonQuote(c.title()), ",\"inside\":", c.inside(),
                      ",\"capacity\":", c.capacity(), ",\"checked_in\":", c.checked_in(),
                      ",\"level\":\"", BarLevelName(RoomBarLevel(c.inside(), c.capacity())), "\"}");
}

}  // namespace

BarLevel RoomBarLevel(int64_t inside, int64_t capacity) {
  if (capacity <= 0) return BarLevel::kUnlimited;
  if (inside >= capacity) return BarLevel::kRed;
  if (inside * 10 >= capacity * 9) return BarLevel::kAmber;  // 90 %, without rounding
  return BarLevel::kNormal;
}

const char* BarLevelName(BarLevel level) {
  switch (level) {
    case BarLevel::kNormal:
      return "normal";
    case BarLevel::kAmber:
      return "amber";
    case BarLevel::kRed:
      return "red";
    case BarLevel::kUnlimited:
      return "unlimited";
  }
  return "normal";
}

std::string BoardJson(const Board& board) {
  std::string json = absl::StrCat("{\"state\":", tools::JsonQuote(board.state),
                                  ",\"title\":", tools::JsonQuote(board.event_title));
  std::string entrance = "null";
  std::string rooms;
  if (board.attendance.has_value()) {
    const v1::Attendance& a = *board.attendance;
    absl::StrAppend(&json, ",\"event\":", tools::JsonQuote(a.event()),
                    ",\"as_of_ms\":", TimeUtil::TimestampToMilliseconds(a.as_of()));
    for (const v1::CheckpointAttendance& c : a.checkpoints()) {
      if (c.session().empty()) {
        if (entrance == "null") entrance = EntranceJson(c);
      } else {
        absl::StrAppend(&rooms, rooms.empty() ? "" : ",", RoomJson(c));
      }
    }
  }
  absl::StrAppend(&json, ",\"entrance\":", entrance, ",\"rooms\":[", rooms, "],\"arrivals\":[");
  for (size_t i = 0; i < board.arrivals.size(); ++i) {
    absl::StrAppend(&json, i == 0 ? "" : ",", "[", absl::ToUnixMillis(board.arrivals[i].time), ",",
                    board.arrivals[i].arrivals, "]");
  }
  absl::StrAppend(&json, "],\"window_ms\":",
                  absl::ToInt64Milliseconds(board.sample_every * ArrivalsRing::kDefaultCapacity),
                  "}");
  return json;
}

}  // namespace turnout::dash
