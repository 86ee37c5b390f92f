#include "server/store/token_store.h"

#include <sodium.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/domain/base32.h"
#include "server/store/pg.h"
#include "server/store/query.h"

namespace turnout::store {
namespace {

using domain::Role;

// Every query on tokens returns these columns: id, role, event_id, label, create_us, revoke_us.
TokenRecord ReadToken(const pqxx::row& r) {
  TokenRecord t;
  t.id = Column<int64_t>(r, "id");
  t.role = domain::FromStored<Role>(Column<int>(r, "role"));
  if (!r["event_id"].is_null()) t.event_id = Column<int64_t>(r, "event_id");
  t.label = Column<std::string>(r, "label");
  t.create_time = FromMicros(Column<int64_t>(r, "create_us"));
  if (!r["revoke_us"].is_null()) t.revoke_time = FromMicros(Column<int64_t>(r, "revoke_us"));
  return t;
}

// A new token: hash $1, role $2, event $3 (0: every event), label $4.
constexpr Query kInsert{"token_insert", R"(
    INSERT INTO tokens (token_hash, role, event_id, label)
    VALUES ($1, $2, NULLIF($3::bigint, 0), $4)
    RETURNING id, role, event_id, label, us_of(create_time) AS create_us,
              us_of(revoke_time) AS revoke_us)"};

// The live token whose secret hashes to $1.
constexpr Query kByHash{"token_by_hash", R"(
    SELECT id, role, event_id, label, us_of(create_time) AS create_us,
           us_of(revoke_time) AS revoke_us
    FROM tokens WHERE token_hash = $1 AND revoke_time IS NULL)"};

// The tokens of event $1 (0: every token), revoked ones included, by id.
constexpr Query kList{"token_list", R"(
    SELECT id, role, event_id, label, us_of(create_time) AS create_us,
           us_of(revoke_time) AS revoke_us
    FROM tokens WHERE $1::bigint = 0 OR event_id = $1::bigint ORDER BY id)"};

constexpr Query kGet{"token_get", R"(
    SELECT id, role, event_id, label, us_of(create_time) AS create_us,
           us_of(revoke_time) AS revoke_us
    FROM tokens WHERE id = $1)"};

// Revokes token $1 at $2 (µs) (once: a second revoke keeps the first time).
constexpr Query kRevoke{"token_revoke", R"(
    UPDATE tokens SET revoke_time = coalesce(revoke_time, ts_of($2)) WHERE id = $1
    RETURNING id, role, event_id, label, us_of(create_time) AS create_us,
              us_of(revoke_time) AS revoke_us)"};

// Whether a live token with role $1 (ADMIN) exists.
constexpr Query kAnyWithRole{"token_any_with_role", R"(
    SELECT EXISTS (SELECT 1 FROM tokens WHERE role = $1 AND revoke_time IS NULL) AS any)"};

}  // namespace

std::string NewTokenSecret() {
  if (sodium_init() < 0) abort();
  std::vector<uint8_t> bytes(32);
  randombytes_buf(bytes.data(), bytes.size());
  return absl::StrCat("tnt_", domain::Base32Encode(bytes));
}

std::string HashTokenSecret(absl::string_view secret) {
  unsigned char hash[crypto_generichash_BYTES];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(secret.data()),
                     secret.size(), nullptr, 0);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(hash), sizeof hash));
}

absl::StatusOr<CreatedToken> PgTokenStore::Create(pqxx::work& txn, Role role,
                                                  std::optional<int64_t> event_id,
                                                  absl::string_view label) {
  CreatedToken created;
  created.secret = NewTokenSecret();
  pqxx::result r = Run(txn, kInsert, HashTokenSecret(created.secret), domain::Stored(role),
                       event_id.value_or(0), std::string(label));
  created.token = ReadToken(r[0]);
  return created;
}

absl::StatusOr<std::optional<TokenRecord>> PgTokenStore::FindBySecret(pqxx::work& txn,
                                                                      absl::string_view secret) {
  pqxx::result r = Run(txn, kByHash, HashTokenSecret(secret));
  if (r.empty()) return std::optional<TokenRecord>();
  return std::optional<TokenRecord>(ReadToken(r[0]));
}

absl::StatusOr<std::vector<TokenRecord>> PgTokenStore::List(pqxx::work& txn,
                                                            std::optional<int64_t> event_id) {
  std::vector<TokenRecord> tokens;
  for (const pqxx::row& r : Run(txn, kList, event_id.value_or(0))) {
    tokens.push_back(ReadToken(r));
  }
  return tokens;
}

absl::StatusOr<TokenRecord> PgTokenStore::Get(pqxx::work& txn, int64_t token_id) {
  pqxx::result r = Run(txn, kGet, token_id);
  if (r.empty()) {
    return absl::NotFoundError(absl::StrCat("token tokens/", token_id, " does not exist"));
  }
  return ReadToken(r[0]);
}

absl::StatusOr<TokenRecord> PgTokenStore::Revoke(pqxx::work& txn, int64_t token_id,
                                                 absl::Time now) {
  pqxx::result r = Run(txn, kRevoke, token_id, ToMicros(now));
  if (r.empty())
    return absl::NotFoundError(absl::StrCat("token tokens/", token_id, " does not exist"));
  return ReadToken(r[0]);
}

absl::StatusOr<bool> PgTokenStore::AnyAdmin(pqxx::work& txn) {
  return Column<bool>(Run(txn, kAnyWithRole, domain::Stored(Role::kAdmin))[0], "any");
}

}  // namespace turnout::store
