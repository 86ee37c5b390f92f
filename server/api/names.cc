#include "server/api/names.h"

#include <algorithm>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace turnout::api {
namespace {

constexpr size_t kMaxNameBytes = 200;

bool ParseId(absl::string_view text, int64_t* id) {
  if (text.empty() || text.size() > 18 || text[0] == '0') return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return absl::SimpleAtoi(text, id) && *id > 0;
}

absl::Status BadName(absl::string_view field, absl::string_view shape) {
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": must be a resource name like \"", shape, "\""));
}

}  // namespace

absl::StatusOr<int64_t> ParseEventName(absl::string_view field, absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": is required"));
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  int64_t id = 0;
  if (name.size() > kMaxNameBytes || parts.size() != 2 || parts[0] != "events" ||
      !ParseId(parts[1], &id)) {
    return BadName(field, "events/123");
  }
  return id;
}

absl::StatusOr<ChildName> ParseChildName(absl::string_view field, absl::string_view name,
                                         absl::string_view collection) {
  const std::string shape = absl::StrCat("events/1/", collection, "/2");
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": is required"));
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  ChildName out;
  if (name.size() > kMaxNameBytes || parts.size() != 4 || parts[0] != "events" ||
      parts[2] != collection || !ParseId(parts[1], &out.event_id) || !ParseId(parts[3], &out.id)) {
    return BadName(field, shape);
  }
  return out;
}

absl::StatusOr<int64_t> ParseTokenName(absl::string_view field, absl::string_view name) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  int64_t id = 0;
  if (name.size() > kMaxNameBytes || parts.size() != 2 || parts[0] != "tokens" ||
      !ParseId(parts[1], &id)) {
    return BadName(field, "tokens/7");
  }
  return id;
}

std::string EventName(int64_t event_id) { return absl::StrCat("events/", event_id); }

std::string ChildNameOf(int64_t event_id, absl::string_view collection, int64_t id) {
  return absl::StrCat("events/", event_id, "/", collection, "/", id);
}

std::string TokenName(int64_t token_id) { return absl::StrCat("tokens/", token_id); }

absl::StatusOr<int> PageSize(int32_t requested, int default_size, int max_size) {
  if (requested < 0) return absl::InvalidArgumentError("page_size: must not be negative");
  if (requested == 0) return default_size;
  return std::min<int>(requested, max_size);
}

absl::StatusOr<int64_t> ParsePageToken(absl::string_view token) {
  if (token.empty()) return 0;
  std::string decoded;
  int64_t id = 0;
  bool ok = token.size() <= 64 && absl::WebSafeBase64Unescape(token, &decoded);
  absl::string_view rest = decoded;
  if (!ok || !absl::ConsumePrefix(&rest, "after:") || !absl::SimpleAtoi(rest, &id) || id < 0) {
    return absl::InvalidArgumentError(
        "page_token: not a token this server gave; pass next_page_token from the previous page");
  }
  return id;
}

std::string PageTokenAfter(int64_t last_id) {
  return absl::WebSafeBase64Escape(absl::StrCat("after:", last_id));
}

}  // namespace turnout::api
