// What an offline door bundle is built from, read in one snapshot: the event's valid tickets with
// what the door sees of their registrations, their breakout choices and presence, and the tickets
// revoked by reissues. Incremental by version (docs/door-protocol.md): a delta holds the
// registrations whose registration row, current ticket, choices or presence changed since.
#ifndef TURNOUT_SERVER_STORE_BUNDLE_STORE_H_
#define TURNOUT_SERVER_STORE_BUNDLE_STORE_H_

#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/store/records.h"

namespace turnout::store {

struct BundlePresence {
  int64_t checkpoint_id = 0;
  bool ever_admitted = false;
  bool inside = false;
  absl::Time first_entry_time = absl::InfinitePast();  // InfinitePast: none
  absl::Time last_scan_time = absl::InfinitePast();
};

// One valid ticket and what its roster entry holds.
struct BundleTicket {
  std::string ticket_id_hex;
  std::string code;
  RegistrationRecord registration;  // door fields only (no contact fields), choices included
  std::vector<BundlePresence> presence;
};

struct BundleRows {
  int64_t version = 0;
  bool full = true;
  std::vector<BundleTicket> tickets;
  std::vector<std::string> revoked_ticket_ids;  // hex
};

class PgBundleStore {
 public:

  // Reads a full bundle (since_version 0, or a version this database never gave) or the changes
  // after `since_version`. Sets the transaction to REPEATABLE READ, READ ONLY: call it first.
  static absl::StatusOr<BundleRows> Read(pqxx::work& txn, int64_t event_id, int64_t since_version);
};

}  // namespace turnout::store

#endif  // TURNOUT_SERVER_STORE_BUNDLE_STORE_H_
