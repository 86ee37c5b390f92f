// Deciding a scan on the door device when the server does not answer (docs/door-protocol.md §3),
// with the server's own rules: the code is verified against the bundle's keys
// (domain::VerifyTicketCode), its sealed roster entry is opened with the code's own keys
// (domain::DeriveEntryKeys, domain::OpenEntry), and domain::DecideScan decides on the entry's
// presence at bundle time merged with this device's scans since.
//
//   OfflineContext context{event_id, &keys, &checkpoints, checkpoint, "es"};
//   absl::StatusOr<OfflineDecision> d = DecideOffline(context, knowledge, {code, direction, at});
//   // d->result is filled as the server fills a ScanResult, without `scan` and `server_time`.
//
// Pure but for the reads through OfflineKnowledge, which the engine's store answers and unit
// tests fake.
#ifndef TURNOUT_CLIENT_LIB_OFFLINE_DECIDER_H_
#define TURNOUT_CLIENT_LIB_OFFLINE_DECIDER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "client-lib/local_scan.h"
#include "server/domain/scan_rules.h"
#include "server/domain/ticket_code.h"
#include "turnout/v1/checkin_service.pb.h"
#include "turnout/v1/resources.pb.h"

namespace turnout::client {

// What an offline decision reads besides the bundle's keys and checkpoints.
class OfflineKnowledge {
 public:
  virtual ~OfflineKnowledge() = default;
  // The sealed entry filed under `lookup_key` (16 bytes), or nullopt.
  virtual absl::StatusOr<std::optional<std::string>> SealedEntry(
      const std::string& lookup_key) const = 0;
  // Whether the bundle lists this ticket id (hex) as revoked by a reissue.
  virtual absl::StatusOr<bool> TicketRevoked(const std::string& ticket_id) const = 0;
  // This device's scans of `registration` at `checkpoint` (any order; annulled ones included).
  virtual absl::StatusOr<std::vector<LocalScan>> ScansOf(
      const std::string& registration, const v1::Checkpoint& checkpoint) const = 0;
  // People inside `checkpoint` as this device knows it (see docs/door-protocol.md §6: the
  // server's last count plus this device's own scans since).
  virtual absl::StatusOr<int64_t> InsideAt(const v1::Checkpoint& checkpoint) const = 0;
};

struct OfflineContext {
  int64_t event_id = 0;                                      // the door's event
  const domain::KeyRing* keys = nullptr;                     // the bundle's
  const std::vector<v1::Checkpoint>* checkpoints = nullptr;  // the bundle's (breakout titles)
  v1::Checkpoint checkpoint;                                 // where the scan is made
  std::string language;                                      // of the answer's message
  // The bundle's event_state is PUBLISHED (or unset, from a server that did not send it); a
  // DRAFT or CANCELED event admits nobody.
  bool event_published = true;
};

struct OfflineRequest {
  std::string code;
  v1::ScanDirection direction = v1::SCAN_DIRECTION_ENTRY;
  absl::Time at;  // the device's clock
};

struct OfflineDecision {
  // Filled as the server fills it: status, message, and for a ticket of this event its
  // registration, name, language, flags, breakouts and (ALREADY_CHECKED_IN) first entry.
  v1::ScanResult result;
  std::string ticket_id;  // hex, when the code could be read
  // +1 an admission, -1 the exit of someone this device knew to be inside, else 0.
  int inside_delta = 0;
};

absl::StatusOr<OfflineDecision> DecideOffline(const OfflineContext& context,
                                              const OfflineKnowledge& knowledge,
                                              const OfflineRequest& request);

// A ticket's presence at `checkpoint` as this device knows it: the entry's presence at bundle
// time, then, in scan-time order, this device's scans that the bundle cannot have seen (newer
// than the entry's last scan there, or not uploaded yet), each applied with its effective status
// (domain::ApplyScan). Annulled and failed scans change nothing.
domain::PresenceView KnownPresence(const v1::OfflineEntry& entry, const v1::Checkpoint& checkpoint,
                                   absl::Span<const LocalScan> local);

// The breakouts of `choices` with their titles and rooms, from `checkpoints`.
std::vector<v1::Checkpoint> BreakoutsOf(
    const google::protobuf::RepeatedPtrField<v1::SessionChoice>& choices,
    const std::vector<v1::Checkpoint>& checkpoints);

}  // namespace turnout::client

#endif  // TURNOUT_CLIENT_LIB_OFFLINE_DECIDER_H_
