// Client-side helpers for the API's names: resource names ("events/{event}/sessions/{session}",
// AIP-122) and the short, case-insensitive names of enum values used on command lines and in roster
// CSV files ("door" for ROLE_DOOR, "spanish_interpretation" for
// ATTENTION_FLAG_SPANISH_INTERPRETATION).
//
// The server checks every name it receives; these helpers only let a client build names from what a
// person typed and give an early, precise error.
//
//   std::string session = Qualify("events/1", "sessions", "3");  // "events/1/sessions/3"
//   absl::StatusOr<v1::Role> role = EnumFromShortName<v1::Role>("door", "ROLE_");
#ifndef TURNOUT_CLIENT_LIB_NAMES_H_
#define TURNOUT_CLIENT_LIB_NAMES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/generated_enum_reflection.h"

namespace turnout::client {

// A parsed resource name: "events/{event_id}" or "events/{event_id}/{collection}/{id}".
struct ResourceName {
  std::string event_id;
  // "events" for an event; otherwise the child collection: "sessions", "registrations", ...
  std::string collection;
  std::string id;

  // "events/{event_id}": the event the resource belongs to.
  std::string Event() const;
};

// Parses an event name or the name of an event's child. InvalidArgument for anything else: other
// shapes, empty segments, or whitespace.
absl::StatusOr<ResourceName> ParseResourceName(absl::string_view name);

// Completes what a person typed: a bare id becomes "{parent}/{collection}/{id}" (or
// "{collection}/{id}" when `parent` is empty); anything containing '/' is returned as is, since it
// is already a full name.
std::string Qualify(absl::string_view parent, absl::string_view collection,
                    absl::string_view name_or_id);

// Parses the short name of an enum value: `text`, case-insensitively, after `prefix`
// ("door" → ROLE_DOOR with prefix "ROLE_"). The *_UNSPECIFIED value is never accepted. The error
// lists the accepted names.
template <typename Enum>
absl::StatusOr<Enum> EnumFromShortName(absl::string_view text, absl::string_view prefix);

// The short, lower-case name of an enum value: "door" for ROLE_DOOR with prefix "ROLE_".
template <typename Enum>
std::string EnumShortName(Enum value, absl::string_view prefix);

// Implementation details follow.

namespace names_internal {
absl::StatusOr<int> EnumFromShortName(const google::protobuf::EnumDescriptor& descriptor,
                                      absl::string_view text, absl::string_view prefix);
std::string EnumShortName(const google::protobuf::EnumDescriptor& descriptor, int value,
                          absl::string_view prefix);
}  // namespace names_internal

template <typename Enum>
absl::StatusOr<Enum> EnumFromShortName(absl::string_view text, absl::string_view prefix) {
  absl::StatusOr<int> value =
      names_internal::EnumFromShortName(*google::protobuf::GetEnumDescriptor<Enum>(), text, prefix);
  if (!value.ok()) return value.status();
  return static_cast<Enum>(*value);
}

template <typename Enum>
std::string EnumShortName(Enum value, absl::string_view prefix) {
  return names_internal::EnumShortName(*google::protobuf::GetEnumDescriptor<Enum>(),
                                       static_cast<int>(value), prefix);
}

}  // namespace turnout::client

#endif  // TURNOUT_CLIENT_LIB_NAMES_H_
