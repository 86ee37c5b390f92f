// Ticket signing keys: kept in PostgreSQL (secret halves sealed with the data key) and held in
// memory by TicketKeys, which every replica refreshes so that a rotation anywhere is seen
// everywhere.
#ifndef TURNOUT_SERVER_STORE_KEY_STORE_H_
#define TURNOUT_SERVER_STORE_KEY_STORE_H_

#include <optional>
#include <pqxx/pqxx>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/domain/ticket_code.h"
#include "server/store/data_key.h"

namespace turnout::store {

struct SigningKeyRecord {
  domain::SigningKey key;
  bool active = false;
  absl::Time create_time;
  std::optional<absl::Time> revoke_time;
};

class PgKeyStore {
 public:
  static absl::StatusOr<std::vector<SigningKeyRecord>> List(pqxx::work& txn,
                                                            const DataKey& data_key);
  // Creates a new active key, made at `now` (the previous active one keeps verifying).
  static absl::StatusOr<SigningKeyRecord> Rotate(pqxx::work& txn, const DataKey& data_key,
                                                 absl::Time now);
  // Codes signed by a revoked key scan as REVOKED. The active key cannot be revoked: rotate first.
  // The caller reissues the tickets the key signed (PgRegistrationStore::ReissueSignedBy).
  // A key revoked before keeps its revoke time; otherwise it is revoked at `now`.
  static absl::StatusOr<SigningKeyRecord> Revoke(pqxx::work& txn, const DataKey& data_key,
                                                 uint16_t key_id, absl::Time now);
  // The key that signs new tickets, as committed (another replica may have rotated since this
  // one last reloaded).
  static absl::StatusOr<domain::SigningKey> Active(pqxx::work& txn, const DataKey& data_key);
};

// The keys in memory. Thread-safe.
class TicketKeys {
 public:
  // Loads the keys, creating the first one on a new deployment.
  absl::Status Reload(pqxx::work& txn, const DataKey& data_key, absl::Time now);
  domain::KeyRing Ring() const;
  std::optional<domain::SigningKey> Active() const;
  // Whether `key_id` is unknown here (another replica may have rotated): the caller reloads.
  bool Knows(uint16_t key_id) const;

 private:
  mutable absl::Mutex mu_;
  domain::KeyRing ring_ ABSL_GUARDED_BY(mu_);
  std::optional<domain::SigningKey> active_ ABSL_GUARDED_BY(mu_);
};

}  // namespace turnout::store

#endif  // TURNOUT_SERVER_STORE_KEY_STORE_H_
