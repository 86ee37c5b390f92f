#include "server/api/offline_bundle.h"

#include <algorithm>
#include <string>

#include "server/api/convert.h"
#include "server/api/names.h"
#include "server/domain/offline_entry.h"

namespace turnout::api {

v1::OfflineEntry OfflineEntryOf(const store::BundleTicket& ticket) {
  const store::RegistrationRecord& r = ticket.registration;
  v1::OfflineEntry entry;
  entry.set_registration(ChildNameOf(r.event_id, "registrations", r.id));
  entry.set_display_name(r.display_name);
  entry.set_preferred_language(r.preferred_language);
  for (int flag : r.attention_flags) {
    entry.add_attention_flags(static_cast<v1::AttentionFlag>(flag));
  }
  entry.set_status(static_cast<v1::Registration::Status>(r.status));
  for (const store::ChoiceRecord& c : r.choices) {
    v1::SessionChoice* choice = entry.add_session_choices();
    choice->set_session(ChildNameOf(r.event_id, "sessions", c.session_id));
    choice->set_round(c.round);
    choice->set_status(static_cast<v1::SessionChoice::Status>(c.status));
  }
  for (const store::BundlePresence& p : ticket.presence) {
    v1::OfflinePresence* presence = entry.add_presence();
    presence->set_checkpoint(ChildNameOf(r.event_id, "checkpoints", p.checkpoint_id));
    presence->set_ever_admitted(p.ever_admitted);
    presence->set_inside(p.inside);
    if (p.first_entry_time != absl::InfinitePast()) {
      *presence->mutable_first_entry_time() = ToProtoTime(p.first_entry_time);
    }
    if (p.last_scan_time != absl::InfinitePast()) {
      *presence->mutable_last_scan_time() = ToProtoTime(p.last_scan_time);
    }
  }
  entry.set_ticket_id(ticket.ticket_id_hex);
  return entry;
}

absl::StatusOr<v1::OfflineBundle> BuildOfflineBundle(
    const store::EventRecord& event, const std::vector<store::CheckpointRecord>& checkpoints,
    const domain::KeyRing& keys, const store::BundleRows& rows, absl::Time now) {
  v1::OfflineBundle bundle;
  bundle.set_event(EventName(event.id));
  bundle.set_version(rows.version);
  bundle.set_full(rows.full);
  bundle.set_time_zone(event.time_zone);
  bundle.set_title(event.title);
  bundle.set_event_state(ToProto(event.state));
  *bundle.mutable_server_time() = ToProtoTime(now);
  for (const domain::VerifyingKey& k : keys.keys()) {
    v1::SigningPublicKey* key = bundle.add_keys();
    key->set_key_id(k.key_id);
    key->set_public_key(std::string(k.public_key.begin(), k.public_key.end()));
    key->set_revoked(k.revoked);
  }
  for (const store::CheckpointRecord& c : checkpoints) ToProto(c, bundle.add_checkpoints());
  for (const std::string& id : rows.revoked_ticket_ids) bundle.add_revoked_tickets(id);

  std::vector<std::string> plaintexts;
  plaintexts.reserve(rows.tickets.size());
  size_t longest = 0;
  for (const store::BundleTicket& t : rows.tickets) {
    plaintexts.push_back(OfflineEntryOf(t).SerializeAsString());
    longest = std::max(longest, plaintexts.back().size());
  }
  if (longest > domain::kMaxEntryBytes) {
    return absl::InternalError("a roster entry is larger than the door protocol allows");
  }
  const size_t padded = domain::PaddedEntrySize(longest);
  for (size_t i = 0; i < rows.tickets.size(); ++i) {
    absl::StatusOr<domain::EntryKeys> entry_keys = domain::DeriveEntryKeys(rows.tickets[i].code);
    if (!entry_keys.ok()) return absl::DataLossError("a stored ticket code is damaged");
    v1::OfflineRosterEntry* entry = bundle.add_entries();
    entry->set_lookup_key(entry_keys->lookup_bytes());
    entry->set_sealed_entry(domain::SealEntry(*entry_keys, plaintexts[i], padded));
  }
  return bundle;
}

}  // namespace turnout::api
