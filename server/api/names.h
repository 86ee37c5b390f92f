// Resource names of the API (AIP-122): parsing with messages a person can act on, and formatting.
#ifndef TURNOUT_SERVER_API_NAMES_H_
#define TURNOUT_SERVER_API_NAMES_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace turnout::api {

struct ChildName {
  int64_t event_id = 0;
  int64_t id = 0;
};

// "events/{event}"; `field` names the request field in errors.
absl::StatusOr<int64_t> ParseEventName(absl::string_view field, absl::string_view name);
// "events/{event}/{collection}/{id}", e.g. collection "sessions".
absl::StatusOr<ChildName> ParseChildName(absl::string_view field, absl::string_view name,
                                         absl::string_view collection);
// "tokens/{token}"
absl::StatusOr<int64_t> ParseTokenName(absl::string_view field, absl::string_view name);

std::string EventName(int64_t event_id);
std::string ChildNameOf(int64_t event_id, absl::string_view collection, int64_t id);
std::string TokenName(int64_t token_id);

// A request's page_size: 0 means `default_size`, larger than `max_size` is capped (AIP-158).
absl::StatusOr<int> PageSize(int32_t requested, int default_size, int max_size);

// Page tokens are the last id of the previous page, opaque to clients.
absl::StatusOr<int64_t> ParsePageToken(absl::string_view token);
std::string PageTokenAfter(int64_t last_id);

}  // namespace turnout::api

#endif  // TURNOUT_SERVER_API_NAMES_H_
