// Times as the tools show them: in an event's time zone (or the machine's), and the machine's own
// IANA zone name for events created "here" (turnoutctl demo's practice training).
#ifndef TURNOUT_TOOLS_COMMON_TIME_FORMAT_H_
#define TURNOUT_TOOLS_COMMON_TIME_FORMAT_H_

#include <string>

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace turnout::tools {

// The named IANA zone, or the machine's when it cannot be loaded.
absl::TimeZone Zone(const std::string& name);

// `time` in `zone`, e.g. "2015-10-15 08:00"; "-" when unset.
std::string FormatTime(const google::protobuf::Timestamp& time, absl::TimeZone zone,
                       const char* format = "%Y-%m-%d %H:%M");

// The IANA name of the machine's time zone: $TZ when it names one, else /etc/timezone, else the
// target of the /etc/localtime link; "UTC" when none of them says.
std::string LocalZoneName();

}  // namespace turnout::tools

#endif  // TURNOUT_TOOLS_COMMON_TIME_FORMAT_H_
