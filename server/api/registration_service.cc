// RegistrationService: registering, the attendee's own changes, rosters, tickets and imports.
#include <sodium.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/api/convert.h"
#include "server/api/names.h"
#include "server/api/rate_limiter.h"
#include "server/api/services.h"
#include "server/api/stream_slots.h"
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

// What a caller may see of one registration.
enum class Access { kNone, kDoor, kFull };

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

// Staff of the event see everything; a DOOR sees what the door needs; an attendee holding the
// registration's current code sees their own registration.
absl::StatusOr<Access> AccessTo(pqxx::work& txn, const Principal& p, const ChildName& reg,
                                const std::string& ticket_code) {
  if (p.Require({Role::kAdmin, Role::kOrganizer}, reg.event_id).ok()) return Access::kFull;
  if (!ticket_code.empty()) {
    if (ticket_code.size() > domain::kMaxCodeBytes) {
      return absl::InvalidArgumentError("ticket_code: too long to be a ticket code");
    }
    auto ticket = PgRegistrationStore::CurrentTicket(txn, reg.event_id, reg.id);
    const std::string given(absl::StripAsciiWhitespace(ticket_code));
    if (ticket.ok() && given.size() == ticket->code.size() &&
        sodium_memcmp(given.data(), ticket->code.data(), given.size()) == 0) {
      return Access::kFull;
    }
    return absl::PermissionDeniedError("ticket_code: is not this registration's current ticket");
  }
  if (p.Require({Role::kDoor}, reg.event_id).ok()) return Access::kDoor;
  if (!p.authenticated()) {
    return absl::UnauthenticatedError(
        "send a staff token, or this registration's ticket code in ticket_code");
  }
  return absl::PermissionDeniedError(
      absl::StrCat("a ", RoleName(p.role), " token may not see registrations of this event"));
}

absl::Status RequireFull(Access access) {
  if (access != Access::kFull) {
    return absl::PermissionDeniedError(
        "only organizers or the attendee (with the ticket code) may change a registration");
  }
  return absl::OkStatus();
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
      : deps_(deps), resp_(resp), authorization_(AuthorizationOf(*ctx)) {
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
    if (static_cast<int>(rows_.size()) >= kMaxImportRows || bytes_ > kMaxImportBytes) {
      Finish(grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          absl::StrCat("an import holds at most ", kMaxImportRows, " rows and ",
                       kMaxImportBytes >> 20, " MiB; split the file")));
      return;
    }
    rows_.push_back(std::move(row_));
    row_.Clear();
    StartRead(&row_);
  }

  void OnDone() override {
    if (slot_) deps_.imports->Release(principal_.token_id);
    delete this;
  }

 private:
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
      Finish(ToGrpcStatus(admitted));
      return;
    }
    StartRead(&row_);
  }

  void Import() {
    const bool queued = deps_.db->Submit([this](pqxx::connection* conn) {
      absl::Status status;
      try {
        status = Run(conn);
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
      entry.count = counts.imported();
      entry.detail = absl::StrCat(rows_.size(), " rows, ", counts.already_imported(),
                                  " imported before");
      store::PgAuditStore::Record(txn, entry);
      return absl::OkStatus();
    }));
    *resp_ = counts;
    deps_.on_counts_changed(event_id);
    return absl::OkStatus();
  }

  ServiceDeps& deps_;
  v1::ImportRegistrationsResponse* resp_;
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
    if (!staff) RETURN_IF_ERROR(deps_.public_limiter->Take(PeerAddress(call.peer), deps_.now()));
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
    RETURN_IF_ERROR(call.Transaction([&](pqxx::work& txn) -> absl::Status {
      ASSIGN_OR_RETURN(store::Registered done,
                       PgRegistrationStore::Register(txn, event_id, input, *deps_.data_key, key));
      resp->Clear();
      ToProto(done.registration, /*with_contact=*/true, resp->mutable_registration());
      ToProto(done.ticket, resp->mutable_ticket());
      return absl::OkStatus();
    }));
    deps_.on_counts_changed(event_id);
    return absl::OkStatus();
  });
}

ServerUnaryReactor* RegistrationServiceImpl::GetRegistration(CallbackServerContext* ctx,
                                                             const v1::GetRegistrationRequest* req,
                                                             v1::Registration* resp) {
  return RunUnary(ctx, deps_, [this, req, resp](Call& call) -> absl::Status {
    ASSIGN_OR_RETURN(ChildName name, ParseChildName("name", req->name(), "registrations"));
    return call.Transaction([&](pqxx::work& txn) -> absl::Status {
      ASSIGN_OR_RETURN(Access access, AccessTo(txn, call.principal, name, req->ticket_code()));
      ASSIGN_OR_RETURN(store::RegistrationRecord r,
                       PgRegistrationStore::Get(txn, name.event_id, name.id, *deps_.data_key));
      ToProto(r, access == Access::kFull, resp);
      return absl::OkStatus();
    });
  });
}

ServerUnaryReactor* RegistrationServiceImpl::CancelRegistration(
    CallbackServerContext* ctx, const v1::CancelRegistrationRequest* req, v1::Registration* resp) {
  return RunUnary(ctx, deps_, [this, req, resp](Call& call) -> absl::Status {
    ASSIGN_OR_RETURN(ChildName name, ParseChildName("name", req->name(), "registrations"));
    RETURN_IF_ERROR(call.Transaction([&](pqxx::work& txn) -> absl::Status {
      ASSIGN_OR_RETURN(Access access, AccessTo(txn, call.principal, name, req->ticket_code()));
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
      ASSIGN_OR_RETURN(Access access, AccessTo(txn, call.principal, name, req->ticket_code()));
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
  return RunUnary(ctx, deps_, [req, resp](Call& call) -> absl::Status {
    ASSIGN_OR_RETURN(ChildName name, ParseChildName("name", req->name(), "registrations"));
    if (req->png_scale() < 0 || req->png_scale() > 32) {
      return absl::InvalidArgumentError("png_scale: must be between 1 and 32 (0 means 8)");
    }
    store::TicketRecord ticket;
    RETURN_IF_ERROR(call.Transaction([&](pqxx::work& txn) -> absl::Status {
      ASSIGN_OR_RETURN(Access access, AccessTo(txn, call.principal, name, req->ticket_code()));
      RETURN_IF_ERROR(RequireFull(access));
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

grpc::ServerReadReactor<v1::ImportRegistrationsRequest>*
RegistrationServiceImpl::ImportRegistrations(CallbackServerContext* ctx,
                                             v1::ImportRegistrationsResponse* resp) {
  return new ImportReactor(ctx, deps_, resp);
}

}  // namespace turnout::api
