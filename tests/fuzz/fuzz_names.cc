// Resource names and page tokens (server/api/names.h, client-lib/names.h): any text parses or gets
// INVALID_ARGUMENT; a name that parses is the one its parts format to (one spelling per resource,
// so "events/01" or "events/+1" are not another name of events/1); every name the server accepts
// the client accepts with the same parts; and a page token round-trips its key.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client-lib/names.h"
#include "server/api/names.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace api = turnout::api;
namespace client = turnout::client;

constexpr absl::string_view kCollections[] = {"sessions", "registrations", "checkpoints"};
constexpr absl::string_view kList = "events/3/sessions";

template <typename T>
void CheckRefusal(const absl::StatusOr<T>& parsed, absl::string_view what) {
  if (parsed.ok()) return;
  FUZZ_CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument, what.data());
}

void CheckResourceNames(absl::string_view text) {
  absl::StatusOr<client::ResourceName> on_client = client::ParseResourceName(text);
  CheckRefusal(on_client, "a bad name on the client is not INVALID_ARGUMENT");
  if (on_client.ok()) {
    const std::string rebuilt =
        on_client->collection == "events"
            ? on_client->Event()
            : absl::StrCat(on_client->Event(), "/", on_client->collection, "/", on_client->id);
    FUZZ_CHECK(rebuilt == text, "the client's parts of a name do not spell the name");
  }

  absl::StatusOr<int64_t> event = api::ParseEventName("parent", text);
  CheckRefusal(event, "a bad event name is not INVALID_ARGUMENT");
  if (event.ok()) {
    FUZZ_CHECK(*event > 0, "an event id that is not positive");
    FUZZ_CHECK(api::EventName(*event) == text, "an event name has a second spelling");
    FUZZ_CHECK(on_client.ok() && on_client->collection == "events" &&
                   on_client->event_id == absl::StrCat(*event),
               "the client refuses or misreads an event name the server accepts");
  }
  for (absl::string_view collection : kCollections) {
    absl::StatusOr<api::ChildName> child = api::ParseChildName("name", text, collection);
    CheckRefusal(child, "a bad child name is not INVALID_ARGUMENT");
    if (!child.ok()) continue;
    FUZZ_CHECK(child->event_id > 0 && child->id > 0, "a child id that is not positive");
    FUZZ_CHECK(api::ChildNameOf(child->event_id, collection, child->id) == text,
               "a child name has a second spelling");
    FUZZ_CHECK(on_client.ok() && on_client->collection == collection &&
                   on_client->event_id == absl::StrCat(child->event_id) &&
                   on_client->id == absl::StrCat(child->id),
               "the client refuses or misreads a child name the server accepts");
  }
  absl::StatusOr<int64_t> token = api::ParseTokenName("name", text);
  CheckRefusal(token, "a bad token name is not INVALID_ARGUMENT");
  if (token.ok()) {
    FUZZ_CHECK(*token > 0 && api::TokenName(*token) == text, "a token name has a second spelling");
  }
}

void CheckPageTokens(const uint8_t* data, size_t size, absl::string_view text) {
  absl::StatusOr<api::PageKey> key = api::ParsePageToken(kList, text);
  CheckRefusal(key, "a bad page token is not INVALID_ARGUMENT");
  if (key.ok() && !text.empty()) {
    FUZZ_CHECK(key->id > 0, "a page token with an id that is not positive");
    absl::StatusOr<api::PageKey> again =
        api::ParsePageToken(kList, api::PageTokenAfter(kList, *key));
    FUZZ_CHECK(again.ok() && again->id == key->id && again->time == key->time,
               "a page token's key does not survive writing it again");
    FUZZ_CHECK(!api::ParsePageToken("events/4/sessions", text).ok(),
               "a page token is accepted for another list");
  }

  // A token the server writes for any key it pages by reads back as that key.
  if (size < 16) return;
  uint64_t id_bits = 0;
  uint64_t micros_bits = 0;
  for (int i = 0; i < 8; ++i) id_bits = id_bits << 8 | data[i];
  for (int i = 8; i < 16; ++i) micros_bits = micros_bits << 8 | data[i];
  api::PageKey written;
  written.id = static_cast<int64_t>(id_bits >> 1);  // any positive id
  if (written.id == 0) return;
  // Times within the bound the server pages by (about ±285 years around 1970).
  written.time = absl::FromUnixMicros(static_cast<int64_t>(micros_bits) % (int64_t{1} << 53));
  absl::StatusOr<api::PageKey> read =
      api::ParsePageToken(kList, api::PageTokenAfter(kList, written));
  FUZZ_CHECK(read.ok() && read->id == written.id && read->time == written.time,
             "a page token the server wrote does not read back");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  CheckResourceNames(text);
  CheckPageTokens(data, size, text);
  return 0;
}
