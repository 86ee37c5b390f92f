// AdminService: device tokens and signing keys.
#include "absl/strings/str_cat.h"
#include "server/api/convert.h"
#include "server/api/names.h"
#include "server/api/services.h"
#include "server/domain/validation.h"
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

// Re-reads the keys once a change has committed, so this replica never signs with an uncommitted
// key.
absl::Status ReloadKeys(const Call& call, const ServiceDeps& deps) {
  return call.Transaction([&](pqxx::work& txn) { return deps.keys->Reload(txn, *deps.data_key); });
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
                       store::PgTokenStore::Create(txn, req->role(), event_id, req->label()));
      ToProto(created.token, resp->mutable_token());
      resp->set_secret(created.secret);
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
        if (MayManage(call.principal, static_cast<Role>(t.role), t.event_id).ok()) {
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
      RETURN_IF_ERROR(MayManage(call.principal, static_cast<Role>(token.role), token.event_id));
      ASSIGN_OR_RETURN(store::TokenRecord revoked, store::PgTokenStore::Revoke(txn, token_id));
      ToProto(revoked, resp);
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
      ASSIGN_OR_RETURN(store::SigningKeyRecord k, store::PgKeyStore::Rotate(txn, *deps_.data_key));
      ToProto(k, resp);
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
                       store::PgKeyStore::Revoke(txn, *deps_.data_key, key_id));
      // Attendees get a code that works: GetTicket and Register replays answer the new one.
      ASSIGN_OR_RETURN(domain::SigningKey active, store::PgKeyStore::Active(txn, *deps_.data_key));
      ASSIGN_OR_RETURN(int reissued,
                       store::PgRegistrationStore::ReissueSignedBy(txn, key_id, active));
      ToProto(k, resp);
      resp->set_tickets_reissued(reissued);
      return absl::OkStatus();
    }));
    return ReloadKeys(call, deps_);
  });
}

ServerUnaryReactor* AdminServiceImpl::PurgePersonalData(CallbackServerContext* ctx,
                                                        const v1::PurgePersonalDataRequest*,
                                                        v1::PurgePersonalDataResponse*) {
  // Who asks is checked first: a stranger learns nothing, not even what this release lacks.
  return RunUnary(ctx, deps_, [](Call& call) -> absl::Status {
    RETURN_IF_ERROR(call.principal.Require({Role::kAdmin}));
    return absl::UnimplementedError("PurgePersonalData is not available in this release yet");
  });
}

}  // namespace turnout::api
