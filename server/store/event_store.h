// Events, their sessions and their checkpoints in PostgreSQL. Each function runs inside the
// caller's transaction; NOT_FOUND and INVALID_ARGUMENT messages name what is missing or wrong.
#ifndef TURNOUT_SERVER_STORE_EVENT_STORE_H_
#define TURNOUT_SERVER_STORE_EVENT_STORE_H_

#include <optional>
#include <pqxx/pqxx>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/store/query.h"
#include "server/store/records.h"

namespace turnout::store {

class PgEventStore {
 public:
  // Creates the event and its entrance checkpoint; the same non-empty request_id returns the first.
  static absl::StatusOr<EventRecord> CreateEvent(pqxx::work& txn, const EventRecord& event,
                                                 absl::string_view request_id);
  static absl::StatusOr<EventRecord> GetEvent(pqxx::work& txn, int64_t event_id);
  // Events with id > after_id, in id order.
  static absl::StatusOr<std::vector<EventRecord>> ListEvents(pqxx::work& txn, int64_t after_id,
                                                             int limit);
  // Writes every mutable field of `event` (the caller merged its update mask and locked the
  // event), seats the waitlisted that a raised capacity makes room for, and moves every session by
  // `session_shift` (domain::ChangeEvent). Rows are locked in the order of registration_store.h:
  // the event, then the registrations promoted and the sessions they chose; a postponement first
  // locks every waitlisted registration and then every session, each in id order, so that the
  // promotions after it lock nothing more.
  static absl::StatusOr<EventRecord> UpdateEvent(pqxx::work& txn, const EventRecord& event,
                                                 absl::Duration session_shift);
  // The earliest expiry of the event's current ticket codes; nullopt if none was issued.
  static std::optional<absl::Time> EarliestTicketExpiry(pqxx::work& txn, int64_t event_id);

  static absl::StatusOr<SessionRecord> CreateSession(pqxx::work& txn, const SessionRecord& session,
                                                     absl::string_view request_id);
  static absl::StatusOr<SessionRecord> GetSession(pqxx::work& txn, int64_t event_id,
                                                  int64_t session_id);
  // Sessions in (start_time, id) order after the session (after_start, after_id); after_id 0 for
  // the first page.
  static absl::StatusOr<std::vector<SessionRecord>> ListSessions(pqxx::work& txn, int64_t event_id,
                                                                 absl::Time after_start,
                                                                 int64_t after_id, int limit);
  // Writes every mutable field of `session` (the caller merged its update mask and locked the
  // session) and seats its waitlist where a raised capacity makes room.
  static absl::StatusOr<SessionRecord> UpdateSession(pqxx::work& txn, const SessionRecord& session);
  // FAILED_PRECONDITION (PurgedError) once the event's personal data was purged; NOT_FOUND for no
  // such event. Called after the lock that a purge would have waited for (purge_store.h).
  static absl::Status RequireNotPurged(pqxx::work& txn, int64_t event_id);
  // Row locks taken before a read-modify-write, so concurrent updates are not lost. FOR NO KEY
  // UPDATE, first in the lock order of registration_store.h.
  static void LockEvent(pqxx::work& txn, int64_t event_id);
  static void LockSession(pqxx::work& txn, int64_t event_id, int64_t session_id);

  static absl::StatusOr<std::vector<CheckpointRecord>> ListCheckpoints(pqxx::work& txn,
                                                                       int64_t event_id);
  // checkpoint_id 0 means the event's entrance.
  static absl::StatusOr<CheckpointRecord> GetCheckpoint(pqxx::work& txn, int64_t event_id,
                                                        int64_t checkpoint_id);
  // The statement GetCheckpoint runs ($1 the event, $2 the checkpoint); turnout-bench replays it.
  static const Query& GetCheckpointQuery();
};

// What every call that would write to a purged event answers.
absl::Status PurgedError(int64_t event_id, absl::Time purge_time);

// How long before a session starts its room door accepts entries.
inline constexpr absl::Duration kSessionDoorsOpenEarly = absl::Minutes(30);

}  // namespace turnout::store

#endif  // TURNOUT_SERVER_STORE_EVENT_STORE_H_
