// Assembles the OfflineBundle a door device decides from (docs/door-protocol.md): the public keys,
// the checkpoints, the revoked tickets and one sealed roster entry per valid ticket.
#ifndef TURNOUT_SERVER_API_OFFLINE_BUNDLE_H_
#define TURNOUT_SERVER_API_OFFLINE_BUNDLE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/domain/ticket_code.h"
#include "server/store/bundle_store.h"
#include "server/store/records.h"
#include "turnout/v1/checkin_service.pb.h"

namespace turnout::api {

// The plaintext of one roster entry.
v1::OfflineEntry OfflineEntryOf(const store::BundleTicket& ticket);

// Seals every entry under its own code's keys, all padded to one size.
absl::StatusOr<v1::OfflineBundle> BuildOfflineBundle(
    const store::EventRecord& event, const std::vector<store::CheckpointRecord>& checkpoints,
    const domain::KeyRing& keys, const store::BundleRows& rows, absl::Time now);

}  // namespace turnout::api

#endif  // TURNOUT_SERVER_API_OFFLINE_BUNDLE_H_
