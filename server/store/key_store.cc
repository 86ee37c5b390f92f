#include "server/store/key_store.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/store/pg.h"
#include "server/store/query.h"

namespace turnout::store {
namespace {

template <size_t N>
bool FromHex(const std::string& hex, std::array<uint8_t, N>& out) {
  const std::string bytes = absl::HexStringToBytes(hex);
  if (bytes.size() != N) return false;
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return true;
}

template <size_t N>
std::string ToHex(const std::array<uint8_t, N>& in) {
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(in.data()), N));
}

// Every signing key, by id; read by ReadKey.
constexpr Query kList{"key_list", R"(
    SELECT key_id, public_key, secret_sealed, active, us_of(create_time) AS create_us,
           us_of(revoke_time) AS revoke_us
    FROM signing_keys ORDER BY key_id)"};

// A row of kList, its secret key opened with the data key.
absl::StatusOr<SigningKeyRecord> ReadKey(const pqxx::row& r, const DataKey& data_key) {
  SigningKeyRecord k;
  k.key.key_id = static_cast<uint16_t>(Column<int>(r, "key_id"));
  auto secret = data_key.Open(Column<std::string>(r, "secret_sealed"));
  if (!secret.ok()) return secret.status();
  if (!FromHex(Column<std::string>(r, "public_key"), k.key.public_key) ||
      !FromHex(*secret, k.key.secret_key)) {
    return absl::DataLossError(absl::StrCat("signing key ", k.key.key_id, " is damaged"));
  }
  k.active = Column<bool>(r, "active");
  k.create_time = FromMicros(Column<int64_t>(r, "create_us"));
  if (!r["revoke_us"].is_null()) k.revoke_time = FromMicros(Column<int64_t>(r, "revoke_us"));
  return k;
}

// Rotations take turns: the next id and the one active key are decided under this lock.
constexpr Query kLock{"key_lock", "LOCK TABLE signing_keys IN EXCLUSIVE MODE"};

constexpr Query kNextId{"key_next_id",
                        "SELECT coalesce(max(key_id), 0) + 1 AS next_id FROM signing_keys"};

constexpr Query kDeactivate{"key_deactivate",
                            "UPDATE signing_keys SET active = false WHERE active"};

// A new active key: id $1, public key $2 (hex), secret key $3 (sealed with the data key), made
// at $4 (µs).
constexpr Query kInsert{"key_insert", R"(
    INSERT INTO signing_keys (key_id, public_key, secret_sealed, active, create_time)
    VALUES ($1, $2, $3, true, ts_of($4)))"};

// Revokes key $1 at $2 (µs) (once: a second revoke keeps the first time).
constexpr Query kRevoke{"key_revoke", R"(
    UPDATE signing_keys SET revoke_time = coalesce(revoke_time, ts_of($2)) WHERE key_id = $1)"};

}  // namespace

absl::StatusOr<std::vector<SigningKeyRecord>> PgKeyStore::List(pqxx::work& txn,
                                                               const DataKey& data_key) {
  std::vector<SigningKeyRecord> keys;
  for (const pqxx::row& r : Run(txn, kList)) {
    auto k = ReadKey(r, data_key);
    if (!k.ok()) return k.status();
    keys.push_back(*std::move(k));
  }
  return keys;
}

absl::StatusOr<SigningKeyRecord> PgKeyStore::Rotate(pqxx::work& txn, const DataKey& data_key,
                                                    absl::Time now) {
  Run(txn, kLock);
  const int next = Column<int>(Run(txn, kNextId)[0], "next_id");
  if (next > 0xFFFF) return absl::ResourceExhaustedError("no signing key ids are left");
  domain::SigningKey key = domain::GenerateSigningKey(static_cast<uint16_t>(next));
  Run(txn, kDeactivate);
  Run(txn, kInsert, next, ToHex(key.public_key), data_key.Seal(ToHex(key.secret_key)),
      ToMicros(now));
  SigningKeyRecord record;
  record.key = key;
  record.active = true;
  record.create_time = now;
  return record;
}

absl::StatusOr<SigningKeyRecord> PgKeyStore::Revoke(pqxx::work& txn, const DataKey& data_key,
                                                    uint16_t key_id, absl::Time now) {
  auto keys = List(txn, data_key);
  if (!keys.ok()) return keys.status();
  for (const SigningKeyRecord& k : *keys) {
    if (k.key.key_id != key_id) continue;
    if (k.active) {
      return absl::FailedPreconditionError(absl::StrCat(
          "key ", key_id, " signs new tickets; rotate to a new key before revoking it"));
    }
    Run(txn, kRevoke, static_cast<int>(key_id), ToMicros(now));
    SigningKeyRecord revoked = k;
    if (!revoked.revoke_time) revoked.revoke_time = now;
    return revoked;
  }
  return absl::NotFoundError(absl::StrCat("signing key ", key_id, " does not exist"));
}

absl::StatusOr<domain::SigningKey> PgKeyStore::Active(pqxx::work& txn, const DataKey& data_key) {
  auto keys = List(txn, data_key);
  if (!keys.ok()) return keys.status();
  for (const SigningKeyRecord& k : *keys) {
    if (k.active) return k.key;
  }
  return absl::FailedPreconditionError("no signing key is active; rotate to create one");
}

absl::Status TicketKeys::Reload(pqxx::work& txn, const DataKey& data_key, absl::Time now) {
  auto keys = PgKeyStore::List(txn, data_key);
  if (!keys.ok()) return keys.status();
  if (keys->empty()) {
    auto first = PgKeyStore::Rotate(txn, data_key, now);
    if (!first.ok()) return first.status();
    keys->push_back(*first);
  }
  domain::KeyRing ring;
  std::optional<domain::SigningKey> active;
  for (const SigningKeyRecord& k : *keys) {
    ring.Add(domain::VerifyingKey{k.key.key_id, k.key.public_key, k.revoke_time.has_value()});
    if (k.active) active = k.key;
  }
  absl::MutexLock lock(&mu_);
  ring_ = std::move(ring);
  active_ = active;
  return absl::OkStatus();
}

domain::KeyRing TicketKeys::Ring() const {
  absl::MutexLock lock(&mu_);
  return ring_;
}

std::optional<domain::SigningKey> TicketKeys::Active() const {
  absl::MutexLock lock(&mu_);
  return active_;
}

bool TicketKeys::Knows(uint16_t key_id) const {
  absl::MutexLock lock(&mu_);
  return ring_.Find(key_id) != nullptr;
}

}  // namespace turnout::store
