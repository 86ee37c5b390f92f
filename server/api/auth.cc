#include "server/api/auth.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/store/pg.h"
#include "server/store/token_store.h"

namespace turnout::api {
namespace {

constexpr size_t kMaxCachedTokens = 10000;
constexpr size_t kMaxAuthorizationBytes = 200;

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kAdmin:
      return "ADMIN";
    case Role::kOrganizer:
      return "ORGANIZER";
    case Role::kDoor:
      return "DOOR";
    case Role::kDashboard:
      return "DASHBOARD";
    case Role::kNone:
      break;
  }
  return "anonymous";
}

bool Principal::Is(std::initializer_list<Role> roles) const {
  return authenticated() && std::find(roles.begin(), roles.end(), role) != roles.end();
}

absl::Status Principal::Require(std::initializer_list<Role> roles, int64_t event) const {
  if (!authenticated()) {
    return absl::UnauthenticatedError(
        "this call needs a token: send the metadata \"authorization: Bearer <token>\"");
  }
  if (!Is(roles)) {
    return absl::PermissionDeniedError(
        absl::StrCat("a ", RoleName(role), " token may not make this call"));
  }
  if (event_id.has_value() && event != 0 && *event_id != event) {
    return absl::PermissionDeniedError(absl::StrCat("this token is limited to events/", *event_id));
  }
  return absl::OkStatus();
}

absl::StatusOr<Principal> Authenticator::Authenticate(pqxx::connection* conn,
                                                      const std::string& authorization) {
  if (authorization.empty()) return Principal{};
  absl::string_view secret = authorization;
  // Printable ASCII only: a byte outside it (invalid UTF-8 included) is a malformed token, told
  // as such, and never reaches the database.
  const bool printable = std::all_of(authorization.begin(), authorization.end(),
                                     [](char c) { return c >= 0x20 && c < 0x7f; });
  if (authorization.size() > kMaxAuthorizationBytes || !printable ||
      !absl::ConsumePrefix(&secret, "Bearer ") || !absl::StartsWith(secret, "tnt_")) {
    return absl::UnauthenticatedError(
        "the authorization metadata must be \"Bearer tnt_...\" with a token from turnoutctl");
  }
  const absl::Time now = clock_->Now();
  {
    absl::MutexLock lock(&mu_);
    if (auto it = cache_.find(secret); it != cache_.end() && it->second.expires > now) {
      return it->second.principal;
    }
  }
  std::optional<store::TokenRecord> token;
  absl::Status status = store::Database::InTransaction(conn, [&](pqxx::work& txn) {
    auto found = store::PgTokenStore::FindBySecret(txn, secret);
    if (!found.ok()) return found.status();
    token = *found;
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  if (!token) return absl::UnauthenticatedError("the token is unknown or has been revoked");
  Principal p{token->id, token->role, token->event_id};
  absl::MutexLock lock(&mu_);
  if (cache_.size() >= kMaxCachedTokens) cache_.clear();
  cache_[std::string(secret)] = Cached{p, now + kCacheTtl};
  return p;
}

void Authenticator::Forget() {
  absl::MutexLock lock(&mu_);
  cache_.clear();
}

}  // namespace turnout::api
