#include "server/store/token_store.h"

#include <sodium.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/domain/base32.h"
#include "server/store/pg.h"

namespace turnout::store {
namespace {

TokenRecord ReadToken(const pqxx::row& r) {
  TokenRecord t;
  t.id = r[0].as<int64_t>();
  t.role = r[1].as<int>();
  if (!r[2].is_null()) t.event_id = r[2].as<int64_t>();
  t.label = r[3].as<std::string>();
  t.create_time = FromMicros(r[4].as<int64_t>());
  if (!r[5].is_null()) t.revoke_time = FromMicros(r[5].as<int64_t>());
  return t;
}

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

void PgTokenStore::RegisterStatements() {
  AddStatements({
      {"token_insert", R"(
          INSERT INTO tokens (token_hash, role, event_id, label) VALUES ($1, $2, NULLIF($3::bigint, 0), $4)
          RETURNING id, role, event_id, label, us_of(create_time), us_of(revoke_time))"},
      {"token_by_hash", R"(
          SELECT id, role, event_id, label, us_of(create_time), us_of(revoke_time)
          FROM tokens WHERE token_hash = $1 AND revoke_time IS NULL)"},
      {"token_list", R"(
          SELECT id, role, event_id, label, us_of(create_time), us_of(revoke_time)
          FROM tokens WHERE $1::bigint = 0 OR event_id = $1::bigint ORDER BY id)"},
      {"token_get", R"(
          SELECT id, role, event_id, label, us_of(create_time), us_of(revoke_time)
          FROM tokens WHERE id = $1)"},
      {"token_revoke", R"(
          UPDATE tokens SET revoke_time = coalesce(revoke_time, ts_of($2)) WHERE id = $1
          RETURNING id, role, event_id, label, us_of(create_time), us_of(revoke_time))"},
      {"token_any_admin",
       "SELECT EXISTS (SELECT 1 FROM tokens WHERE role = 1 AND revoke_time IS NULL)"},
  });
}

absl::StatusOr<CreatedToken> PgTokenStore::Create(pqxx::work& txn, int role,
                                                  std::optional<int64_t> event_id,
                                                  absl::string_view label) {
  CreatedToken created;
  created.secret = NewTokenSecret();
  pqxx::result r = txn.exec_prepared("token_insert", HashTokenSecret(created.secret), role,
                                     event_id.value_or(0), std::string(label));
  created.token = ReadToken(r[0]);
  return created;
}

absl::StatusOr<std::optional<TokenRecord>> PgTokenStore::FindBySecret(pqxx::work& txn,
                                                                      absl::string_view secret) {
  pqxx::result r = txn.exec_prepared("token_by_hash", HashTokenSecret(secret));
  if (r.empty()) return std::optional<TokenRecord>();
  return std::optional<TokenRecord>(ReadToken(r[0]));
}

absl::StatusOr<std::vector<TokenRecord>> PgTokenStore::List(pqxx::work& txn,
                                                            std::optional<int64_t> event_id) {
  std::vector<TokenRecord> tokens;
  for (const pqxx::row& r : txn.exec_prepared("token_list", event_id.value_or(0))) {
    tokens.push_back(ReadToken(r));
  }
  return tokens;
}

absl::StatusOr<TokenRecord> PgTokenStore::Get(pqxx::work& txn, int64_t token_id) {
  pqxx::result r = txn.exec_prepared("token_get", token_id);
  if (r.empty()) {
    return absl::NotFoundError(absl::StrCat("token tokens/", token_id, " does not exist"));
  }
  return ReadToken(r[0]);
}

absl::StatusOr<TokenRecord> PgTokenStore::Revoke(pqxx::work& txn, int64_t token_id,
                                                 absl::Time now) {
  pqxx::result r = txn.exec_prepared("token_revoke", token_id, ToMicros(now));
  if (r.empty())
    return absl::NotFoundError(absl::StrCat("token tokens/", token_id, " does not exist"));
  return ReadToken(r[0]);
}

absl::StatusOr<bool> PgTokenStore::AnyAdmin(pqxx::work& txn) {
  return txn.exec_prepared("token_any_admin")[0][0].as<bool>();
}

}  // namespace turnout::store
