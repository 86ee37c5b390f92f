// Conversions the door engine shares between its online and offline paths: proto times and
// statuses to the domain's, and numeric ids out of resource names.
#ifndef TURNOUT_CLIENT_LIB_DOOR_CONVERT_H_
#define TURNOUT_CLIENT_LIB_DOOR_CONVERT_H_

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "server/domain/scan_rules.h"
#include "turnout/v1/resources.pb.h"

namespace turnout::client {

google::protobuf::Timestamp ToProtoTime(absl::Time t);
absl::Time FromProtoTime(const google::protobuf::Timestamp& t);

// The API's status for the domain's: same names (ScanStatusName), so one table serves both.
v1::ScanResult::Status ToProtoStatus(domain::ScanStatus status);
// The domain's status for the API's; nullopt for STATUS_UNSPECIFIED or an unknown number.
std::optional<domain::ScanStatus> ToDomainStatus(v1::ScanResult::Status status);

// UNSPECIFIED is an entry, as the server reads it.
domain::Direction ToDomainDirection(v1::ScanDirection direction);

// The last id of a resource name: 7 for "events/7", 3 for "events/7/sessions/3".
absl::StatusOr<int64_t> IdOf(absl::string_view name);

}  // namespace turnout::client

#endif  // TURNOUT_CLIENT_LIB_DOOR_CONVERT_H_
