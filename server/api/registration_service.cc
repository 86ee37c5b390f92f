// RegistrationService: registering, the attendee's own changes, rosters, tickets and imports.
#include <sodium.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "server/api/convert.h"
#include "server/api/names.h"
#include "server/api/rate_limiter.h"
#include "server/api/server_metrics.h"
#include "server/api/services.h"
#include "server/api/stream_slots.h"
#include "server/api/transaction_batcher.h"
#include "server/domain/manage_secret.h"
#include "server/domain/qr.h"
#include "server/domain/validation.h"
#include "server/store/audit_store.h"
#include "server/store/event_store.h"
#include "server/store/registration_store.h"
#include "server/util/status_macros.h"

namespace turnout::api {
namespace {

using store::PgRegistrationStore;

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 500;
constexpr int kMaxImportRows = 20000;
constexpr int kMaxChoices = 20;
constexpr size_t kMinPublicRequestIdBytes = 16;
// Bounds what an import may buffer before it is checked.
constexpr size_t kMaxImportBytes = 32 << 20;
// A whole import, from the call's arrival to its last row: a stream sent slowly holds an import
// slot, and the server has only two.
constexpr absl::Duration kMaxImportDuration = absl::Minutes(5);

// What a caller may see and do with one registration (docs/design.md, "Self-service").
enum class Access {
  kCode,  // holds the registration's current ticket code: sees what the door shows, changes nothing
  kDoor,  // a DOOR token of the event: sees what the door shows
  kFull,  // staff of the event, or the attendee with the manage secret
};

// The attendee's proofs, as a request carries them.
struct Proofs {
  const std::string& ticket_code;
  const std::string& manage_secret;
};

// Only a keyed hash of a manage secret is stored: a copy of the database opens no registration.
std::string ManageSecretDigest(const store::DataKey& key, absl::string_view canonical_secret) {
  return key.Digest("manage secret", canonical_secret);
}

bool SameDigest(const std::string& a, const std::string& b) {
  return !a.empty() && a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

absl::StatusOr<std::vector<int64_t>> ParseChoices(
    const google::protobuf::RepeatedPtrField<std::string>& names, int64_t event_id,
    absl::string_view field) {
  if (names.size() > kMaxChoices) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": too many sessions"));
  }
  std::vector<int64_t> ids;
  for (const std::string& name : names) {
    ASSIGN_OR_RETURN(ChildName session, ParseChildName(field, name, "sessions"));
    if (session.event_id != event_id) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": ", name, " belongs to another event"));
    }
    ids.push_back(session.id);
  }
  return ids;
}

absl::StatusOr<std::vector<int64_t>> ParseChoices(const v1::Registration& r, int64_t event_id) {
  google::protobuf::RepeatedPtrField<std::string> names;
  for (const v1::SessionChoice& c : r.session_choices()) *names.Add() = c.session();
  return ParseChoices(names, event_id, "registration.session_choices");
}

absl::StatusOr<store::NewRegistration> NewRegistrationFrom(const v1::Registration& r,
                                                           int64_t event_id, int source,
                                                           const std::string& request_id) {
  RETURN_IF_ERROR(CheckRegistrationFields(r));
  RETURN_IF_ERROR(domain::CheckText("request_id", request_id, domain::kMaxRequestIdBytes, false));
  store::NewRegistration n;
  n.display_name = std::string(absl::StripAsciiWhitespace(r.display_name()));
  n.email = r.email();
  n.phone = r.phone();
  n.preferred_language = r.preferred_language();
  ASSIGN_OR_RETURN(n.attention_flags, CheckAttentionFlags(r.attention_flags()));
  ASSIGN_OR_RETURN(n.session_ids, ParseChoices(r, event_id));
  n.source = source;
  n.request_id = request_id;
  return n;
}

// Staff of the event see everything, and so does the attendee holding the registration's manage
// secret. The current ticket code, shown openly at the door, sees what the door sees, like a DOOR
// token. A proof that does not fit answers PERMISSION_DENIED whether or not the registration
// exists, so that strangers learn nothing by trying names.
absl::StatusOr<Access> AccessTo(pqxx::work& txn, const Principal& p, const ChildName& reg,
                                const Proofs& given, const store::DataKey& key) {
  if (p.Require({Role::kAdmin, Role::kOrganizer}, reg.event_id).ok()) return Access::kFull;
  if (!given.manage_secret.empty()) {
    ASSIGN_OR_RETURN(std::string secret,
                     domain::ParseManageSecret("manage_secret", given.manage_secret));
    absl::StatusOr<std::string> stored =
        PgRegistrationStore::ManageSecretHash(txn, reg.event_id, reg.id);
    if (stored.ok() && SameDigest(*stored, ManageSecretDigest(key, secret))) return Access::kFull;
    if (!stored.ok() && !absl::IsNotFound(stored.status())) return stored.status();
    return absl::PermissionDeniedError(
        "manage_secret: is not this registration's manage secret (an organizer can issue a new "
        "one)");
  }
  if (!given.ticket_code.empty()) {
    if (given.ticket_code.size() > domain::kMaxCodeBytes) {
      return absl::InvalidArgumentError("ticket_code: too long to be a ticket code");
    }
    auto ticket = PgRegistrationStore::CurrentTicket(txn, reg.event_id, reg.id);
    const std::string code(absl::StripAsciiWhitespace(given.ticket_code));
    if (ticket.ok() && code.size() == ticket->code.size() &&
        sodium_memcmp(code.data(), ticket->code.data(), code.size()) == 0) {
      return Access::kCode;
    }
    return absl::PermissionDeniedError("ticket_code: is not this registration's current ticket");
  }
  if (p.Require({Role::kDoor}, reg.event_id).ok()) return Access::kDoor;
  if (!p.authenticated()) {
    return absl::UnauthenticatedError(
        "send a staff token, or this registration's manage_secret (or its ticket_code, to see "
        "what the door sees)");
  }
  return absl::PermissionDeniedError(
      absl::StrCat("a ", RoleName(p.role), " token may not see registrations of this event"));
}

// Changing or cancelling a registration, or reading its contact fields, takes staff or the
// manage secret.
absl::Status RequireFull(Access access) {
  switch (access) {
    case Access::kFull:
      return absl::OkStatus();
    case Access::kCode:
      return absl::PermissionDeniedError(
          "ticket_code: shows only what the door shows and changes nothing; to change or cancel "
          "this registration send its manage_secret, from the registration's confirmation (an "
          "organizer can issue a new one)");
    case Access::kDoor:
      break;
  }
  return absl::PermissionDeniedError(
      "a DOOR token may not change a registration: only organizers, or the attendee with the "
      "manage secret, may");
}

// What the door shows of a registration: a DOOR token and a ticket code's holder see this. Once
// canceled, a ticket code sees only that: the name and status of the registration.
void DoorView(const store::RegistrationRecord& r, Access access, v1::Registration* out) {
  out->Clear();
  out->set_name(ChildNameOf(r.event_id, "registrations", r.id));
  out->set_status(static_cast<v1::Registration::Status>(r.status));
  if (access == Access::kCode && r.status == v1::Registration::CANCELED) return;
  v1::Registration full;
  ToProto(r, /*with_contact=*/false, &full);
  out->set_display_name(full.display_name());
  out->set_preferred_language(full.preferred_language());
  *out->mutable_attention_flags() = full.attention_flags();
  *out->mutable_session_choices() = full.session_choices();
}

absl::StatusOr<domain::SigningKey> ActiveKey(const ServiceDeps& deps) {
  std::optional<domain::SigningKey> key = deps.keys->Active();
  if (!key) return absl::UnavailableError("no signing key is loaded yet; retry");
  return *key;
}

// Collects the streamed rows, then imports them in one transaction: all or none. The caller is
// authenticated, and must be staff holding one of the few import slots, before a single row is
// read: an import buffers up to kMaxImportBytes, so a stranger must not be able to start one.
class ImportReactor final : public grpc::ServerReadReactor<v1::ImportRegistrationsRequest> {
 public:
  ImportReactor(grpc::CallbackServerContext* ctx, ServiceDeps& deps,
                v1::ImportRegistrationsResponse* resp)
      : ctx_(ctx), deps_(deps), resp_(resp), authorization_(AuthorizationOf(*ctx)) {
    // Refused on the gRPC thread, without queuing database work: bad metadata, or no token.
    absl::Status checked = CheckCallMetadata(*ctx);
    if (checked.ok() && authorization_.empty()) {
      checked = absl::UnauthenticatedError(
          "ImportRegistrations needs an ORGANIZER or ADMIN token: send the metadata "
          "\"authorization: Bearer <token>\"");
    }
    if (!checked.ok()) {
      Finish(FinishStatus(*ctx_, checked, deps_.metrics));
      return;
    }
    started_ = deps_.clock->Now();
    const bool queued = deps_.db->Submit([this](pqxx::connection* conn) {
      try {
        Admit(conn);
      } catch (const std::exception& e) {
        Finish(grpc::Status(grpc::StatusCode::INTERNAL, "internal error"));
      }
    });
    if (!queued) Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is busy; retry"));
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The end of the stream, or a stream that broke off (a message over the size limit, the
      // client gone): only the first is an import.
      if (BrokenOff()) {
        Finish(grpc::Status(grpc::StatusCode::CANCELLED, kBrokenOff));
        return;
      }
      Import();
      return;
    }
    if (rows_.empty()) {
      auto event_id = ParseEventName("parent", row_.parent());
      if (row_.parent().empty()) {
        event_id = absl::InvalidArgumentError(
            "parent: the first message must name the event, e.g. \"events/1\"");
      }
      absl::Status allowed = event_id.status();
      if (allowed.ok()) allowed = principal_.Require({Role::kAdmin, Role::kOrganizer}, *event_id);
      if (!allowed.ok()) {
        Finish(ToGrpcStatus(allowed));
        return;
      }
    }
    bytes_ += row_.ByteSizeLong();
    // A stream that never ends is cut at the first limit it passes, and nothing is imported.
    if (static_cast<int>(rows_.size()) >= kMaxImportRows || bytes_ > kMaxImportBytes) {
      Finish(grpc::Status(
          grpc::StatusCode::RESOURCE_EXHAUSTED,
          absl::StrCat("an import holds at most ", kMaxImportRows, " rows and ",
                       kMaxImportBytes >> 20, " MiB; split the file (nothing was imported)")));
      return;
    }
    if (deps_.clock->Now() - started_ > kMaxImportDuration) {
      Finish(grpc::Status(
          grpc::StatusCode::RESOURCE_EXHAUSTED,
          absl::StrCat("an import must be sent within ", absl::FormatDuration(kMaxImportDuration),
                       "; send the rows without pausing (nothing was imported)")));
      return;
    }
    rows_.push_back(std::move(row_));
    row_.Clear();
    StartRead(&row_);
  }

  void OnCancel() override { cancelled_.Notify(); }

  void OnDone() override {
    if (slot_) deps_.imports->Release(principal_.token_id);
    delete this;
  }

 private:
  static constexpr char kBrokenOff[] = "the stream broke off before its end; nothing was imported";
  static constexpr absl::Duration kCancelGrace = absl::Seconds(1);

  bool BrokenOff() const { return cancelled_.HasBeenNotified() || ctx_->IsCancelled(); }
  // gRPC ends a read that broke off like the end of the stream, and tells the cancellation a
  // moment later: the import waits that long before it believes the stream ended.
  bool BrokeOffMeanwhile() const {
    return cancelled_.WaitForNotificationWithTimeout(kCancelGrace) || ctx_->IsCancelled();
  }

  // On a database worker: who is calling, and whether an import slot is free for them.
  void Admit(pqxx::connection* conn) {
    absl::StatusOr<Principal> principal = deps_.auth->Authenticate(conn, authorization_);
    absl::Status admitted = principal.status();
    if (admitted.ok()) admitted = principal->Require({Role::kAdmin, Role::kOrganizer});
    if (admitted.ok()) {
      principal_ = *principal;
      admitted = deps_.imports->Acquire(principal_.token_id);
      slot_ = admitted.ok();
    }
    if (!admitted.ok()) {
      Finish(FinishStatus(*ctx_, admitted, deps_.metrics));
      return;
    }
    StartRead(&row_);
  }

  void Import() {
    const bool queued = deps_.db->Submit([this](pqxx::connection* conn) {
      absl::Status status;
      try {
        // Asked again on the worker: a cancellation may be told after the read that it ended.
        status = BrokeOffMeanwhile() ? absl::CancelledError(kBrokenOff) : Run(conn);
      } catch (const std::exception& e) {
        status = absl::InternalError("internal error");
      }
      Finish(ToGrpcStatus(status));
    });
    if (!queued) Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is busy; retry"));
  }

  absl::Status Run(pqxx::connection* conn) {
    if (rows_.empty()) return absl::InvalidArgumentError("the import holds no rows");
    ASSIGN_OR_RETURN(int64_t event_id, ParseEventName("parent", rows_.front().parent()));
    std::vector<store::NewRegistration> inputs;
    for (size_t i = 0; i < rows_.size(); ++i) {
      const int line = rows_[i].line() > 0 ? rows_[i].line() : static_cast<int>(i) + 1;
      auto input = NewRegistrationFrom(rows_[i].registration(), event_id, v1::Registration::IMPORT,
                                       rows_[i].request_id());
      if (!input.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("row ", line, ": ", input.status().message(), "; nothing was imported"));
      }
      inputs.push_back(*std::move(input));
    }
    ASSIGN_OR_RETURN(domain::SigningKey key, ActiveKey(deps_));
    v1::ImportRegistrationsResponse counts;
    RETURN_IF_ERROR(store::Database::InTransaction(conn, [&](pqxx::work& txn) -> absl::Status {
      counts.Clear();
      for (size_t i = 0; i < inputs.size(); ++i) {
        auto done = PgRegistrationStore::Register(txn, event_id, inputs[i], *deps_.data_key, key);
        if (!done.ok()) {
          return absl::Status(
              done.status().code(),
              absl::StrCat("row ", rows_[i].line() > 0 ? rows_[i].line() : i + 1, ": ",
                           done.status().message(), "; nothing was imported"));
        }
        if (done->existed) {
          counts.set_already_imported(counts.already_imported() + 1);
        } else {
          counts.set_imported(counts.imported() + 1);
          if (done->registration.status == v1::Registration::WAITLISTED) {
            counts.set_waitlisted(counts.waitlisted() + 1);
          }
        }
      }
      // How many rows, never what they held.
      store::AuditRecord entry;
      entry.actor_token_id = principal_.token_id;
      entry.action = v1::AuditEntry::REGISTRATIONS_IMPORTED;
      entry.target = EventName(event_id);
      entry.event_id = event_id;
      entry.count = counts.imported();
      entry.detail = absl::StrCat(rows_.size(), " rows, ", counts.already_imported(),
                                  " imported before");
      store::PgAuditStore::Record(txn, entry);
      return absl::OkStatus();
    }));
    *resp_ = counts;
    if (deps_.metrics != nullptr) {
      deps_.metrics->registrations.Add({"import", "created"}, counts.imported());
      deps_.metrics->registrations.Add({"import", "existing"}, counts.already_imported());
    }
    deps_.on_counts_changed(event_id);
    return absl::OkStatus();
  }

  grpc::CallbackServerContext* const ctx_;
  ServiceDeps& deps_;
  v1::ImportRegistrationsResponse* resp_;
  absl::Time started_;
  absl::Notification cancelled_;
  const std::string authorization_;
  Principal principal_;
  bool slot_ = false;  // holds one of deps_.imports' slots
  v1::ImportRegistrationsRequest row_;
  std::vector<v1::ImportRegistrationsRequest> rows_;
  size_t bytes_ = 0;
};

}  // namespace

ServerUnaryReactor* RegistrationServiceImpl::Register(CallbackServerContext* ctx,
                                                      const v1::RegisterRequest* req,
                                                      v1::RegisterResponse* resp) {
  return RunUnary(ctx, deps_, [this, req, resp](Call& call) -> absl::Status {
    ASSIGN_OR_RETURN(int64_t event_id, ParseEventName("parent", req->parent()));
    const bool staff = call.principal.Require({Role::kAdmin, Role::kOrganizer}, event_id).ok();
    if (call.principal.authenticated() && !staff) {
      RETURN_IF_ERROR(call.principal.Require({Role::kAdmin, Role::kOrganizer}, event_id));
    }
    if (!staff) {
      RETURN_IF_ERROR(deps_.public_limiter->Take(PeerAddress(call.peer), deps_.clock->Now()));
    }
    if (req->request_id().empty()) {
      return absl::InvalidArgumentError(
          "request_id: is required, so that a retried registration registers nobody twice");
    }
    if (!staff && req->request_id().size() < kMinPublicRequestIdBytes) {
      return absl::InvalidArgumentError(
          "request_id: use a random UUID (at least 16 characters), unique to this registration");
    }
    ASSIGN_OR_RETURN(store::NewRegistration input,
                     NewRegistrationFrom(req->registration(), event_id, v1::Registration::ONLINE,
                                         req->request_id()));
    ASSIGN_OR_RETURN(domain::SigningKey key, ActiveKey(deps_));
    input.require_published = !staff;
    const std::string secret = domain::NewManageSecret();
    input.manage_secret_hash = ManageSecretDigest(*deps_.data_key, secret);
    // Committed together with the registrations of others waiting at the same moment.
    auto existed = std::make_shared<bool>(false);
    call.deferred = true;
    deps_.registrations->Submit(
        [this, event_id, input = std::move(input), key, secret, resp,
         existed](pqxx::work& txn) -> absl::Status {
          ASSIGN_OR_RETURN(store::Registered done, PgRegistrationStore::Register(
                                                       txn, event_id, input, *deps_.data_key, key));
          resp->Clear();
          ToProto(done.registration, /*with_contact=*/true, resp->mutable_registration());
          ToProto(done.ticket, resp->mutable_ticket());
          resp->set_manage_secret(secret);
          *existed = done.existed;
          return absl::OkStatus();
        },
        [this, event_id, existed, finish = call.finish](absl::Status status) {
          if (status.ok()) {
            if (deps_.metrics != nullptr) {
              deps_.metrics->registrations.Add({"online", *existed ? "existing" : "created"});
            }
            deps_.on_counts_changed(event_id);
          }
          finish(status);
        });
    return absl::OkStatus();
  });
}

ServerUnaryReactor* RegistrationServiceImpl::GetRegistration(CallbackServerContext* ctx,
                                                             const v1::GetRegistrationRequest* req,
                                                             v1::Registration* resp) {
  return RunUnary(ctx, deps_, [this, req, resp](Call& call) -> absl::Status {
    ASSIGN_OR_RETURN(ChildName name, ParseChildName("name", req->name(), "registrations"));
    return call.Transaction([&](pqxx::work& txn) -> absl::Status {
      ASSIGN_OR_RETURN(Access access,
                       AccessTo(txn, call.principal, name,
                                {req->ticket_code(), req->manage_secret()}, *deps_.data_key));
      ASSIGN_OR_RETURN(store::RegistrationRecord r,
                       PgRegistrationStore::Get(txn, name.event_id, name.id, *deps_.data_key));
      if (access == Access::kFull) {
        ToProto(r, /*with_contact=*/true, resp);
      } else {
        DoorView(r, access, resp);
      }
      return absl::OkStatus();
    });
  });
}

ServerUnaryReactor* RegistrationServiceImpl::CancelRegistration(
    CallbackServerContext* ctx, const v1::CancelRegistrationRequest* req, v1::Registration* resp) {
  return RunUnary(ctx, deps_, [this, req, resp](Call& call) -> absl::Status {
    ASSIGN_OR_RETURN(ChildName name, ParseChildName("name", req->name(), "registrations"));
    RETURN_IF_ERROR(call.Transaction([&](pqxx::work& txn) -> absl::Status {
      ASSIGN_OR_RETURN(Access access,
                       AccessTo(txn, call.principal, name,
                                {req->ticket_code(), req->manage_secret()}, *deps_.data_key));
      RETURN_IF_ERROR(RequireFull(access));
      ASSIGN_OR_RETURN(store::RegistrationRecord r,
                       PgRegistrationStore::Cancel(txn, name.event_id, name.id, *deps_.data_key));
      ToProto(r, true, resp);
      return absl::OkStatus();
    }));
    deps_.on_counts_changed(name.event_id);
    return absl::OkStatus();
  });
}

ServerUnaryReactor* RegistrationServiceImpl::UpdateSessionChoices(
    CallbackServerContext* ctx, const v1::UpdateSessionChoicesRequest* req,
    v1::Registration* resp) {
  return RunUnary(ctx, deps_, [this, req, resp](Call& call) -> absl::Status {
    ASSIGN_OR_RETURN(ChildName name, ParseChildName("name", req->name(), "registrations"));
    ASSIGN_OR_RETURN(std::vector<int64_t> sessions,
                     ParseChoices(req->sessions(), name.event_id, "sessions"));
    RETURN_IF_ERROR(call.Transaction([&](pqxx::work& txn) -> absl::Status {
      ASSIGN_OR_RETURN(Access access,
                       AccessTo(txn, call.principal, name,
                                {req->ticket_code(), req->manage_secret()}, *deps_.data_key));
      RETURN_IF_ERROR(RequireFull(access));
      ASSIGN_OR_RETURN(store::RegistrationRecord r,
                       PgRegistrationStore::UpdateChoices(txn, name.event_id, name.id, sessions,
                                                          *deps_.data_key));
      ToProto(r, true, resp);
      return absl::OkStatus();
    }));
    deps_.on_counts_changed(name.event_id);
    return absl::OkStatus();
  });
}

ServerUnaryReactor* RegistrationServiceImpl::ListRegistrations(
    CallbackServerContext* ctx, const v1::ListRegistrationsRequest* req,
    v1::ListRegistrationsResponse* resp) {
  return RunUnary(ctx, deps_, [this, req, resp](Call& call) -> absl::Status {
    ASSIGN_OR_RETURN(int64_t event_id, ParseEventName("parent", req->parent()));
    RETURN_IF_ERROR(call.principal.Require({Role::kAdmin, Role::kOrganizer}, event_id));
    ASSIGN_OR_RETURN(const int limit, PageSize(req->page_size(), kDefaultPageSize, kMaxPageSize));
    const std::string list = absl::StrCat(EventName(event_id), "/registrations");
    ASSIGN_OR_RETURN(PageKey after, ParsePageToken(list, req->page_token()));
    if (!v1::Registration::Status_IsValid(req->status())) {
      return absl::InvalidArgumentError("status: is not a registration status");
    }
    RETURN_IF_ERROR(
        domain::CheckText("name_prefix", req->name_prefix(), domain::kMaxNameBytes, false));
    const std::string prefix = domain::NormalizeForSearch(req->name_prefix());
    return call.Transaction([&](pqxx::work& txn) -> absl::Status {
      RETURN_IF_ERROR(store::PgEventStore::GetEvent(txn, event_id).status());
      ASSIGN_OR_RETURN(store::RegistrationPage page,
                       PgRegistrationStore::List(txn, event_id, req->status(), prefix, after.id,
                                                 limit, *deps_.data_key));
      resp->Clear();
      for (const store::RegistrationRecord& r : page.registrations) {
        ToProto(r, true, resp->add_registrations());
      }
      resp->set_total_size(page.total_size);
      if (static_cast<int>(page.registrations.size()) == limit) {
        resp->set_next_page_token(PageTokenAfter(list, {page.registrations.back().id}));
      }
      return absl::OkStatus();
    });
  });
}

ServerUnaryReactor* RegistrationServiceImpl::GetTicket(CallbackServerContext* ctx,
                                                       const v1::GetTicketRequest* req,
                                                       v1::Ticket* resp) {
  return RunUnary(ctx, deps_, [this, req, resp](Call& call) -> absl::Status {
    ASSIGN_OR_RETURN(ChildName name, ParseChildName("name", req->name(), "registrations"));
    if (req->png_scale() < 0 || req->png_scale() > 32) {
      return absl::InvalidArgumentError("png_scale: must be between 1 and 32 (0 means 8)");
    }
    store::TicketRecord ticket;
    RETURN_IF_ERROR(call.Transaction([&](pqxx::work& txn) -> absl::Status {
      ASSIGN_OR_RETURN(Access access,
                       AccessTo(txn, call.principal, name,
                                {req->ticket_code(), req->manage_secret()}, *deps_.data_key));
      // The holder of the current code may have its QR; a DOOR token has no use for tickets.
      if (access == Access::kDoor) RETURN_IF_ERROR(RequireFull(access));
      ASSIGN_OR_RETURN(ticket, PgRegistrationStore::CurrentTicket(txn, name.event_id, name.id));
      return absl::OkStatus();
    }));
    ToProto(ticket, resp);
    ASSIGN_OR_RETURN(
        std::string png,
        domain::RenderQrPng(ticket.code, req->png_scale() == 0 ? 8 : req->png_scale()));
    ASSIGN_OR_RETURN(std::string svg, domain::RenderQrSvg(ticket.code));
    resp->set_qr_png(std::move(png));
    resp->set_qr_svg(std::move(svg));
    return absl::OkStatus();
  });
}

ServerUnaryReactor* RegistrationServiceImpl::ReissueTicket(CallbackServerContext* ctx,
                                                           const v1::ReissueTicketRequest* req,
                                                           v1::Ticket* resp) {
  return RunUnary(ctx, deps_, [this, req, resp](Call& call) -> absl::Status {
    ASSIGN_OR_RETURN(ChildName name, ParseChildName("name", req->name(), "registrations"));
    RETURN_IF_ERROR(call.principal.Require({Role::kAdmin, Role::kOrganizer}, name.event_id));
    ASSIGN_OR_RETURN(domain::SigningKey key, ActiveKey(deps_));
    return call.Transaction([&](pqxx::work& txn) -> absl::Status {
      ASSIGN_OR_RETURN(store::TicketRecord t,
                       PgRegistrationStore::Reissue(txn, name.event_id, name.id, key));
      ToProto(t, resp);
      return absl::OkStatus();
    });
  });
}

ServerUnaryReactor* RegistrationServiceImpl::IssueManageSecret(
    CallbackServerContext* ctx, const v1::IssueManageSecretRequest* req,
    v1::IssueManageSecretResponse* resp) {
  return RunUnary(ctx, deps_, [this, req, resp](Call& call) -> absl::Status {
    ASSIGN_OR_RETURN(ChildName name, ParseChildName("name", req->name(), "registrations"));
    RETURN_IF_ERROR(call.principal.Require({Role::kAdmin, Role::kOrganizer}, name.event_id));
    const std::string secret = domain::NewManageSecret();
    RETURN_IF_ERROR(call.Transaction([&](pqxx::work& txn) {
      return PgRegistrationStore::SetManageSecretHash(txn, name.event_id, name.id,
                                                      ManageSecretDigest(*deps_.data_key, secret));
    }));
    resp->set_registration(ChildNameOf(name.event_id, "registrations", name.id));
    resp->set_manage_secret(secret);
    return absl::OkStatus();
  });
}

grpc::ServerReadReactor<v1::ImportRegistrationsRequest>*
RegistrationServiceImpl::ImportRegistrations(CallbackServerContext* ctx,
                                             v1::ImportRegistrationsResponse* resp) {
  return new ImportReactor(ctx, deps_, resp);
}

}  // namespace turnout::api
