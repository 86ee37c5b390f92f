// The door engine's durable local store (docs/door-protocol.md §6): one SQLite file, door.sqlite,
// in WAL mode with synchronous=FULL, so that a scan it has recorded survives a crash or a pulled
// battery. It holds:
//   - the offline bundle as received: keys, checkpoints, revoked ticket ids, and the roster entries
//     still sealed, by lookup key (the store itself never holds a name in clear);
//   - this device's scans (LocalScan): the upload queue, and the answers it showed, as ids and
//     statuses only;
//   - the last counts the server gave, per checkpoint.
// A file that SQLite cannot read (corrupt, truncated, not a database) is moved aside with a
// timestamp suffix, the scans still readable in it are carried over to the queue of a fresh store,
// and Open reports it (StoreDamage).
//
//   std::optional<StoreDamage> damage;
//   absl::StatusOr<std::unique_ptr<DoorStore>> store = DoorStore::Open(dir, now, &damage);
//   (*store)->AddScan(scan);  // committed (fsync) when it returns
//
// Not thread-safe: the engine serializes calls.
#ifndef TURNOUT_CLIENT_LIB_DOOR_STORE_H_
#define TURNOUT_CLIENT_LIB_DOOR_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client-lib/local_scan.h"
#include "server/domain/ticket_code.h"
#include "turnout/v1/attendance_service.pb.h"
#include "turnout/v1/checkin_service.pb.h"

struct sqlite3;

namespace turnout::client {

// What Open found wrong with an existing store.
struct StoreDamage {
  std::string moved_to;        // where the damaged file now is
  std::string what;            // SQLite's diagnosis, e.g. "file is not a database"
  int64_t salvaged_scans = 0;  // queued scans read from it and queued again in the new store
};

// The bundle's small parts, kept in memory; entries and revocations stay in the file.
struct StoredBundle {
  std::string event;    // "events/{event}" this store belongs to; empty when new
  int64_t version = 0;  // 0: no bundle yet
  absl::Time refreshed = absl::InfinitePast();  // the device's clock when it was last applied
  std::string time_zone;
  std::string title;
  // The latest bundle's event_state (Event.State); STATE_UNSPECIFIED from an older server.
  int event_state = 0;
  domain::KeyRing keys;
  std::vector<v1::Checkpoint> checkpoints;
};

class DoorStore {
 public:
  static constexpr char kFileName[] = "door.sqlite";

  // Opens or creates `dir`/door.sqlite (creating `dir` too). A damaged file is set aside as
  // door.sqlite.damaged-YYYYMMDDTHHMMSSZ (with its -wal and -shm) and described in `*damage`.
  static absl::StatusOr<std::unique_ptr<DoorStore>> Open(const std::string& dir, absl::Time now,
                                                         std::optional<StoreDamage>* damage);
  ~DoorStore();
  DoorStore(const DoorStore&) = delete;
  DoorStore& operator=(const DoorStore&) = delete;

  const std::string& path() const { return path_; }

  // Ties the store to `event`. A store of another event is emptied when nothing waits in its
  // queue; with scans still queued it refuses (FailedPrecondition), so none is lost.
  absl::Status BindToEvent(const std::string& event);

  // The bundle.
  const StoredBundle& bundle() const { return bundle_; }
  // Applies a bundle from GetOfflineBundle: a full one replaces everything held; a delta replaces
  // keys and checkpoints, adds revocations and replaces entries by lookup key. One transaction.
  absl::Status ApplyBundle(const v1::OfflineBundle& bundle, absl::Time received);
  absl::StatusOr<std::optional<std::string>> SealedEntry(const std::string& lookup_key) const;
  absl::StatusOr<bool> TicketRevoked(const std::string& ticket_id) const;

  // Scans. AddScan fills scan->seq; a client_scan_id already stored is AlreadyExists.
  absl::Status AddScan(LocalScan* scan);
  // The oldest queued scans, at most `limit`.
  absl::StatusOr<std::vector<LocalScan>> Queued(int limit) const;
  // The server's answer to an uploaded scan; the code is erased.
  absl::Status MarkUploaded(const std::string& client_scan_id, v1::ScanResult::Status canonical,
                            const std::string& scan_name);
  // The server refused the row as a request: it stays, marked, and is not sent again.
  absl::Status MarkFailed(const std::string& client_scan_id, const std::string& error);
  absl::Status MarkAnnulled(int64_t seq);
  // This device's scans of `registration` at `checkpoint` ("" in a row means the entrance).
  absl::StatusOr<std::vector<LocalScan>> ScansOf(const std::string& registration,
                                                 const v1::Checkpoint& checkpoint) const;
  // The most recent scan, if any.
  absl::StatusOr<std::optional<LocalScan>> LastScan() const;
  absl::StatusOr<int64_t> Count(UploadState state) const;

  // Counts. SaveCounts keeps the server's counts, read after every scan up to seq `through` was
  // recorded; InsideAt adds to them this device's scans the server had not counted then.
  absl::Status SaveCounts(const v1::Attendance& attendance, int64_t through);
  absl::StatusOr<int64_t> LastSeq() const;
  absl::StatusOr<int64_t> InsideAt(const v1::Checkpoint& checkpoint) const;

 private:
  DoorStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  absl::Status Initialize();
  absl::Status LoadBundle();
  absl::Status SetMeta(const std::string& key, const std::string& value);

  sqlite3* db_;
  std::string path_;
  StoredBundle bundle_;
};

}  // namespace turnout::client

#endif  // TURNOUT_CLIENT_LIB_DOOR_STORE_H_
