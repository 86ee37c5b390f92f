// Output of turnoutctl: aligned tables, times in an event's time zone (tools/common/time_format.h),
// and the few resources it prints as "key: value" lines. Everything goes to stdout.
#ifndef TURNOUT_TOOLS_TURNOUTCTL_PRINT_H_
#define TURNOUT_TOOLS_TURNOUTCTL_PRINT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "tools/common/time_format.h"
#include "turnout/v1/admin_service.pb.h"
#include "turnout/v1/registration_service.pb.h"
#include "turnout/v1/resources.pb.h"

namespace turnout::tools {

using Table = std::vector<std::vector<std::string>>;

// Prints rows with aligned columns (by code points, for names like "José"); the first row is
// usually the header.
void PrintTable(const Table& rows);

// A capacity; "-" for 0, which means unlimited.
std::string Capacity(int64_t capacity);

// "spanish_interpretation,dietary".
std::string FlagNames(const google::protobuf::RepeatedField<int>& flags);

// "1: Legislative advocacy (Ginn House); 2: Workers' rights (Bishop House) [waitlisted]".
std::string Choices(const google::protobuf::RepeatedPtrField<v1::SessionChoice>& choices);

void PrintEvent(const v1::Event& event);
// A registration's confirmation: its name, status, ticket code and, when the answer carries it,
// the attendee's manage secret, which is shown this once (the server keeps only a hash).
Table ConfirmationRows(const v1::RegisterResponse& response);
// What the door volunteer sees, as "key: value" rows: status, message, name, flags, breakouts,
// first entry. `event_zone` is the event's time zone (Event.time_zone, see Zone()): the first entry
// reads as the clock at the venue, whatever zone the machine running the tool is set to.
Table ScanResultRows(const v1::ScanResult& result, absl::TimeZone event_zone);
// One row per checkpoint: registered, checked in, inside, capacity.
void PrintAttendance(const v1::Attendance& attendance);
void PrintKeys(const std::vector<v1::SigningKeyInfo>& keys);
// The audit log, oldest first; "(server)" for what the server did itself.
void PrintAuditEntries(const std::vector<v1::AuditEntry>& entries);

}  // namespace turnout::tools

#endif  // TURNOUT_TOOLS_TURNOUTCTL_PRINT_H_
