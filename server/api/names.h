// Resource names of the API (AIP-122): parsing with messages a person can act on, and formatting.
#ifndef TURNOUT_SERVER_API_NAMES_H_
#define TURNOUT_SERVER_API_NAMES_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

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

// Where the next page of a list starts: the whole sort key of the previous page's last row, so that
// a list pages by exactly what it sorts by. Lists in id order use `id` alone; ListSessions, in
// (start_time, id) order, uses both. The first page is PageKey{} (id 0).
struct PageKey {
  int64_t id = 0;
  absl::Time time = absl::UnixEpoch();
};

// Page tokens carry a PageKey and the list it belongs to, e.g. "events/3/sessions", web-safe
// base64 so that clients treat them as opaque (AIP-158). An empty token is the first page; a token
// of another list, or one this server did not make, is INVALID_ARGUMENT.
absl::StatusOr<PageKey> ParsePageToken(absl::string_view list, absl::string_view token);
std::string PageTokenAfter(absl::string_view list, const PageKey& last);

}  // namespace turnout::api

#endif  // TURNOUT_SERVER_API_NAMES_H_
