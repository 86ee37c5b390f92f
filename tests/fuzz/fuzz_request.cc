// Requests as the server receives them: the input's first byte picks a request type and the rest is
// parsed as that message, exactly as gRPC parses the wire bytes; then the checks of server/api that
// the services run on it before anything is read or written (names, page tokens, times, update
// masks, attendee fields, codes). Every check answers OK or INVALID_ARGUMENT with a message in
// valid UTF-8 that starts with the field it is about, and what passes is what the store may take.
#include <google/protobuf/stubs/logging.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "server/api/convert.h"
#include "server/api/names.h"
#include "server/domain/ticket_code.h"
#include "server/domain/validation.h"
#include "tests/fuzz/fuzz_check.h"
#include "turnout/v1/checkin_service.pb.h"
#include "turnout/v1/event_service.pb.h"
#include "turnout/v1/registration_service.pb.h"

namespace {

namespace api = turnout::api;
namespace domain = turnout::domain;
namespace v1 = turnout::v1;

// The answer to one check: refusals are INVALID_ARGUMENT, name the field first, and are text.
void CheckAnswer(const absl::Status& status) {
  if (status.ok()) return;
  FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument,
             "a request check answered other than INVALID_ARGUMENT");
  const absl::string_view message = status.message();
  FUZZ_CHECK(domain::IsValidUtf8(message), "an error message is not valid UTF-8");
  const size_t colon = message.find(": ");
  FUZZ_CHECK(colon != absl::string_view::npos && colon > 0 &&
                 message.substr(0, colon).find(' ') == absl::string_view::npos,
             "an error message does not start with the field it is about");
}

template <typename T>
bool Passes(const absl::StatusOr<T>& result) {
  CheckAnswer(result.status());
  return result.ok();
}

bool Passes(const absl::Status& status) {
  CheckAnswer(status);
  return status.ok();
}

void CheckRegistration(const v1::Registration& r) {
  if (!Passes(api::CheckRegistrationFields(r))) return;
  FUZZ_CHECK(domain::CheckText("display_name", r.display_name(), domain::kMaxNameBytes, true).ok(),
             "registration fields passed with a bad display name");
  absl::StatusOr<std::vector<int>> flags = api::CheckAttentionFlags(r.attention_flags());
  FUZZ_CHECK(flags.ok(), "registration fields passed with bad attention flags");
  for (size_t i = 0; i < flags->size(); ++i) {
    FUZZ_CHECK(v1::AttentionFlag_IsValid((*flags)[i]) && (*flags)[i] != 0,
               "an unknown attention flag passed");
    FUZZ_CHECK(i == 0 || (*flags)[i - 1] < (*flags)[i], "attention flags not unique and sorted");
  }
  for (const v1::SessionChoice& choice : r.session_choices()) {
    absl::StatusOr<api::ChildName> session =
        api::ParseChildName("registration.session_choices", choice.session(), "sessions");
    if (Passes(session)) FUZZ_CHECK(session->event_id > 0, "a session of no event");
  }
}

void CheckRegister(const v1::RegisterRequest& req) {
  if (!Passes(api::ParseEventName("parent", req.parent()))) return;
  Passes(domain::CheckText("request_id", req.request_id(), domain::kMaxRequestIdBytes, false));
  CheckRegistration(req.registration());
}

void CheckImportRow(const v1::ImportRegistrationsRequest& row) {
  if (!Passes(api::ParseEventName("parent", row.parent()))) return;
  Passes(domain::CheckText("request_id", row.request_id(), domain::kMaxRequestIdBytes, false));
  CheckRegistration(row.registration());
}

void CheckScan(const v1::ScanRequest& req) {
  if (!Passes(api::ParseEventName("event", req.event()))) return;
  if (!req.checkpoint().empty()) {
    Passes(api::ParseChildName("checkpoint", req.checkpoint(), "checkpoints"));
  }
  if (!req.registration().empty()) {
    Passes(api::ParseChildName("registration", req.registration(), "registrations"));
  }
  Passes(
      domain::CheckText("client_scan_id", req.client_scan_id(), domain::kMaxRequestIdBytes, true));
  Passes(domain::CheckLanguage("language", req.language()));
  if (Passes(api::CheckTime("scan_time", req.scan_time(), req.has_scan_time(), false)) &&
      req.has_scan_time()) {
    const absl::Time at = api::FromProtoTime(req.scan_time());
    FUZZ_CHECK(at >= absl::FromCivil(absl::CivilSecond(2000, 1, 1), absl::UTCTimeZone()) &&
                   at < absl::FromCivil(absl::CivilSecond(2100, 1, 1), absl::UTCTimeZone()),
               "a scan time outside 2000-2100 passed");
  }
  if (req.code().size() <= domain::kMaxCodeBytes) {
    domain::VerifyTicketCode(req.code(), domain::KeyRing());
  }
}

void CheckUpdateEvent(const v1::UpdateEventRequest& req) {
  const v1::Event& e = req.event();
  if (!Passes(api::ParseEventName("event.name", e.name()))) return;
  Passes(api::CheckTime("event.start_time", e.start_time(), e.has_start_time(), false));
  Passes(api::CheckTime("event.end_time", e.end_time(), e.has_end_time(), false));
  Passes(
      api::CheckTime("event.doors_open_time", e.doors_open_time(), e.has_doors_open_time(), false));
  Passes(domain::CheckText("event.title", e.title(), domain::kMaxTitleBytes, false));
  if (!e.time_zone().empty()) Passes(domain::CheckTimeZone("event.time_zone", e.time_zone()));
  if (Passes(api::CheckMaskedFieldsSet("event", e, req.update_mask()))) {
    const google::protobuf::Descriptor* descriptor = e.GetDescriptor();
    for (const std::string& path : req.update_mask().paths()) {
      const google::protobuf::FieldDescriptor* field = descriptor->FindFieldByName(path);
      FUZZ_CHECK(
          field == nullptr || !field->has_presence() || e.GetReflection()->HasField(e, field),
          "a masked timestamp without a value passed");
    }
  }
}

void CheckListRegistrations(const v1::ListRegistrationsRequest& req) {
  if (!Passes(api::ParseEventName("parent", req.parent()))) return;
  absl::StatusOr<int> size = api::PageSize(req.page_size(), 50, 100);
  if (Passes(size)) FUZZ_CHECK(*size >= 1 && *size <= 100, "a page size out of bounds");
  Passes(api::ParsePageToken(absl::StrCat(req.parent(), "/registrations"), req.page_token()));
  const std::string prefix = domain::NormalizeForSearch(req.name_prefix());
  FUZZ_CHECK(domain::IsValidUtf8(prefix), "a search prefix that is not valid UTF-8");
}

template <typename Request>
bool Parse(const uint8_t* data, size_t size, Request* req) {
  return req->ParseFromArray(data, static_cast<int>(size));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Bytes that are not a message make protobuf log an error per input; the answer is enough.
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t kind = data[0] % 5;
  ++data, --size;
  switch (kind) {
    case 0: {
      v1::RegisterRequest req;
      if (Parse(data, size, &req)) CheckRegister(req);
      break;
    }
    case 1: {
      v1::ImportRegistrationsRequest req;
      if (Parse(data, size, &req)) CheckImportRow(req);
      break;
    }
    case 2: {
      v1::ScanRequest req;
      if (Parse(data, size, &req)) CheckScan(req);
      break;
    }
    case 3: {
      v1::UpdateEventRequest req;
      if (Parse(data, size, &req)) CheckUpdateEvent(req);
      break;
    }
    case 4: {
      v1::ListRegistrationsRequest req;
      if (Parse(data, size, &req)) CheckListRegistrations(req);
      break;
    }
  }
  return 0;
}
