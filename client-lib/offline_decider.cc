// Offline decisions; see offline_decider.h and docs/door-protocol.md §3 for the order of the steps.
#include "client-lib/offline_decider.h"

#include <algorithm>
#include <utility>

#include "client-lib/door_convert.h"
#include "server/domain/offline_entry.h"

namespace turnout::client {
namespace {

domain::RegistrationStatus RegistrationStatusOf(v1::Registration::Status status) {
  switch (status) {
    case v1::Registration::WAITLISTED:
      return domain::RegistrationStatus::kWaitlisted;
    case v1::Registration::CANCELED:
      return domain::RegistrationStatus::kCanceled;
    default:
      return domain::RegistrationStatus::kConfirmed;
  }
}

// The checkpoint as the rules see it, as the server builds it (server/store/scan_store.cc): only
// a session's room has a capacity.
absl::StatusOr<domain::CheckpointView> CheckpointViewOf(const OfflineContext& context) {
  const v1::Checkpoint& c = context.checkpoint;
  domain::CheckpointView view;
  view.event_id = context.event_id;
  if (!c.session().empty()) {
    absl::StatusOr<int64_t> session = IdOf(c.session());
    if (!session.ok()) return session.status();
    view.session_id = *session;
    view.capacity = c.capacity();
  }
  view.requires_selection = c.requires_selection();
  view.allow_reentry = c.allow_reentry();
  view.event_published = context.event_published;
  if (c.has_open_time()) view.opens_at = FromProtoTime(c.open_time());
  if (c.has_close_time()) view.closes_at = FromProtoTime(c.close_time());
  return view;
}

bool SameCheckpoint(const std::string& scanned_at, const v1::Checkpoint& checkpoint) {
  // A scan sent with an empty checkpoint was made at the entrance.
  return scanned_at == checkpoint.name() || (scanned_at.empty() && checkpoint.session().empty());
}

// The server's FillResult, for what the entry carries.
void FillFromEntry(const v1::OfflineEntry& entry, const std::vector<v1::Checkpoint>& checkpoints,
                   v1::ScanResult* result) {
  result->set_registration(entry.registration());
  result->set_display_name(entry.display_name());
  result->set_preferred_language(entry.preferred_language());
  for (int flag : entry.attention_flags()) {
    result->add_attention_flags(static_cast<v1::AttentionFlag>(flag));
  }
  for (const v1::SessionChoice& c : entry.session_choices()) {
    v1::SessionChoice* choice = result->add_session_choices();
    *choice = c;
    for (const v1::Checkpoint& checkpoint : checkpoints) {
      if (checkpoint.session() == c.session()) {
        choice->set_title(checkpoint.title());
        choice->set_room(checkpoint.room());
      }
    }
  }
}

}  // namespace

domain::PresenceView KnownPresence(const v1::OfflineEntry& entry, const v1::Checkpoint& checkpoint,
                                   absl::Span<const LocalScan> local) {
  domain::PresenceView presence;
  absl::Time bundle_last_scan = absl::InfinitePast();
  for (const v1::OfflinePresence& p : entry.presence()) {
    if (p.checkpoint() != checkpoint.name()) continue;
    presence.ever_admitted = p.ever_admitted();
    presence.inside = p.inside();
    if (p.has_first_entry_time()) presence.first_entry_at = FromProtoTime(p.first_entry_time());
    if (p.has_last_scan_time()) {
      bundle_last_scan = FromProtoTime(p.last_scan_time());
      presence.last_change_at = bundle_last_scan;
    }
  }
  std::vector<const LocalScan*> since;
  for (const LocalScan& s : local) {
    if (s.annulled || s.upload == UploadState::kFailed) continue;
    if (!SameCheckpoint(s.checkpoint, checkpoint)) continue;
    if (s.scan_time > bundle_last_scan || s.upload == UploadState::kQueued) since.push_back(&s);
  }
  std::stable_sort(since.begin(), since.end(), [](const LocalScan* a, const LocalScan* b) {
    return std::make_pair(a->scan_time, a->seq) < std::make_pair(b->scan_time, b->seq);
  });
  for (const LocalScan* s : since) {
    std::optional<domain::ScanStatus> status = ToDomainStatus(s->EffectiveStatus());
    if (!status) continue;
    presence = domain::ApplyScan(presence, domain::ScanDecision{*status},
                                 {ToDomainDirection(s->direction), s->scan_time});
  }
  return presence;
}

std::vector<v1::Checkpoint> BreakoutsOf(
    const google::protobuf::RepeatedPtrField<v1::SessionChoice>& choices,
    const std::vector<v1::Checkpoint>& checkpoints) {
  std::vector<v1::Checkpoint> out;
  for (const v1::SessionChoice& choice : choices) {
    for (const v1::Checkpoint& checkpoint : checkpoints) {
      if (!checkpoint.session().empty() && checkpoint.session() == choice.session()) {
        out.push_back(checkpoint);
      }
    }
  }
  return out;
}

absl::StatusOr<OfflineDecision> DecideOffline(const OfflineContext& context,
                                              const OfflineKnowledge& knowledge,
                                              const OfflineRequest& request) {
  absl::StatusOr<domain::CheckpointView> checkpoint = CheckpointViewOf(context);
  if (!checkpoint.ok()) return checkpoint.status();
  const domain::ScanAttempt attempt{ToDomainDirection(request.direction), request.at};
  OfflineDecision out;

  // 1. The code: readable, signed by a key of the bundle. A revoked key's code is genuine.
  const domain::VerifiedCode verified = domain::VerifyTicketCode(request.code, *context.keys);
  domain::TicketView ticket;
  ticket.code_valid = verified.check == domain::CodeCheck::kValid ||
                      verified.check == domain::CodeCheck::kKeyRevoked;
  ticket.key_revoked = verified.check == domain::CodeCheck::kKeyRevoked;
  std::optional<v1::OfflineEntry> entry;
  domain::PresenceView presence;
  if (ticket.code_valid) {
    ticket.event_id = verified.claims.event_id;
    ticket.not_after = verified.claims.not_after;
    out.ticket_id = domain::TicketIdToHex(verified.claims.ticket_id);
    if (ticket.event_id != context.event_id) {
      // 2. Another event's ticket: its entries are not in this bundle. Its signature is genuine,
      // so the rules say WRONG_EVENT (or REVOKED for a revoked key), as the server does.
      ticket.known = true;
    } else {
      // 2. This event's: open the entry the code unlocks.
      absl::StatusOr<domain::EntryKeys> keys = domain::DeriveEntryKeys(request.code);
      if (!keys.ok()) return keys.status();  // cannot happen for a verified code
      absl::StatusOr<std::optional<std::string>> sealed =
          knowledge.SealedEntry(keys->lookup_bytes());
      if (!sealed.ok()) return sealed.status();
      if (sealed->has_value()) {
        absl::StatusOr<std::string> plain = domain::OpenEntry(*keys, **sealed);
        v1::OfflineEntry opened;
        if (plain.ok() && opened.ParseFromString(*plain)) entry = std::move(opened);
      }
      absl::StatusOr<bool> revoked = knowledge.TicketRevoked(out.ticket_id);
      if (!revoked.ok()) return revoked.status();
      // 3. A reissued ticket's old code opens no entry but is listed: genuine, and REVOKED.
      ticket.superseded = *revoked;
      ticket.known = entry.has_value() || *revoked;
      if (entry) {
        ticket.registration = RegistrationStatusOf(entry->status());
        for (const v1::SessionChoice& c : entry->session_choices()) {
          if (c.status() != v1::SessionChoice::CONFIRMED) continue;
          absl::StatusOr<int64_t> session = IdOf(c.session());
          if (session.ok()) ticket.confirmed_session_ids.push_back(*session);
        }
        absl::StatusOr<std::vector<LocalScan>> local =
            knowledge.ScansOf(entry->registration(), context.checkpoint);
        if (!local.ok()) return local.status();
        presence = KnownPresence(*entry, context.checkpoint, *local);
      }
    }
  }
  // Only a room that can be full needs its count, as on the server.
  if (checkpoint->session_id && !checkpoint->requires_selection && checkpoint->capacity > 0 &&
      attempt.direction == domain::Direction::kEntry && !presence.inside) {
    absl::StatusOr<int64_t> inside = knowledge.InsideAt(context.checkpoint);
    if (!inside.ok()) return inside.status();
    checkpoint->inside_count = static_cast<int32_t>(std::min<int64_t>(*inside, INT32_MAX));
  }

  // 4. The server's rules, in the server's order.
  const domain::ScanDecision decision = domain::DecideScan(ticket, *checkpoint, presence, attempt);
  const domain::PresenceView after = domain::ApplyScan(presence, decision, attempt);
  out.inside_delta = static_cast<int>(after.inside) - static_cast<int>(presence.inside);
  v1::ScanResult& result = out.result;
  result.set_status(ToProtoStatus(decision.status));
  result.set_message(domain::ScanMessage(decision.status, context.language));
  if (entry && decision.status != domain::ScanStatus::kWrongEvent) {
    FillFromEntry(*entry, *context.checkpoints, &result);
  }
  if (decision.status == domain::ScanStatus::kAlreadyCheckedIn && presence.ever_admitted) {
    *result.mutable_first_entry_time() = ToProtoTime(presence.first_entry_at);
    result.set_first_entry_checkpoint(context.checkpoint.name());
  }
  return out;
}

}  // namespace turnout::client
