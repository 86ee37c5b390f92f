// Who is calling: bearer tokens resolved to a role and an event scope, with a short cache so that
// a scan does not pay a token lookup. Checked by every RPC before it reads its request.
#ifndef TURNOUT_SERVER_API_AUTH_H_
#define TURNOUT_SERVER_API_AUTH_H_

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <pqxx/pqxx>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/domain/role.h"
#include "server/util/clock.h"

namespace turnout::api {

using domain::Role;
const char* RoleName(Role role);

struct Principal {
  int64_t token_id = 0;  // 0: anonymous
  Role role = Role::kNone;
  std::optional<int64_t> event_id;  // the token's scope; none = every event

  bool authenticated() const { return token_id != 0; }
  // UNAUTHENTICATED without a token; PERMISSION_DENIED for another role, or for an event outside
  // the token's scope. `event_id` 0 means the call names no event.
  absl::Status Require(std::initializer_list<Role> roles, int64_t event_id = 0) const;
  bool Is(std::initializer_list<Role> roles) const;
};

class Authenticator {
 public:
  // A revoked token may keep working on other replicas for this long, on `clock`.
  static constexpr absl::Duration kCacheTtl = absl::Seconds(5);

  explicit Authenticator(const util::Clock* clock = util::Clock::Real()) : clock_(clock) {}

  // `authorization` is the metadata value ("Bearer tnt_..."); empty gives the anonymous principal.
  absl::StatusOr<Principal> Authenticate(pqxx::connection* conn, const std::string& authorization);
  void Forget();  // after a revocation on this replica

 private:
  struct Cached {
    Principal principal;
    absl::Time expires;
  };
  const util::Clock* const clock_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Cached> cache_ ABSL_GUARDED_BY(mu_);
};

}  // namespace turnout::api

#endif  // TURNOUT_SERVER_API_AUTH_H_
