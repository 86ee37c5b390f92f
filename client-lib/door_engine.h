// The door engine: the reference implementation of the offline door protocol
// (docs/door-protocol.md) that any door UI drives, turnout-scan among them.
//
// It scans online first, with a short deadline; when the server does not answer it decides the
// scan itself, from the offline bundle, with the server's own rules (server/domain/scan_rules.h)
// and the same client_scan_id, so the later upload never counts twice. Every scan is committed
// to a durable local store (SQLite, WAL, synchronous=FULL) before its answer is returned. In the
// background it uploads the queue in batches and refreshes the bundle by delta.
//
//   DoorOptions options;
//   options.client.target = "door.example.org:7443";
//   options.client.token = door_token;
//   options.event = "events/1";
//   options.state_dir = "/home/volunteer/.local/state/turnout-scan";
//   absl::StatusOr<std::unique_ptr<DoorEngine>> door = DoorEngine::Open(options);
//   absl::StatusOr<DoorAnswer> answer = (*door)->Scan({.code = line});
//   // answer->result.status(): ADMITTED, ALREADY_CHECKED_IN, ...; answer->offline tells how.
//   DoorState state = (*door)->State();  // for the status line
//
// Thread-safe: a UI thread may scan while the background thread syncs.
#ifndef TURNOUT_CLIENT_LIB_DOOR_ENGINE_H_
#define TURNOUT_CLIENT_LIB_DOOR_ENGINE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client-lib/client.h"
#include "turnout/v1/checkin_service.pb.h"
#include "turnout/v1/resources.pb.h"

namespace turnout::client {

struct DoorOptions {
  // Server, token (a DOOR token of the event), TLS. client.deadline is the deadline of calls
  // other than Scan.
  ClientOptions client;
  // "events/{event}".
  std::string event;
  // "events/{event}/checkpoints/{checkpoint}"; empty means the entrance.
  std::string checkpoint;
  // Language of the answers' messages: "en" or "es".
  std::string language = "en";
  // Holds the local store (door.sqlite); created if missing.
  std::string state_dir;
  // How long an online scan may take before the engine decides it offline.
  absl::Duration online_deadline = absl::Milliseconds(1500);
  // How often the background thread uploads the queue and refreshes the bundle.
  absl::Duration sync_interval = absl::Seconds(30);
  // Scans per UploadScans call (the server takes at most 1,000).
  int upload_batch = 500;
  // The time source (tests pass a fake one).
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

// One scan as the volunteer makes it: a code as read, or a registration found by search.
struct DoorScan {
  std::string code;
  // "events/{event}/registrations/{registration}", from Search; needs the server.
  std::string registration;
  v1::ScanDirection direction = v1::SCAN_DIRECTION_ENTRY;
};

struct DoorAnswer {
  // What the door shows: status, message in the door's language, display name, attention flags,
  // breakouts, first entry. Filled alike online and offline (offline without `scan` and
  // `server_time`: the server has no record of it yet).
  v1::ScanResult result;
  // Decided on this device (the server did not answer in time); it will be uploaded.
  bool offline = false;
  std::string client_scan_id;
  // The breakouts of result.session_choices, with their titles and rooms from the bundle.
  std::vector<v1::Checkpoint> breakouts;
};

// What a UI shows in its status line. Never personal data.
struct DoorState {
  bool online = false;
  int64_t queued = 0;  // scans decided offline and not yet uploaded
  int64_t bundle_version = 0;
  absl::Time bundle_time = absl::InfinitePast();  // when the bundle was last refreshed
  absl::Time last_sync = absl::InfinitePast();    // last successful upload or refresh
  std::string last_error;                         // empty when the last sync worked
  // Set aside at start-up: a damaged store is moved aside, never silently dropped; its path.
  std::string damaged_store;
  // What was wrong with it (SQLite's words), and how many of its queued scans could still be read
  // and were queued again; scans it held beyond those are in the file at damaged_store only.
  std::string damage;
  int64_t salvaged_scans = 0;
  // Queued scans the server refused as requests (a scan_time far ahead of its clock, say): kept
  // in the store with the server's reason, never sent again.
  int64_t failed = 0;
  // The checkpoint scanned at, its title, and the counts there as last known.
  v1::Checkpoint checkpoint;
  int64_t inside = 0;
  int64_t capacity = 0;
  std::string time_zone;  // the event's, for showing times
};

class DoorEngine {
 public:
  // Opens (or creates) the local store and starts the background sync. Works with the server
  // unreachable when the store already holds a bundle of `event`; without one, the first Scan
  // can only be online. A damaged store is moved aside (DoorState::damaged_store) and a new one
  // is started; scans it held are reported, not lost.
  static absl::StatusOr<std::unique_ptr<DoorEngine>> Open(const DoorOptions& options);
  virtual ~DoorEngine() = default;

  // Decides and durably records one scan (see above). Errors only for what no scan can be made
  // of: an empty code, a registration while offline, a store that cannot be written, and what the
  // server refuses as a request (INVALID_ARGUMENT for a clock far ahead, PERMISSION_DENIED for a
  // revoked token): those are not queued.
  virtual absl::StatusOr<DoorAnswer> Scan(const DoorScan& scan) = 0;

  // Undoes this device's last scan (online only; within 15 minutes).
  virtual absl::Status AnnulLast() = 0;

  // Attendees by name (at least 3 characters; online only).
  virtual absl::StatusOr<std::vector<v1::AttendeeMatch>> Search(const std::string& query) = 0;

  // Registers and admits a walk-in (online only).
  virtual absl::StatusOr<DoorAnswer> WalkIn(const v1::Registration& registration) = 0;

  // Scans go to this checkpoint from now on ("" = the entrance).
  virtual absl::Status SetCheckpoint(const std::string& checkpoint) = 0;
  // The event's checkpoints, from the bundle (or the server).
  virtual std::vector<v1::Checkpoint> Checkpoints() const = 0;

  // Uploads the queue and refreshes the bundle now; the background thread does it on its own.
  virtual absl::Status SyncNow() = 0;

  virtual DoorState State() const = 0;
};

}  // namespace turnout::client

#endif  // TURNOUT_CLIENT_LIB_DOOR_ENGINE_H_
