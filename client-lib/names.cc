// Resource names and enum short names; see names.h.
#include "client-lib/names.h"

#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"

namespace turnout::client {

std::string ResourceName::Event() const { return absl::StrCat("events/", event_id); }

absl::StatusOr<ResourceName> ParseResourceName(absl::string_view name) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  // "events/1/events/2" would read as the event "events/1": an event's children are never events.
  bool well_formed = (parts.size() == 2 || (parts.size() == 4 && parts[2] != "events")) &&
                     parts[0] == "events";
  for (absl::string_view part : parts) {
    bool has_space = absl::c_any_of(part, [](char c) { return absl::ascii_isspace(c); });
    if (part.empty() || has_space) well_formed = false;
  }
  if (!well_formed) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", name, "\" is not a resource name like \"events/1\" or \"events/1/sessions/3\""));
  }
  ResourceName parsed;
  parsed.event_id = std::string(parts[1]);
  parsed.collection = std::string(parts.size() == 2 ? parts[0] : parts[2]);
  parsed.id = std::string(parts.back());
  return parsed;
}

std::string Qualify(absl::string_view parent, absl::string_view collection,
                    absl::string_view name_or_id) {
  if (absl::StrContains(name_or_id, '/')) return std::string(name_or_id);
  if (parent.empty()) return absl::StrCat(collection, "/", name_or_id);
  return absl::StrCat(parent, "/", collection, "/", name_or_id);
}

namespace names_internal {

absl::StatusOr<int> EnumFromShortName(const google::protobuf::EnumDescriptor& descriptor,
                                      absl::string_view text, absl::string_view prefix) {
  std::string full = absl::StrCat(prefix, absl::AsciiStrToUpper(absl::StripAsciiWhitespace(text)));
  const google::protobuf::EnumValueDescriptor* value = descriptor.FindValueByName(full);
  if (value != nullptr && value->number() != 0) return value->number();
  std::vector<std::string> accepted;
  for (int i = 0; i < descriptor.value_count(); ++i) {
    if (descriptor.value(i)->number() == 0) continue;
    accepted.push_back(EnumShortName(descriptor, descriptor.value(i)->number(), prefix));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown value \"", text, "\"; expected one of: ", absl::StrJoin(accepted, ", ")));
}

std::string EnumShortName(const google::protobuf::EnumDescriptor& descriptor, int value,
                          absl::string_view prefix) {
  const google::protobuf::EnumValueDescriptor* found = descriptor.FindValueByNumber(value);
  if (found == nullptr) return absl::StrCat(value);
  absl::string_view name = found->name();
  absl::ConsumePrefix(&name, prefix);
  return absl::AsciiStrToLower(name);
}

}  // namespace names_internal
}  // namespace turnout::client
