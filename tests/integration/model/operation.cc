#include "tests/integration/model/operation.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace turnout::testing::model {

absl::string_view PlaceName(Place place) {
  switch (place) {
    case Place::kEntrance:
      return "entrance";
    case Place::kPlenary:
      return "plenary";
    case Place::kB1:
      return "B1";
    case Place::kB2:
      return "B2";
    case Place::kB3:
      return "B3";
  }
  return "?";
}

int RoundOf(Place place) {
  switch (place) {
    case Place::kB1:
    case Place::kB2:
      return 1;
    case Place::kB3:
      return 2;
    default:
      return 0;
  }
}

bool IsBreakout(Place place) { return RoundOf(place) > 0; }

absl::string_view KindName(Operation::Kind kind) {
  using Kind = Operation::Kind;
  switch (kind) {
    case Kind::kRegister:
      return "register";
    case Kind::kCancel:
      return "cancel";
    case Kind::kReissue:
      return "reissue";
    case Kind::kGetTicket:
      return "get-ticket";
    case Kind::kChooseSessions:
      return "choose";
    case Kind::kScan:
      return "scan";
    case Kind::kResend:
      return "resend";
    case Kind::kAnnul:
      return "annul";
    case Kind::kSetCapacity:
      return "capacity";
    case Kind::kMoveEvent:
      return "move";
    case Kind::kRotateKey:
      return "rotate-key";
    case Kind::kSetPublished:
      return "publish";
  }
  return "?";
}

std::string FormatOffset(absl::Duration d) {
  std::string out = d < absl::ZeroDuration() ? "-" : "+";
  int64_t seconds = absl::ToInt64Seconds(d < absl::ZeroDuration() ? -d : d);
  const int64_t days = seconds / 86400;
  const int64_t hours = seconds / 3600 % 24;
  const int64_t minutes = seconds / 60 % 60;
  seconds %= 60;
  if (days > 0) absl::StrAppend(&out, days, "d");
  if (hours > 0) absl::StrAppend(&out, hours, "h");
  if (minutes > 0) absl::StrAppend(&out, minutes < 10 && out.size() > 1 ? "0" : "", minutes, "m");
  if (seconds > 0 || out.size() == 1) {
    absl::StrAppend(&out, seconds < 10 && out.size() > 1 ? "0" : "", seconds, "s");
  }
  return out;
}

namespace {

std::string Choices(const std::vector<Place>& choices) {
  return absl::StrCat(
      "[",
      absl::StrJoin(choices, ",",
                    [](std::string* out, Place p) { absl::StrAppend(out, PlaceName(p)); }),
      "]");
}

std::string Code(const Operation& op) {
  switch (op.code) {
    case CodePick::kCurrent:
      return absl::StrCat("r", op.reg);
    case CodePick::kPrevious:
      return absl::StrCat("r", op.reg, "(previous code)");
    case CodePick::kOtherEvent:
      return "other-event ticket";
    case CodePick::kGarbage:
      return "garbage code";
  }
  return "?";
}

}  // namespace

std::string Operation::ToString() const {
  switch (kind) {
    case Kind::kRegister:
      return absl::StrCat("register r", reg, " choices=", Choices(choices));
    case Kind::kCancel:
      return absl::StrCat("cancel r", reg);
    case Kind::kReissue:
      return absl::StrCat("reissue ticket r", reg);
    case Kind::kGetTicket:
      return absl::StrCat("get ticket r", reg);
    case Kind::kChooseSessions:
      return absl::StrCat("choose r", reg, " choices=", Choices(choices));
    case Kind::kScan:
      return absl::StrCat("s", scan, ": scan ", Code(*this), " ",
                          direction == Direction::kEntry ? "entry" : "exit", " @", PlaceName(place),
                          " t=", FormatOffset(at), " dev=", device);
    case Kind::kResend:
      return absl::StrCat("resend s", scan);
    case Kind::kAnnul:
      return absl::StrCat("annul s", scan, " by dev=", device);
    case Kind::kSetCapacity:
      return absl::StrCat("capacity ", place == Place::kEntrance ? "event" : PlaceName(place), "=",
                          capacity);
    case Kind::kMoveEvent:
      return absl::StrCat("move event and sessions +", days, "d");
    case Kind::kRotateKey:
      return "rotate signing key, revoke the old one";
    case Kind::kSetPublished:
      return published ? "publish the event" : "take the event back to DRAFT";
  }
  return "?";
}

}  // namespace turnout::testing::model
