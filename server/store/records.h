// Plain records the stores read and write. The API layer translates them to and from protos.
// Enum-valued fields hold the domain enum (server/domain/program.h), or, where a store still reads
// a number, its stored number (Registration.Status, ...).
#ifndef TURNOUT_SERVER_STORE_RECORDS_H_
#define TURNOUT_SERVER_STORE_RECORDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "server/domain/role.h"
#include "server/domain/program.h"

namespace turnout::store {

struct EventRecord {
  int64_t id = 0;
  std::string title;
  std::string venue;
  std::string time_zone;
  absl::Time start_time;
  absl::Time end_time;
  absl::Time doors_open_time;
  int32_t capacity = 0;
  domain::EventState state = domain::EventState::kDraft;
  bool allow_reentry = true;
  absl::Time create_time;
  absl::Time update_time;
  // Read only.
  int64_t entrance_checkpoint_id = 0;
  int32_t confirmed_count = 0;
  int32_t waitlisted_count = 0;
  // When its personal data was purged (purge_store.h); nullopt before.
  std::optional<absl::Time> purge_time;
};

struct SessionRecord {
  int64_t event_id = 0;
  int64_t id = 0;
  std::string title;
  domain::SessionKind kind = domain::SessionKind::kPlenary;
  std::string track;
  std::string room;
  int32_t round = 0;
  absl::Time start_time;
  absl::Time end_time;
  int32_t capacity = 0;
  bool requires_selection = false;
  bool allow_reentry = true;
  // Read only.
  int64_t checkpoint_id = 0;
  int32_t confirmed_count = 0;
  int32_t waitlisted_count = 0;
};

// A checkpoint with the window and rules derived from its event or session.
struct CheckpointRecord {
  int64_t event_id = 0;
  int64_t id = 0;
  std::optional<int64_t> session_id;
  std::string title;
  int32_t capacity = 0;
  bool requires_selection = false;
  bool allow_reentry = true;
  absl::Time open_time;
  absl::Time close_time;
  std::string room;  // the session's; empty for the entrance
  bool event_purged = false;  // the event's personal data was purged: no more scans
  int event_state = 0;  // Stored(EventState) of its event: only a PUBLISHED one admits anyone
};

struct ChoiceRecord {
  int64_t session_id = 0;
  int32_t round = 0;
  int status = 0;  // SessionChoice.Status
  std::string title;
  std::string room;
};

struct RegistrationRecord {
  int64_t event_id = 0;
  int64_t id = 0;
  std::string display_name;
  std::string email;
  std::string phone;
  std::string preferred_language;
  std::vector<int> attention_flags;
  int status = 0;
  int source = 0;
  absl::Time create_time;
  absl::Time update_time;
  std::vector<ChoiceRecord> choices;
};

struct TicketRecord {
  int64_t event_id = 0;
  std::string ticket_id_hex;
  int64_t registration_id = 0;
  int key_id = 0;
  std::string code;
  absl::Time issue_time;
  absl::Time expire_time;
};

struct TokenRecord {
  int64_t id = 0;
  domain::Role role = domain::Role::kNone;
  std::optional<int64_t> event_id;
  std::string label;
  absl::Time create_time;
  std::optional<absl::Time> revoke_time;
};

struct CheckpointCountsRecord {
  CheckpointRecord checkpoint;
  int64_t registered = 0;
  int64_t checked_in = 0;
  int64_t inside = 0;
  int64_t arrivals_last_minute = 0;
};

}  // namespace turnout::store

#endif  // TURNOUT_SERVER_STORE_RECORDS_H_
