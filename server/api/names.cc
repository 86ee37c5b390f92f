#include "server/api/names.h"

#include <algorithm>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace turnout::api {
namespace {

constexpr size_t kMaxNameBytes = 200;
// A page token is "<list>|<time in microseconds>|<id>" in base64: a few dozen bytes. Times are
// bounded so that a forged token cannot make the database's timestamp arithmetic overflow.
constexpr size_t kMaxPageTokenBytes = 200;
constexpr int64_t kMaxPageTokenMicros = int64_t{1} << 53;  // about 285 years from 1970

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

absl::StatusOr<PageKey> ParsePageToken(absl::string_view list, absl::string_view token) {
  if (token.empty()) return PageKey{};
  std::string decoded;
  std::vector<absl::string_view> parts;
  int64_t micros = 0;
  PageKey key;
  if (token.size() <= kMaxPageTokenBytes && absl::WebSafeBase64Unescape(token, &decoded)) {
    parts = absl::StrSplit(decoded, '|');
  }
  if (parts.size() != 3 || parts[0] != list || !absl::SimpleAtoi(parts[1], &micros) ||
      micros < -kMaxPageTokenMicros || micros > kMaxPageTokenMicros ||
      !absl::SimpleAtoi(parts[2], &key.id) || key.id <= 0) {
    return absl::InvalidArgumentError(
        "page_token: not a token this server gave for this list; pass next_page_token from the "
        "previous page of the same request, or no token for the first page");
  }
  key.time = absl::FromUnixMicros(micros);
  return key;
}

std::string PageTokenAfter(absl::string_view list, const PageKey& last) {
  return absl::WebSafeBase64Escape(
      absl::StrCat(list, "|", absl::ToUnixMicros(last.time), "|", last.id));
}

}  // namespace turnout::api
