// AdminService: device tokens, signing keys, the purge of personal data and the audit log.
#include "absl/strings/str_cat.h"
#include "server/api/convert.h"
#include "server/api/names.h"
#include "server/api/services.h"
#include "server/domain/validation.h"
#include "server/api/retention.h"
#include "server/store/audit_store.h"
#include "server/store/event_store.h"
#include "server/store/key_store.h"
#include "server/store/registration_store.h"
#include "server/store/token_store.h"
#include "server/util/status_macros.h"

namespace turnout::api {
namespace {

void ToProto(const store::TokenRecord& t, v1::DeviceToken* out) {
  out->set_name(TokenName(t.id));
  out->set_role(static_cast<v1::Role>(t.role));
  if (t.event_id) out->set_event(EventName(*t.event_id));
  out->set_label(t.label);
  *out->mutable_create_time() = ToProtoTime(t.create_time);
  if (t.revoke_time) *out->mutable_revoke_time() = ToProtoTime(*t.revoke_time);
}

void ToProto(const store::SigningKeyRecord& k, v1::SigningKeyInfo* out) {
  out->set_key_id(k.key.key_id);
  out->set_public_key(std::string(k.key.public_key.begin(), k.key.public_key.end()));
  *out->mutable_create_time() = ToProtoTime(k.create_time);
  if (k.revoke_time) *out->mutable_revoke_time() = ToProtoTime(*k.revoke_time);
  out->set_active(k.active);
}

// ADMIN may manage any token; an ORGANIZER manages DOOR and DASHBOARD tokens of its events.
absl::Status MayManage(const Principal& p, Role role, std::optional<int64_t> event_id) {
  if (p.Is({Role::kAdmin})) return absl::OkStatus();
  RETURN_IF_ERROR(p.Require({Role::kOrganizer}, event_id.value_or(0)));
  if (role != Role::kDoor && role != Role::kDashboard) {
    return absl::PermissionDeniedError(
        "an ORGANIZER token may manage only DOOR and DASHBOARD tokens");
  }
  return absl::OkStatus();
}

constexpr int kDefaultAuditPageSize = 100;
constexpr int kMaxAuditPageSize = 1000;

std::string SigningKeyName(uint32_t key_id) { return absl::StrCat("signingKeys/", key_id); }

// The audit entry of an action of `p`, written in the action's transaction.
void Audit(pqxx::work& txn, const Principal& p, v1::AuditEntry::Action action, std::string target,
           int64_t count = 0, std::string detail = "") {
  store::AuditRecord entry;
  entry.actor_token_id = p.token_id;
  entry.action = action;
  entry.target = std::move(target);
  entry.count = count;
  entry.detail = std::move(detail);
  store::PgAuditStore::Record(txn, entry);
}

// A token's role and scope, for its audit entry (its label is free text: not recorded).
std::string TokenDetail(const store::TokenRecord& t) {
  std::string detail = RoleName(t.role);
  if (t.event_id) absl::StrAppend(&detail, " for ", EventName(*t.event_id));
  return detail;
}

void ToProto(const store::AuditRecord& e, v1::AuditEntry* out) {
  out->set_name(absl::StrCat("auditEntries/", e.id));
  *out->mutable_time() = ToProtoTime(e.time);
  if (e.actor_token_id != 0) out->set_actor(TokenName(e.actor_token_id));
  out->set_action(static_cast<v1::AuditEntry::Action>(e.action));
  out->set_target(e.target);
  out->set_count(e.count);
  out->set_detail(e.detail);
}

// Re-reads the keys once a change has committed, so this replica never signs with an uncommitted
// key.
absl::Status ReloadKeys(const Call& call, const ServiceDeps& deps) {
  return call.Transaction([&](pqxx::work& txn) { return deps.keys->Reload(txn, *deps.data_key, deps.clock->Now()); });
}

}  // namespace

ServerUnaryReactor* AdminServiceImpl::CreateDeviceToken(CallbackServerContext* ctx,
                                                        const v1::CreateDeviceTokenRequest* req,
                                                        v1::CreateDeviceTokenResponse* resp) {
  return RunUnary(ctx, deps_, [req, resp](Call& call) -> absl::Status {
    RETURN_IF_ERROR(call.principal.Require({Role::kAdmin, Role::kOrganizer}));
    if (!v1::Role_IsValid(req->role()) || req->role() == v1::ROLE_UNSPECIFIED) {
      return absl::InvalidArgumentError("role: must be ADMIN, ORGANIZER, DOOR or DASHBOARD");
    }
    const Role role = static_cast<Role>(req->role());
    std::optional<int64_t> event_id;
    if (!req->event().empty()) {
      ASSIGN_OR_RETURN(event_id, ParseEventName("event", req->event()));
    }
    if (!event_id && (role == Role::kDoor || role == Role::kDashboard)) {
      return absl::InvalidArgumentError("event: DOOR and DASHBOARD tokens must name their event");
    }
    if (event_id && role == Role::kAdmin) {
      return absl::InvalidArgumentError("event: ADMIN tokens cover every event; leave it empty");
    }
    RETURN_IF_ERROR(domain::CheckText("label", req->label(), domain::kMaxShortTextBytes, false));
    RETURN_IF_ERROR(MayManage(call.principal, role, event_id));
    return call.Transaction([&](pqxx::work& txn) -> absl::Status {
      if (event_id) RETURN_IF_ERROR(store::PgEventStore::GetEvent(txn, *event_id).status());
      ASSIGN_OR_RETURN(store::CreatedToken created,
                       store::PgTokenStore::Create(txn, role, event_id, req->label()));
      ToProto(created.token, resp->mutable_token());
      resp->set_secret(created.secret);
      Audit(txn, call.principal, v1::AuditEntry::TOKEN_CREATED, TokenName(created.token.id), 0,
            TokenDetail(created.token));
      return absl::OkStatus();
    });
  });
}

ServerUnaryReactor* AdminServiceImpl::ListDeviceTokens(CallbackServerContext* ctx,
                                                       const v1::ListDeviceTokensRequest* req,
                                                       v1::ListDeviceTokensResponse* resp) {
  return RunUnary(ctx, deps_, [req, resp](Call& call) -> absl::Status {
    std::optional<int64_t> event_id;
    if (!req->event().empty()) {
      ASSIGN_OR_RETURN(event_id, ParseEventName("event", req->event()));
    }
    RETURN_IF_ERROR(call.principal.Require({Role::kAdmin, Role::kOrganizer}, event_id.value_or(0)));
    if (call.principal.event_id && !event_id) event_id = call.principal.event_id;
    return call.Transaction([&](pqxx::work& txn) -> absl::Status {
      ASSIGN_OR_RETURN(std::vector<store::TokenRecord> tokens,
                       store::PgTokenStore::List(txn, event_id));
      resp->Clear();
      for (const store::TokenRecord& t : tokens) {
        if (MayManage(call.principal, t.role, t.event_id).ok()) {
          ToProto(t, resp->add_tokens());
        }
      }
      return absl::OkStatus();
    });
  });
}

ServerUnaryReactor* AdminServiceImpl::RevokeDeviceToken(CallbackServerContext* ctx,
                                                        const v1::RevokeDeviceTokenRequest* req,
                                                        v1::DeviceToken* resp) {
  return RunUnary(ctx, deps_, [this, req, resp](Call& call) -> absl::Status {
    RETURN_IF_ERROR(call.principal.Require({Role::kAdmin, Role::kOrganizer}));
    ASSIGN_OR_RETURN(int64_t token_id, ParseTokenName("name", req->name()));
    RETURN_IF_ERROR(call.Transaction([&](pqxx::work& txn) -> absl::Status {
      ASSIGN_OR_RETURN(store::TokenRecord token, store::PgTokenStore::Get(txn, token_id));
      RETURN_IF_ERROR(MayManage(call.principal, token.role, token.event_id));
      ASSIGN_OR_RETURN(store::TokenRecord revoked,
                       store::PgTokenStore::Revoke(txn, token_id, deps_.clock->Now()));
      ToProto(revoked, resp);
      Audit(txn, call.principal, v1::AuditEntry::TOKEN_REVOKED, TokenName(token_id), 0,
            TokenDetail(revoked));
      return absl::OkStatus();
    }));
    deps_.auth->Forget();
    return absl::OkStatus();
  });
}

ServerUnaryReactor* AdminServiceImpl::RotateSigningKey(CallbackServerContext* ctx,
                                                       const v1::RotateSigningKeyRequest*,
                                                       v1::SigningKeyInfo* resp) {
  return RunUnary(ctx, deps_, [this, resp](Call& call) -> absl::Status {
    RETURN_IF_ERROR(call.principal.Require({Role::kAdmin}));
    RETURN_IF_ERROR(call.Transaction([&](pqxx::work& txn) -> absl::Status {
      ASSIGN_OR_RETURN(store::SigningKeyRecord k,
                       store::PgKeyStore::Rotate(txn, *deps_.data_key, deps_.clock->Now()));
      ToProto(k, resp);
      Audit(txn, call.principal, v1::AuditEntry::SIGNING_KEY_ROTATED, SigningKeyName(k.key.key_id));
      return absl::OkStatus();
    }));
    return ReloadKeys(call, deps_);
  });
}

ServerUnaryReactor* AdminServiceImpl::ListSigningKeys(CallbackServerContext* ctx,
                                                      const v1::ListSigningKeysRequest*,
                                                      v1::ListSigningKeysResponse* resp) {
  return RunUnary(ctx, deps_, [this, resp](Call& call) -> absl::Status {
    RETURN_IF_ERROR(call.principal.Require({Role::kAdmin}));
    return call.Transaction([&](pqxx::work& txn) -> absl::Status {
      ASSIGN_OR_RETURN(std::vector<store::SigningKeyRecord> keys,
                       store::PgKeyStore::List(txn, *deps_.data_key));
      resp->Clear();
      for (const store::SigningKeyRecord& k : keys) ToProto(k, resp->add_keys());
      return absl::OkStatus();
    });
  });
}

ServerUnaryReactor* AdminServiceImpl::RevokeSigningKey(CallbackServerContext* ctx,
                                                       const v1::RevokeSigningKeyRequest* req,
                                                       v1::SigningKeyInfo* resp) {
  return RunUnary(ctx, deps_, [this, req, resp](Call& call) -> absl::Status {
    RETURN_IF_ERROR(call.principal.Require({Role::kAdmin}));
    if (req->key_id() == 0 || req->key_id() > 0xFFFF) {
      return absl::InvalidArgumentError("key_id: must name a signing key (1-65535)");
    }
    const auto key_id = static_cast<uint16_t>(req->key_id());
    RETURN_IF_ERROR(call.Transaction([&](pqxx::work& txn) -> absl::Status {
      ASSIGN_OR_RETURN(store::SigningKeyRecord k,
                       store::PgKeyStore::Revoke(txn, *deps_.data_key, key_id, deps_.clock->Now()));
      // Attendees get a code that works: GetTicket and Register replays answer the new one.
      ASSIGN_OR_RETURN(domain::SigningKey active, store::PgKeyStore::Active(txn, *deps_.data_key));
      ASSIGN_OR_RETURN(int reissued,
                       store::PgRegistrationStore::ReissueSignedBy(txn, key_id, active));
      ToProto(k, resp);
      resp->set_tickets_reissued(reissued);
      Audit(txn, call.principal, v1::AuditEntry::SIGNING_KEY_REVOKED, SigningKeyName(key_id),
            reissued);
      return absl::OkStatus();
    }));
    return ReloadKeys(call, deps_);
  });
}

ServerUnaryReactor* AdminServiceImpl::PurgePersonalData(CallbackServerContext* ctx,
                                                        const v1::PurgePersonalDataRequest* req,
                                                        v1::PurgePersonalDataResponse* resp) {
  return RunUnary(ctx, deps_, [this, req, resp](Call& call) -> absl::Status {
    RETURN_IF_ERROR(call.principal.Require({Role::kAdmin}));
    PurgeRequest purge;
    ASSIGN_OR_RETURN(purge.event_id, ParseEventName("event", req->event()));
    purge.force = req->force();
    purge.actor_token_id = call.principal.token_id;
    purge.detail = req->force() ? "forced" : "";
    ASSIGN_OR_RETURN(store::PurgeOutcome done, PurgeAndAudit(call.conn, purge, deps_.clock->Now()));
    resp->set_registrations_purged(done.registrations_purged);
    *resp->mutable_purge_time() = ToProtoTime(done.purge_time);
    // After the commit, on a connection of its own: VACUUM cannot run in a transaction.
    const absl::Status vacuumed =
        store::VacuumPurgedTables(deps_.db->connection_string(), kVacuumLockWait);
    resp->set_vacuumed(vacuumed.ok());
    return absl::OkStatus();
  });
}

ServerUnaryReactor* AdminServiceImpl::ListAuditEntries(CallbackServerContext* ctx,
                                                       const v1::ListAuditEntriesRequest* req,
                                                       v1::ListAuditEntriesResponse* resp) {
  return RunUnary(ctx, deps_, [req, resp](Call& call) -> absl::Status {
    RETURN_IF_ERROR(call.principal.Require({Role::kAdmin}));
    ASSIGN_OR_RETURN(int limit,
                     PageSize(req->page_size(), kDefaultAuditPageSize, kMaxAuditPageSize));
    ASSIGN_OR_RETURN(PageKey after, ParsePageToken("auditEntries", req->page_token()));
    return call.Transaction([&](pqxx::work& txn) -> absl::Status {
      const std::vector<store::AuditRecord> entries =
          store::PgAuditStore::List(txn, after.id, limit);
      resp->Clear();
      for (const store::AuditRecord& e : entries) ToProto(e, resp->add_entries());
      if (static_cast<int>(entries.size()) == limit) {
        resp->set_next_page_token(PageTokenAfter("auditEntries", {entries.back().id}));
      }
      return absl::OkStatus();
    });
  });
}

}  // namespace turnout::api
