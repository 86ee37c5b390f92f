#include "client-lib/door_convert.h"

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client-lib/names.h"
#include "google/protobuf/util/time_util.h"

namespace turnout::client {

using google::protobuf::util::TimeUtil;

google::protobuf::Timestamp ToProtoTime(absl::Time t) {
  return TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t));
}

absl::Time FromProtoTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(t));
}

v1::ScanResult::Status ToProtoStatus(domain::ScanStatus status) {
  v1::ScanResult::Status out = v1::ScanResult::STATUS_UNSPECIFIED;
  v1::ScanResult::Status_Parse(std::string(domain::ScanStatusName(status)), &out);
  return out;
}

std::optional<domain::ScanStatus> ToDomainStatus(v1::ScanResult::Status status) {
  if (!v1::ScanResult::Status_IsValid(status)) return std::nullopt;
  return domain::ScanStatusFromName(v1::ScanResult::Status_Name(status));
}

domain::Direction ToDomainDirection(v1::ScanDirection direction) {
  return direction == v1::SCAN_DIRECTION_EXIT ? domain::Direction::kExit
                                              : domain::Direction::kEntry;
}

absl::StatusOr<int64_t> IdOf(absl::string_view name) {
  absl::StatusOr<ResourceName> parsed = ParseResourceName(name);
  if (!parsed.ok()) return parsed.status();
  int64_t id = 0;
  if (!absl::SimpleAtoi(parsed->collection == "events" ? parsed->event_id : parsed->id, &id)) {
    return absl::InvalidArgumentError(absl::StrCat(name, " does not end in a numeric id"));
  }
  return id;
}

}  // namespace turnout::client
