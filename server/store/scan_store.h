// Scans and presence in PostgreSQL: records each scan attempt, decides it with the pure rules of
// domain/scan_rules.h under a row lock on the ticket's presence at the checkpoint (so concurrent
// scans of one ticket admit it once), and tallies the counts per checkpoint.
#ifndef TURNOUT_SERVER_STORE_SCAN_STORE_H_
#define TURNOUT_SERVER_STORE_SCAN_STORE_H_

#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/domain/scan_rules.h"
#include "server/domain/ticket_code.h"
#include "server/store/records.h"

namespace turnout::store {

struct ScanInput {
  int64_t event_id = 0;       // the door's event
  int64_t checkpoint_id = 0;  // 0 means the entrance
  int64_t device_id = 0;      // the token that scans
  std::string client_scan_id;
  domain::Direction direction = domain::Direction::kEntry;
  absl::Time scanned_at;
  // The door sent no scan_time: the scan is made now, and takes the database's clock when it is
  // decided (scanned_at is then only the API's estimate).
  bool scanned_now = false;
  // When the server received it (the server's clock): the annul window and the arrivals of the
  // last minute count from it.
  absl::Time received_at;
  bool offline = false;
  int device_status = 0;  // ScanResult.Status an offline device decided; 0 if online
  // The code as read. Never stored: it orders a batch's locks (ScanBatcher) and is verified.
  std::string code;
  // All that a refused scan keeps of the code (a volunteer may scan a driver's licence): a keyed
  // digest of it, its length in bytes, and its header only when it could be a damaged Turnout
  // code (domain::TicketCodeHeader). An accepted scan keeps none of it: it names its registration.
  std::string code_hash;
  int32_t code_length = 0;
  std::string code_header;
  domain::VerifiedCode verified;
  // Admit a registration found by search instead of a code; 0 to use the code.
  int64_t registration_id = 0;
  // A keyed digest of what was scanned and the direction (ScanRequestDigest): a client_scan_id
  // sent again must come with the same digest and checkpoint to be answered as a retry.
  std::string request_digest;
};

struct ScanOutcome {
  int64_t scan_id = 0;
  int64_t checkpoint_id = 0;
  bool at_session = false;  // the checkpoint is a session's, not the entrance (new scans only)
  domain::ScanStatus status = domain::ScanStatus::kInvalid;
  bool replayed = false;
  // Filled when the ticket belongs to this event.
  std::optional<RegistrationRecord> registration;
  std::optional<absl::Time> first_entry_time;
};

class PgScanStore {
 public:
  // Decides and records one scan, in the ticket's canonical order at the checkpoint (scan time,
  // then arrival; see domain::ReplayPresence). The same (device, client_scan_id) for the same
  // scan answers its current status and changes nothing; for another scan it is ALREADY_EXISTS.
  // NOT_FOUND for an unknown checkpoint or registration. An error records nothing.
  static absl::StatusOr<ScanOutcome> RecordScan(pqxx::work& txn, const ScanInput& input);

  // RecordScan for each of `inputs`, in their order, as if one after another, with the batch's
  // reads and writes in a few statements (scan_queries.h, "the batch path") instead of several
  // per scan. Throws when one of those statements fails (or a client_scan_id of the batch
  // committed concurrently elsewhere): the caller then rolls back and records them one by one.
  static std::vector<absl::StatusOr<ScanOutcome>> RecordScans(
      pqxx::work& txn, const std::vector<const ScanInput*>& inputs);

  // Undoes an accepted or refused scan: only `device_id` that made it, within `window` of `now`
  // after it was received; the annulment is recorded at `now`.
  // The ticket's remaining scans there are re-decided in canonical order.
  static absl::Status Annul(pqxx::work& txn, int64_t event_id, int64_t scan_id, int64_t device_id,
                            absl::Time now, absl::Duration window);

  // Offline scans whose door decision differs from their canonical status (not annulled).
  static int64_t Conflicts(pqxx::work& txn, int64_t event_id);

  // Exact counts per checkpoint, entrance first; arrivals are those received in the minute
  // before `now`.
  static absl::StatusOr<std::vector<CheckpointCountsRecord>> Attendance(pqxx::work& txn,
                                                                        int64_t event_id,
                                                                        absl::Time now);
};

}  // namespace turnout::store

#endif  // TURNOUT_SERVER_STORE_SCAN_STORE_H_
