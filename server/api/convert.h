// Translation between the store's records and the turnout.v1 messages, and the checks shared by
// the services for the fields the API takes in.
#ifndef TURNOUT_SERVER_API_CONVERT_H_
#define TURNOUT_SERVER_API_CONVERT_H_

#include <google/protobuf/field_mask.pb.h>
#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>

#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/domain/program.h"
#include "server/domain/scan_rules.h"
#include "server/store/records.h"
#include "turnout/v1/resources.pb.h"

namespace turnout::api {

google::protobuf::Timestamp ToProtoTime(absl::Time t);
absl::Time FromProtoTime(const google::protobuf::Timestamp& t);
// A set timestamp within years 2000-2100 with valid nanos; `required` refuses an unset one.
absl::Status CheckTime(absl::string_view field, const google::protobuf::Timestamp& t,
                       bool has_value, bool required);
// Each field that `mask` names and that can be unset (a timestamp) must be set in `resource`:
// proto3 reads an unset timestamp as 1970, which an update would otherwise apply silently (doors
// open since 1970). `resource_field` prefixes the field in the error: "event.doors_open_time: is
// in update_mask but has no value; ...". Call it once the paths that may not change are refused.
absl::Status CheckMaskedFieldsSet(absl::string_view resource_field,
                                  const google::protobuf::Message& resource,
                                  const google::protobuf::FieldMask& mask);

// The program's enums in the API, by name (server/domain/program.h).
v1::Event::State ToProto(domain::EventState state);
v1::Session::Kind ToProto(domain::SessionKind kind);
v1::SessionChoice::Status ToProto(domain::ChoiceStatus status);
// INVALID_ARGUMENT "<field>: must be DRAFT, PUBLISHED or CANCELED" for any other value.
absl::StatusOr<domain::EventState> EventStateFromProto(absl::string_view field, int state);
// INVALID_ARGUMENT "<field>: must be PLENARY, BREAKOUT or OTHER" for any other value.
absl::StatusOr<domain::SessionKind> SessionKindFromProto(absl::string_view field, int kind);

void ToProto(const store::EventRecord& in, v1::Event* out);
void ToProto(const store::SessionRecord& in, v1::Session* out);
void ToProto(const store::CheckpointRecord& in, v1::Checkpoint* out);
void ToProto(const store::ChoiceRecord& in, int64_t event_id, v1::SessionChoice* out);
// Contact fields are copied only when `with_contact` (ORGANIZER/ADMIN or the attendee).
void ToProto(const store::RegistrationRecord& in, bool with_contact, v1::Registration* out);
void ToProto(const store::TicketRecord& in, v1::Ticket* out);
void ToProto(const store::CheckpointCountsRecord& in, v1::CheckpointAttendance* out);

v1::ScanResult::Status ToProto(domain::ScanStatus status);

// Attention flags of a request: known values only, each once.
absl::StatusOr<std::vector<int>> CheckAttentionFlags(
    const google::protobuf::RepeatedField<int>& flags);

// The attendee fields of a registration request: display name, contact, language, flags.
absl::Status CheckRegistrationFields(const v1::Registration& registration);

}  // namespace turnout::api

#endif  // TURNOUT_SERVER_API_CONVERT_H_
