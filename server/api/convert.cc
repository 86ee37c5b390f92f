#include "server/api/convert.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "server/api/names.h"
#include "server/domain/validation.h"

namespace turnout::api {
namespace {

const absl::Time kEarliest = absl::FromCivil(absl::CivilSecond(2000, 1, 1), absl::UTCTimeZone());
const absl::Time kLatest = absl::FromCivil(absl::CivilSecond(2100, 1, 1), absl::UTCTimeZone());
constexpr int kMaxAttentionFlags = 16;

}  // namespace

google::protobuf::Timestamp ToProtoTime(absl::Time t) {
  google::protobuf::Timestamp out;
  const int64_t ns = absl::ToUnixNanos(t);
  out.set_seconds(ns / 1000000000);
  out.set_nanos(static_cast<int32_t>(ns % 1000000000));
  if (out.nanos() < 0) {
    out.set_seconds(out.seconds() - 1);
    out.set_nanos(out.nanos() + 1000000000);
  }
  return out;
}

absl::Time FromProtoTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

absl::Status CheckTime(absl::string_view field, const google::protobuf::Timestamp& t,
                       bool has_value, bool required) {
  if (!has_value) {
    return required ? absl::InvalidArgumentError(absl::StrCat(field, ": is required"))
                    : absl::OkStatus();
  }
  const absl::Time at = FromProtoTime(t);
  if (t.nanos() < 0 || t.nanos() > 999999999 || at < kEarliest || at >= kLatest) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must be a time between 2000 and 2100"));
  }
  return absl::OkStatus();
}

absl::Status CheckMaskedFieldsSet(absl::string_view resource_field,
                                  const google::protobuf::Message& resource,
                                  const google::protobuf::FieldMask& mask) {
  const google::protobuf::Descriptor* descriptor = resource.GetDescriptor();
  const google::protobuf::Reflection* reflection = resource.GetReflection();
  for (const std::string& path : mask.paths()) {
    const google::protobuf::FieldDescriptor* field = descriptor->FindFieldByName(path);
    // Fields without presence (proto3 text, numbers, enums, booleans) cannot tell unset from their
    // zero value; the services check those values themselves.
    if (field == nullptr || !field->has_presence()) continue;
    if (!reflection->HasField(resource, field)) {
      return absl::InvalidArgumentError(absl::StrCat(
          resource_field, ".", path,
          ": is in update_mask but has no value; set it, or leave it out of the mask"));
    }
  }
  return absl::OkStatus();
}

v1::Event::State ToProto(domain::EventState state) {
  switch (state) {
    case domain::EventState::kDraft:
      return v1::Event::DRAFT;
    case domain::EventState::kPublished:
      return v1::Event::PUBLISHED;
    case domain::EventState::kCanceled:
      return v1::Event::CANCELED;
  }
  return v1::Event::STATE_UNSPECIFIED;
}

v1::Session::Kind ToProto(domain::SessionKind kind) {
  switch (kind) {
    case domain::SessionKind::kPlenary:
      return v1::Session::PLENARY;
    case domain::SessionKind::kBreakout:
      return v1::Session::BREAKOUT;
    case domain::SessionKind::kOther:
      return v1::Session::OTHER;
  }
  return v1::Session::KIND_UNSPECIFIED;
}

v1::SessionChoice::Status ToProto(domain::ChoiceStatus status) {
  switch (status) {
    case domain::ChoiceStatus::kConfirmed:
      return v1::SessionChoice::CONFIRMED;
    case domain::ChoiceStatus::kWaitlisted:
      return v1::SessionChoice::WAITLISTED;
  }
  return v1::SessionChoice::STATUS_UNSPECIFIED;
}

absl::StatusOr<domain::EventState> EventStateFromProto(absl::string_view field, int state) {
  switch (state) {
    case v1::Event::DRAFT:
      return domain::EventState::kDraft;
    case v1::Event::PUBLISHED:
      return domain::EventState::kPublished;
    case v1::Event::CANCELED:
      return domain::EventState::kCanceled;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": must be DRAFT, PUBLISHED or CANCELED"));
  }
}

absl::StatusOr<domain::SessionKind> SessionKindFromProto(absl::string_view field, int kind) {
  switch (kind) {
    case v1::Session::PLENARY:
      return domain::SessionKind::kPlenary;
    case v1::Session::BREAKOUT:
      return domain::SessionKind::kBreakout;
    case v1::Session::OTHER:
      return domain::SessionKind::kOther;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": must be PLENARY, BREAKOUT or OTHER"));
  }
}

void ToProto(const store::EventRecord& in, v1::Event* out) {
  out->set_name(EventName(in.id));
  out->set_title(in.title);
  out->set_venue(in.venue);
  out->set_time_zone(in.time_zone);
  *out->mutable_start_time() = ToProtoTime(in.start_time);
  *out->mutable_end_time() = ToProtoTime(in.end_time);
  *out->mutable_doors_open_time() = ToProtoTime(in.doors_open_time);
  out->set_capacity(in.capacity);
  out->set_state(ToProto(in.state));
  out->set_entrance_checkpoint(ChildNameOf(in.id, "checkpoints", in.entrance_checkpoint_id));
  out->set_allow_reentry(in.allow_reentry);
  *out->mutable_create_time() = ToProtoTime(in.create_time);
  *out->mutable_update_time() = ToProtoTime(in.update_time);
  out->set_confirmed_count(in.confirmed_count);
  out->set_waitlisted_count(in.waitlisted_count);
  if (in.purge_time) *out->mutable_purge_time() = ToProtoTime(*in.purge_time);
}

void ToProto(const store::SessionRecord& in, v1::Session* out) {
  out->set_name(ChildNameOf(in.event_id, "sessions", in.id));
  out->set_title(in.title);
  out->set_kind(ToProto(in.kind));
  out->set_track(in.track);
  out->set_room(in.room);
  out->set_round(in.round);
  *out->mutable_start_time() = ToProtoTime(in.start_time);
  *out->mutable_end_time() = ToProtoTime(in.end_time);
  out->set_capacity(in.capacity);
  out->set_requires_selection(in.requires_selection);
  out->set_checkpoint(ChildNameOf(in.event_id, "checkpoints", in.checkpoint_id));
  out->set_confirmed_count(in.confirmed_count);
  out->set_waitlisted_count(in.waitlisted_count);
  out->set_allow_reentry(in.allow_reentry);
}

void ToProto(const store::CheckpointRecord& in, v1::Checkpoint* out) {
  out->set_name(ChildNameOf(in.event_id, "checkpoints", in.id));
  out->set_title(in.title);
  if (in.session_id) out->set_session(ChildNameOf(in.event_id, "sessions", *in.session_id));
  out->set_capacity(in.capacity);
  out->set_requires_selection(in.requires_selection);
  out->set_allow_reentry(in.allow_reentry);
  *out->mutable_open_time() = ToProtoTime(in.open_time);
  *out->mutable_close_time() = ToProtoTime(in.close_time);
  out->set_room(in.room);
}

void ToProto(const store::ChoiceRecord& in, int64_t event_id, v1::SessionChoice* out) {
  out->set_session(ChildNameOf(event_id, "sessions", in.session_id));
  out->set_round(in.round);
  out->set_status(static_cast<v1::SessionChoice::Status>(in.status));
  out->set_title(in.title);
  out->set_room(in.room);
}

void ToProto(const store::RegistrationRecord& in, bool with_contact, v1::Registration* out) {
  out->set_name(ChildNameOf(in.event_id, "registrations", in.id));
  out->set_display_name(in.display_name);
  if (with_contact) {
    out->set_email(in.email);
    out->set_phone(in.phone);
  }
  out->set_preferred_language(in.preferred_language);
  for (int flag : in.attention_flags)
    out->add_attention_flags(static_cast<v1::AttentionFlag>(flag));
  for (const store::ChoiceRecord& c : in.choices)
    ToProto(c, in.event_id, out->add_session_choices());
  out->set_status(static_cast<v1::Registration::Status>(in.status));
  out->set_source(static_cast<v1::Registration::Source>(in.source));
  *out->mutable_create_time() = ToProtoTime(in.create_time);
  *out->mutable_update_time() = ToProtoTime(in.update_time);
}

void ToProto(const store::TicketRecord& in, v1::Ticket* out) {
  out->set_registration(ChildNameOf(in.event_id, "registrations", in.registration_id));
  out->set_code(in.code);
  out->set_key_id(in.key_id);
  *out->mutable_issue_time() = ToProtoTime(in.issue_time);
  *out->mutable_expire_time() = ToProtoTime(in.expire_time);
}

void ToProto(const store::CheckpointCountsRecord& in, v1::CheckpointAttendance* out) {
  out->set_checkpoint(ChildNameOf(in.checkpoint.event_id, "checkpoints", in.checkpoint.id));
  out->set_title(in.checkpoint.title);
  if (in.checkpoint.session_id) {
    out->set_session(ChildNameOf(in.checkpoint.event_id, "sessions", *in.checkpoint.session_id));
  }
  out->set_registered(in.registered);
  out->set_checked_in(in.checked_in);
  out->set_inside(in.inside);
  out->set_capacity(in.checkpoint.capacity);
  out->set_arrivals_last_minute(in.arrivals_last_minute);
}

v1::ScanResult::Status ToProto(domain::ScanStatus status) {
  // The domain's numbers are the API's (scan_rules.h).
  return static_cast<v1::ScanResult::Status>(domain::Stored(status));
}

absl::StatusOr<std::vector<int>> CheckAttentionFlags(
    const google::protobuf::RepeatedField<int>& flags) {
  std::set<int> seen;
  if (flags.size() > kMaxAttentionFlags) {
    return absl::InvalidArgumentError("attention_flags: too many flags");
  }
  for (int flag : flags) {
    if (flag == v1::ATTENTION_FLAG_UNSPECIFIED || !v1::AttentionFlag_IsValid(flag)) {
      return absl::InvalidArgumentError(
          absl::StrCat("attention_flags: ", flag, " is not a known attention flag"));
    }
    seen.insert(flag);
  }
  return std::vector<int>(seen.begin(), seen.end());
}

absl::Status CheckRegistrationFields(const v1::Registration& r) {
  for (absl::Status s : {
           domain::CheckText("display_name", r.display_name(), domain::kMaxNameBytes, true),
           domain::CheckEmail("email", r.email()),
           domain::CheckPhone("phone", r.phone()),
           domain::CheckLanguage("preferred_language", r.preferred_language()),
       }) {
    if (!s.ok()) return s;
  }
  return CheckAttentionFlags(r.attention_flags()).status();
}

}  // namespace turnout::api
