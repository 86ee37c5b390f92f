// CheckinService: the door. Online scans, offline bundles and uploads, annulment, search and
// walk-ins.
#include <algorithm>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/api/convert.h"
#include "server/api/names.h"
#include "server/api/offline_bundle.h"
#include "server/api/scan_batcher.h"
#include "server/api/server_metrics.h"
#include "server/api/services.h"
#include "server/domain/validation.h"
#include "server/store/bundle_store.h"
#include "server/store/event_store.h"
#include "server/store/registration_store.h"
#include "server/store/scan_store.h"
#include "server/util/status_macros.h"

namespace turnout::api {
namespace {

using store::PgScanStore;

constexpr absl::Duration kAnnulWindow = absl::Minutes(15);
constexpr int kMaxSearchResults = 10;
constexpr size_t kMinSearchChars = 3;
constexpr int kMaxUploadScans = 1000;

const std::initializer_list<Role> kDoorRoles = {Role::kAdmin, Role::kOrganizer, Role::kDoor};

// The code of a scan, and the trace a refusal keeps of it instead of its text: a volunteer may
// scan a driver's licence, whose barcode holds a name and an address (docs/design.md, "Refused
// scans"). The digest tells repeats of one unreadable thing apart without storing it.
void SetCode(const store::DataKey& key, absl::string_view code, store::ScanInput& in) {
  in.code = std::string(code);
  in.code_hash = key.Digest("refused scan code", absl::StripAsciiWhitespace(code));
  in.code_length = static_cast<int32_t>(code.size());
  in.code_header = domain::TicketCodeHeader(code);
}

absl::StatusOr<int64_t> ParseCheckpoint(absl::string_view name, int64_t event_id) {
  if (name.empty()) return 0;  // the entrance
  ASSIGN_OR_RETURN(ChildName cp, ParseChildName("checkpoint", name, "checkpoints"));
  if (cp.event_id != event_id) {
    return absl::InvalidArgumentError("checkpoint: belongs to another event than `event`");
  }
  return cp.id;
}

absl::StatusOr<domain::Direction> ParseDirection(v1::ScanDirection d) {
  switch (d) {
    case v1::SCAN_DIRECTION_UNSPECIFIED:
    case v1::SCAN_DIRECTION_ENTRY:
      return domain::Direction::kEntry;
    case v1::SCAN_DIRECTION_EXIT:
      return domain::Direction::kExit;
    default:
      return absl::InvalidArgumentError("direction: must be ENTRY or EXIT");
  }
}

absl::Status CheckScanIdAndLanguage(const std::string& client_scan_id,
                                    const std::string& language) {
  if (client_scan_id.empty()) {
    return absl::InvalidArgumentError(
        "client_scan_id: is required (a UUID per scan), so a retry never counts twice");
  }
  RETURN_IF_ERROR(
      domain::CheckText("client_scan_id", client_scan_id, domain::kMaxRequestIdBytes, true));
  return domain::CheckLanguage("language", language);
}

// Verifies a code against the loaded keys, reloading them once if the code names a key this
// replica has not seen (another replica rotated).
absl::StatusOr<domain::VerifiedCode> Verify(const ServiceDeps& deps, const Call& call,
                                            absl::string_view code) {
  domain::VerifiedCode verified = domain::VerifyTicketCode(code, deps.keys->Ring());
  if (verified.check == domain::CodeCheck::kUnknownKey) {
    RETURN_IF_ERROR(
        call.Transaction([&](pqxx::work& txn) { return deps.keys->Reload(txn, *deps.data_key, deps.clock->Now()); }));
    verified = domain::VerifyTicketCode(code, deps.keys->Ring());
  }
  return verified;
}

void FillResult(const store::ScanOutcome& out, int64_t event_id, const std::string& language,
                absl::Time now, v1::ScanResult* result) {
  result->Clear();
  result->set_status(ToProto(out.status));
  result->set_message(domain::ScanMessage(out.status, language));
  result->set_scan(ChildNameOf(event_id, "scans", out.scan_id));
  result->set_replayed(out.replayed);
  *result->mutable_server_time() = ToProtoTime(now);
  if (out.registration && out.status != domain::ScanStatus::kWrongEvent) {
    const store::RegistrationRecord& r = *out.registration;
    result->set_registration(ChildNameOf(event_id, "registrations", r.id));
    result->set_display_name(r.display_name);
    result->set_preferred_language(r.preferred_language);
    for (int f : r.attention_flags) result->add_attention_flags(static_cast<v1::AttentionFlag>(f));
    for (const store::ChoiceRecord& c : r.choices)
      ToProto(c, event_id, result->add_session_choices());
  }
  if (out.first_entry_time) {
    *result->mutable_first_entry_time() = ToProtoTime(*out.first_entry_time);
    result->set_first_entry_checkpoint(ChildNameOf(event_id, "checkpoints", out.checkpoint_id));
  }
}

// What makes two requests with one client_scan_id the same scan: what was scanned (the code, or
// the registration admitted by name) and the direction. The checkpoint is compared by the store.
std::string ScanRequestDigest(const store::DataKey& key, const store::ScanInput& in,
                              absl::string_view code) {
  const std::string scanned = in.registration_id != 0
                                  ? absl::StrCat("registration:", in.registration_id)
                                  : absl::StrCat("code:", absl::StripAsciiWhitespace(code));
  return key.Digest("scan request",
                    absl::StrCat(in.direction == domain::Direction::kExit ? "exit " : "entry ",
                                 scanned));
}

// A scan's time decides its window and its place in the canonical order: a door whose clock runs
// ahead would reorder everyone else's scans, so it is told to fix its clock.
absl::Status CheckScanTime(absl::Time scan_time, absl::Time now) {
  if (scan_time - now > domain::kMaxClockAhead) {
    return absl::InvalidArgumentError(absl::StrCat(
        "scan_time: is ", absl::FormatDuration(absl::Trunc(scan_time - now, absl::Seconds(1))),
        " ahead of the server's clock (at most ", absl::FormatDuration(domain::kMaxClockAhead),
        " is allowed); set this device's clock, or send no scan_time for a scan made now"));
  }
  return absl::OkStatus();
}

// One scan of an upload, checked and verified; an error here is answered on the scan's row.
absl::StatusOr<store::ScanInput> UploadedScanInput(const ServiceDeps& deps, const Call& call,
                                                   int64_t event_id, const v1::OfflineScan& offline,
                                                   absl::Time now) {
  const v1::ScanRequest& scan = offline.scan();
  if (!scan.event().empty() && scan.event() != EventName(event_id)) {
    return absl::InvalidArgumentError("scan.event: differs from the upload's event");
  }
  store::ScanInput in;
  in.event_id = event_id;
  in.device_id = call.principal.token_id;
  in.offline = true;
  ASSIGN_OR_RETURN(in.checkpoint_id, ParseCheckpoint(scan.checkpoint(), event_id));
  ASSIGN_OR_RETURN(in.direction, ParseDirection(scan.direction()));
  RETURN_IF_ERROR(CheckScanIdAndLanguage(scan.client_scan_id(), scan.language()));
  in.client_scan_id = scan.client_scan_id();
  if (!scan.has_scan_time()) {
    return absl::InvalidArgumentError("scan.scan_time: an offline scan must say when it was made");
  }
  RETURN_IF_ERROR(CheckTime("scan.scan_time", scan.scan_time(), true, true));
  in.scanned_at = FromProtoTime(scan.scan_time());
  RETURN_IF_ERROR(CheckScanTime(in.scanned_at, now));
  in.received_at = now;
  if (!v1::ScanResult::Status_IsValid(offline.device_status())) {
    return absl::InvalidArgumentError("device_status: is not a ScanResult status");
  }
  in.device_status = offline.device_status();
  if (!scan.registration().empty()) {
    return absl::InvalidArgumentError(
        "scan.registration: offline scans carry the code; admit by name online");
  }
  if (scan.code().empty()) return absl::InvalidArgumentError("scan.code: is required");
  if (scan.code().size() > domain::kMaxCodeBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("scan.code: at most ", domain::kMaxCodeBytes, " bytes; this is not a ticket"));
  }
  SetCode(*deps.data_key, scan.code(), in);
  ASSIGN_OR_RETURN(in.verified, Verify(deps, call, scan.code()));
  in.request_digest = ScanRequestDigest(*deps.data_key, in, scan.code());
  return in;
}

// turnout_scans_total and turnout_scan_replays_total for one decided scan.
void CountScan(ServerMetrics* metrics, absl::string_view source, const store::ScanOutcome& out) {
  if (metrics == nullptr) return;
  if (out.replayed) {
    metrics->scan_replays.Add({source});
    return;
  }
  metrics->scans.Add(
      {source, out.at_session ? "session" : "entrance", domain::ScanStatusName(out.status)});
}

bool Accepted(domain::ScanStatus s) {
  return s == domain::ScanStatus::kAdmitted || s == domain::ScanStatus::kExitRecorded;
}

}  // namespace

ServerUnaryReactor* CheckinServiceImpl::Scan(CallbackServerContext* ctx, const v1::ScanRequest* req,
                                             v1::ScanResult* resp) {
  return RunUnary(ctx, deps_, [this, req, resp](Call& call) -> absl::Status {
    RETURN_IF_ERROR(call.principal.Require(kDoorRoles));
    ASSIGN_OR_RETURN(int64_t event_id, ParseEventName("event", req->event()));
    RETURN_IF_ERROR(call.principal.Require(kDoorRoles, event_id));
    store::ScanInput in;
    in.event_id = event_id;
    in.device_id = call.principal.token_id;
    ASSIGN_OR_RETURN(in.checkpoint_id, ParseCheckpoint(req->checkpoint(), event_id));
    ASSIGN_OR_RETURN(in.direction, ParseDirection(req->direction()));
    RETURN_IF_ERROR(CheckScanIdAndLanguage(req->client_scan_id(), req->language()));
    in.client_scan_id = req->client_scan_id();
    RETURN_IF_ERROR(CheckTime("scan_time", req->scan_time(), req->has_scan_time(), false));
    const absl::Time now = deps_.clock->Now();
    in.scanned_at = req->has_scan_time() ? FromProtoTime(req->scan_time()) : now;
    in.scanned_now = !req->has_scan_time();
    in.received_at = now;
    RETURN_IF_ERROR(CheckScanTime(in.scanned_at, now));
    if (!req->registration().empty()) {
      if (!req->code().empty()) {
        return absl::InvalidArgumentError("send either code or registration, not both");
      }
      ASSIGN_OR_RETURN(ChildName reg,
                       ParseChildName("registration", req->registration(), "registrations"));
      if (reg.event_id != event_id) {
        return absl::InvalidArgumentError("registration: belongs to another event than `event`");
      }
      in.registration_id = reg.id;
    } else {
      if (req->code().empty()) {
        return absl::InvalidArgumentError("code: is required (or registration, to admit by name)");
      }
      if (req->code().size() > domain::kMaxCodeBytes) {
        return absl::InvalidArgumentError(
            absl::StrCat("code: at most ", domain::kMaxCodeBytes, " bytes; this is not a ticket"));
      }
      SetCode(*deps_.data_key, req->code(), in);
      ASSIGN_OR_RETURN(in.verified, Verify(deps_, call, req->code()));
    }
    in.request_digest = ScanRequestDigest(*deps_.data_key, in, req->code());
    // Committed together with the scans of other doors waiting at the same moment.
    call.deferred = true;
    deps_.scans->Submit(std::move(in), [this, req, resp, event_id, now, finish = call.finish](
                                           absl::StatusOr<store::ScanOutcome> out) {
      if (!out.ok()) {
        finish(out.status());
        return;
      }
      FillResult(*out, event_id, req->language(), now, resp);
      CountScan(deps_.metrics, "online", *out);
      if (Accepted(out->status) && !out->replayed) deps_.on_counts_changed(event_id);
      finish(absl::OkStatus());
    });
    return absl::OkStatus();
  });
}

ServerUnaryReactor* CheckinServiceImpl::UploadScans(CallbackServerContext* ctx,
                                                    const v1::UploadScansRequest* req,
                                                    v1::UploadScansResponse* resp) {
  return RunUnary(ctx, deps_, [this, req, resp](Call& call) -> absl::Status {
    RETURN_IF_ERROR(call.principal.Require(kDoorRoles));
    ASSIGN_OR_RETURN(int64_t event_id, ParseEventName("event", req->event()));
    RETURN_IF_ERROR(call.principal.Require(kDoorRoles, event_id));
    if (req->scans_size() > kMaxUploadScans) {
      return absl::InvalidArgumentError(absl::StrCat(
          "scans: at most ", kMaxUploadScans, " per upload; send the rest in another call"));
    }
    const absl::Time now = deps_.clock->Now();
    // Each scan is checked on its own: a bad one is answered on its row, the others go on.
    std::vector<absl::StatusOr<store::ScanInput>> inputs;
    for (const v1::OfflineScan& offline : req->scans()) {
      inputs.push_back(UploadedScanInput(deps_, call, event_id, offline, now));
    }
    // Lock order as in ScanBatcher (by code, then registration); within a ticket, scan time.
    std::vector<size_t> order;
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (inputs[i].ok()) order.push_back(i);
    }
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      const store::ScanInput& x = *inputs[a];
      const store::ScanInput& y = *inputs[b];
      return std::tie(x.code, x.registration_id, x.scanned_at) <
             std::tie(y.code, y.registration_id, y.scanned_at);
    });
    std::vector<absl::StatusOr<store::ScanOutcome>> outcomes(inputs.size(),
                                                             absl::UnknownError("not run"));
    RETURN_IF_ERROR(call.Transaction([&](pqxx::work& txn) -> absl::Status {
      for (size_t i : order) outcomes[i] = PgScanStore::RecordScan(txn, *inputs[i]);
      return absl::OkStatus();
    }));
    resp->Clear();
    bool changed = false;
    ServerMetrics* metrics = deps_.metrics;
    if (metrics != nullptr) metrics->uploads.Add();
    for (int i = 0; i < req->scans_size(); ++i) {
      v1::UploadedScan* row = resp->add_results();
      row->set_client_scan_id(req->scans(i).scan().client_scan_id());
      absl::Status status = inputs[i].status();
      if (status.ok()) status = outcomes[i].status();
      if (!status.ok()) {
        row->set_error_code(static_cast<int32_t>(status.code()));
        row->set_error_message(std::string(status.message()));
        if (metrics != nullptr) metrics->uploaded_scans.Add({"refused"});
        continue;
      }
      const std::string language = req->scans(i).scan().language();
      FillResult(*outcomes[i], event_id, language, now, row->mutable_result());
      CountScan(metrics, "offline", *outcomes[i]);
      if (metrics != nullptr) {
        const bool agreed = static_cast<int>(row->result().status()) == inputs[i]->device_status;
        metrics->uploaded_scans.Add(
            {outcomes[i]->replayed ? "replayed" : agreed ? "agreed" : "overruled"});
      }
      changed = changed || !outcomes[i]->replayed;
    }
    if (changed) deps_.on_counts_changed(event_id);
    return absl::OkStatus();
  });
}

ServerUnaryReactor* CheckinServiceImpl::GetOfflineBundle(CallbackServerContext* ctx,
                                                         const v1::GetOfflineBundleRequest* req,
                                                         v1::OfflineBundle* resp) {
  return RunUnary(ctx, deps_, [this, req, resp](Call& call) -> absl::Status {
    RETURN_IF_ERROR(call.principal.Require(kDoorRoles));
    ASSIGN_OR_RETURN(int64_t event_id, ParseEventName("event", req->event()));
    RETURN_IF_ERROR(call.principal.Require(kDoorRoles, event_id));
    if (req->since_version() < 0) {
      return absl::InvalidArgumentError(
          "since_version: 0 for a full bundle, or the version of the bundle the device holds");
    }
    return call.Transaction([&](pqxx::work& txn) -> absl::Status {
      // Read first: it fixes the snapshot every other read of the bundle shares.
      ASSIGN_OR_RETURN(store::BundleRows rows,
                       store::PgBundleStore::Read(txn, event_id, req->since_version()));
      ASSIGN_OR_RETURN(store::EventRecord event, store::PgEventStore::GetEvent(txn, event_id));
      ASSIGN_OR_RETURN(std::vector<store::CheckpointRecord> checkpoints,
                       store::PgEventStore::ListCheckpoints(txn, event_id));
      ASSIGN_OR_RETURN(*resp, BuildOfflineBundle(event, checkpoints, deps_.keys->Ring(), rows,
                                                 deps_.clock->Now()));
      return absl::OkStatus();
    });
  });
}

ServerUnaryReactor* CheckinServiceImpl::AnnulScan(CallbackServerContext* ctx,
                                                  const v1::AnnulScanRequest* req,
                                                  v1::AnnulScanResponse* resp) {
  return RunUnary(ctx, deps_, [this, req, resp](Call& call) -> absl::Status {
    RETURN_IF_ERROR(call.principal.Require(kDoorRoles));
    ASSIGN_OR_RETURN(ChildName scan, ParseChildName("scan", req->scan(), "scans"));
    RETURN_IF_ERROR(call.principal.Require(kDoorRoles, scan.event_id));
    RETURN_IF_ERROR(call.Transaction([&](pqxx::work& txn) {
      return PgScanStore::Annul(txn, scan.event_id, scan.id, call.principal.token_id,
                                deps_.clock->Now(), kAnnulWindow);
    }));
    resp->set_scan(req->scan());
    deps_.on_counts_changed(scan.event_id);
    return absl::OkStatus();
  });
}

ServerUnaryReactor* CheckinServiceImpl::SearchAttendees(CallbackServerContext* ctx,
                                                        const v1::SearchAttendeesRequest* req,
                                                        v1::SearchAttendeesResponse* resp) {
  return RunUnary(ctx, deps_, [req, resp](Call& call) -> absl::Status {
    RETURN_IF_ERROR(call.principal.Require(kDoorRoles));
    ASSIGN_OR_RETURN(int64_t event_id, ParseEventName("event", req->event()));
    RETURN_IF_ERROR(call.principal.Require(kDoorRoles, event_id));
    RETURN_IF_ERROR(domain::CheckText("query", req->query(), domain::kMaxShortTextBytes, true));
    const std::string query = domain::NormalizeForSearch(req->query());
    size_t chars = 0;
    for (char c : query) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    if (chars < kMinSearchChars) {
      return absl::InvalidArgumentError("query: type at least 3 letters of the name");
    }
    ASSIGN_OR_RETURN(const int limit,
                     PageSize(req->page_size(), kMaxSearchResults, kMaxSearchResults));
    return call.Transaction([&](pqxx::work& txn) -> absl::Status {
      ASSIGN_OR_RETURN(std::vector<store::SearchMatch> matches,
                       store::PgRegistrationStore::Search(txn, event_id, query, limit));
      resp->Clear();
      for (const store::SearchMatch& m : matches) {
        v1::AttendeeMatch* a = resp->add_attendees();
        a->set_registration(ChildNameOf(event_id, "registrations", m.registration_id));
        a->set_display_name(m.display_name);
        for (int f : m.attention_flags) a->add_attention_flags(static_cast<v1::AttentionFlag>(f));
        a->set_status(static_cast<v1::Registration::Status>(m.status));
        a->set_checked_in(m.checked_in);
      }
      return absl::OkStatus();
    });
  });
}

ServerUnaryReactor* CheckinServiceImpl::CheckInWalkIn(CallbackServerContext* ctx,
                                                      const v1::CheckInWalkInRequest* req,
                                                      v1::CheckInWalkInResponse* resp) {
  return RunUnary(ctx, deps_, [this, req, resp](Call& call) -> absl::Status {
    RETURN_IF_ERROR(call.principal.Require(kDoorRoles));
    ASSIGN_OR_RETURN(int64_t event_id, ParseEventName("event", req->event()));
    RETURN_IF_ERROR(call.principal.Require(kDoorRoles, event_id));
    RETURN_IF_ERROR(CheckScanIdAndLanguage(req->client_scan_id(), req->language()));
    RETURN_IF_ERROR(CheckRegistrationFields(req->registration()));
    if (req->registration().session_choices_size() > 0) {
      return absl::InvalidArgumentError(
          "registration.session_choices: choose breakouts after the walk-in, with "
          "UpdateSessionChoices");
    }
    store::NewRegistration reg;
    reg.display_name = std::string(absl::StripAsciiWhitespace(req->registration().display_name()));
    reg.email = req->registration().email();
    reg.phone = req->registration().phone();
    reg.preferred_language = req->registration().preferred_language();
    ASSIGN_OR_RETURN(reg.attention_flags,
                     CheckAttentionFlags(req->registration().attention_flags()));
    reg.source = v1::Registration::WALK_IN;
    // The device and its scan id make the whole call idempotent.
    reg.request_id = absl::StrCat("walk-in:", call.principal.token_id, ":", req->client_scan_id());
    store::ScanInput in;
    in.event_id = event_id;
    in.device_id = call.principal.token_id;
    ASSIGN_OR_RETURN(in.checkpoint_id, ParseCheckpoint(req->checkpoint(), event_id));
    in.client_scan_id = req->client_scan_id();
    const absl::Time now = deps_.clock->Now();
    in.scanned_at = now;
    in.scanned_now = true;
    in.received_at = now;
    std::optional<domain::SigningKey> key = deps_.keys->Active();
    if (!key) return absl::UnavailableError("no signing key is loaded yet; retry");
    store::ScanOutcome out;
    RETURN_IF_ERROR(call.Transaction([&](pqxx::work& txn) -> absl::Status {
      ASSIGN_OR_RETURN(store::Registered done, store::PgRegistrationStore::Register(
                                                   txn, event_id, reg, *deps_.data_key, *key));
      in.registration_id = done.registration.id;
      in.request_digest = ScanRequestDigest(*deps_.data_key, in, "");
      // A client_scan_id this device used for another scan fails here, and the transaction takes
      // the new registration back with it: no walk-in is left registered but never admitted.
      ASSIGN_OR_RETURN(out, PgScanStore::RecordScan(txn, in));
      resp->Clear();
      ToProto(done.registration, /*with_contact=*/false, resp->mutable_registration());
      ToProto(done.ticket, resp->mutable_ticket());
      return absl::OkStatus();
    }));
    FillResult(out, event_id, req->language(), now, resp->mutable_result());
    deps_.on_counts_changed(event_id);
    return absl::OkStatus();
  });
}

}  // namespace turnout::api
