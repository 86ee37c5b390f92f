// Bearer tokens: only a hash of each secret is stored; the secret is shown once, when created.
#ifndef TURNOUT_SERVER_STORE_TOKEN_STORE_H_
#define TURNOUT_SERVER_STORE_TOKEN_STORE_H_

#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/store/records.h"

namespace turnout::store {

// A new random secret: "tnt_" and 52 Base32 characters (256 bits).
std::string NewTokenSecret();
// BLAKE2b-256 of the secret, hex: what the database keeps.
std::string HashTokenSecret(absl::string_view secret);

struct CreatedToken {
  TokenRecord token;
  std::string secret;
};

class PgTokenStore {
 public:
  static absl::StatusOr<CreatedToken> Create(pqxx::work& txn, domain::Role role,
                                             std::optional<int64_t> event_id,
                                             absl::string_view label);
  // The live (not revoked) token with this secret, or nullopt.
  static absl::StatusOr<std::optional<TokenRecord>> FindBySecret(pqxx::work& txn,
                                                                 absl::string_view secret);
  static absl::StatusOr<std::vector<TokenRecord>> List(pqxx::work& txn,
                                                       std::optional<int64_t> event_id);
  static absl::StatusOr<TokenRecord> Get(pqxx::work& txn, int64_t token_id);
  // A token revoked before keeps its revoke time; otherwise it is revoked at `now`.
  static absl::StatusOr<TokenRecord> Revoke(pqxx::work& txn, int64_t token_id, absl::Time now);
  // Whether any live ADMIN token exists (the first start creates one).
  static absl::StatusOr<bool> AnyAdmin(pqxx::work& txn);
};

}  // namespace turnout::store

#endif  // TURNOUT_SERVER_STORE_TOKEN_STORE_H_
