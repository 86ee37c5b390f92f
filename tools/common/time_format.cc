// Times as the tools show them; see time_format.h.
#include "tools/common/time_format.h"

#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/time_util.h"

namespace turnout::tools {
namespace {

// An IANA name ("America/Los_Angeles", "UTC") that absl can load; not a path or a POSIX rule.
bool IsZoneName(absl::string_view name) {
  if (name.empty() || name.front() == '/' || absl::StrContains(name, "..")) return false;
  absl::TimeZone zone;
  return absl::LoadTimeZone(std::string(name), &zone);
}

}  // namespace

absl::TimeZone Zone(const std::string& name) {
  absl::TimeZone zone;
  return absl::LoadTimeZone(name, &zone) ? zone : absl::LocalTimeZone();
}

std::string FormatTime(const google::protobuf::Timestamp& time, absl::TimeZone zone,
                       const char* format) {
  if (time.seconds() == 0 && time.nanos() == 0) return "-";
  return absl::FormatTime(
      format, absl::FromUnixNanos(google::protobuf::util::TimeUtil::TimestampToNanoseconds(time)),
      zone);
}

std::string LocalZoneName() {
  if (const char* tz = std::getenv("TZ"); tz != nullptr) {
    absl::string_view name = tz;
    absl::ConsumePrefix(&name, ":");
    if (IsZoneName(name)) return std::string(name);
  }
  std::ifstream etc_timezone("/etc/timezone");
  std::string line;
  if (std::getline(etc_timezone, line)) {
    const std::string name(absl::StripAsciiWhitespace(line));
    if (IsZoneName(name)) return name;
  }
  char target[PATH_MAX];
  const ssize_t n = readlink("/etc/localtime", target, sizeof(target) - 1);
  if (n > 0) {
    absl::string_view path(target, static_cast<size_t>(n));
    const size_t at = path.find("zoneinfo/");
    if (at != absl::string_view::npos && IsZoneName(path.substr(at + 9))) {
      return std::string(path.substr(at + 9));
    }
  }
  return "UTC";
}

}  // namespace turnout::tools
