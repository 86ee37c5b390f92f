// Registrations, breakout choices with their waitlists, and tickets, in PostgreSQL. Each function
// runs inside the caller's transaction. Contact fields are sealed with the DataKey on the way in
// and opened on the way out; the API layer decides who may see them.
#ifndef TURNOUT_SERVER_STORE_REGISTRATION_STORE_H_
#define TURNOUT_SERVER_STORE_REGISTRATION_STORE_H_

#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/domain/registration_rules.h"
#include "server/domain/ticket_code.h"
#include "server/store/data_key.h"
#include "server/store/records.h"

namespace turnout::store {

struct NewRegistration {
  std::string display_name;
  std::string email;
  std::string phone;
  std::string preferred_language;
  std::vector<int> attention_flags;
  // Registration.Source, as domain::RegistrationSource numbers it.
  int source = domain::Stored(domain::RegistrationSource::kOnline);
  std::vector<int64_t> session_ids;  // breakouts chosen, at most one per round
  std::string request_id;            // empty: not idempotent
  bool require_published = false;    // public registration: only PUBLISHED events take it
  // A keyed hash of the attendee's new manage secret (DataKey::Digest), or empty for none (imports,
  // walk-ins). A replay of the request_id replaces the stored hash with this one.
  std::string manage_secret_hash;
};

struct Registered {
  RegistrationRecord registration;
  TicketRecord ticket;
  bool existed = false;  // the request_id had registered before
};

struct RegistrationPage {
  std::vector<RegistrationRecord> registrations;
  int32_t total_size = 0;
};

struct SearchMatch {
  int64_t registration_id = 0;
  std::string display_name;
  std::vector<int> attention_flags;
  int status = 0;
  bool checked_in = false;
};

// Lock order. Every call that changes registrations, places or seats locks rows in this order,
// skipping what it does not need, so that no two of them wait for each other in a cycle:
//   1. the event's row, when places in the event may change hands (Register of an event with a
//      capacity, Cancel, PromoteWaitlisted);
//   2. registration rows: the one the call is about, then those a promotion confirms;
//   3. session rows, in id order, each before any choice of that session is written.
// The locks are FOR NO KEY UPDATE, so that rows inserted meanwhile may still refer to them.
//
// Places and seats are counted in events.confirmed_count/waitlisted_count and
// sessions.confirmed_count/waitlisted_count, changed here in the transaction of every change, under
// the row locks above; the rules that read them are server/domain/registration_rules.h.
class PgRegistrationStore {
 public:
  // Registers one person and issues the ticket, signed with `key`. Past the event's capacity the
  // registration is waitlisted; past a breakout's capacity that choice is waitlisted.
  static absl::StatusOr<Registered> Register(pqxx::work& txn, int64_t event_id,
                                             const NewRegistration& input, const DataKey& data_key,
                                             const domain::SigningKey& key);
  static absl::StatusOr<RegistrationRecord> Get(pqxx::work& txn, int64_t event_id, int64_t id,
                                                const DataKey& data_key);
  // The stored hash of the registration's manage secret; empty when it has none. NOT_FOUND for no
  // such registration.
  static absl::StatusOr<std::string> ManageSecretHash(pqxx::work& txn, int64_t event_id,
                                                      int64_t id);
  // Replaces the hash of the registration's manage secret: the previous secret stops working.
  static absl::Status SetManageSecretHash(pqxx::work& txn, int64_t event_id, int64_t id,
                                          const std::string& hash);
  // Cancels, releases the seats and promotes the first waitlisted into each.
  static absl::StatusOr<RegistrationRecord> Cancel(pqxx::work& txn, int64_t event_id, int64_t id,
                                                   const DataKey& data_key);
  // Replaces the breakout choices; unchanged choices keep their seat or waitlist place.
  static absl::StatusOr<RegistrationRecord> UpdateChoices(pqxx::work& txn, int64_t event_id,
                                                          int64_t id,
                                                          const std::vector<int64_t>& session_ids,
                                                          const DataKey& data_key);
  // status 0 = any; name_prefix already normalized (domain::NormalizeForSearch).
  static absl::StatusOr<RegistrationPage> List(pqxx::work& txn, int64_t event_id, int status,
                                               const std::string& name_prefix, int64_t after_id,
                                               int limit, const DataKey& data_key);
  // Seats the earliest waitlisted where capacity allows: after a capacity is raised.
  static void PromoteWaitlisted(pqxx::work& txn, int64_t event_id);
  static void PromoteSessionWaitlist(pqxx::work& txn, int64_t event_id, int64_t session_id);
  static absl::StatusOr<TicketRecord> CurrentTicket(pqxx::work& txn, int64_t event_id,
                                                    int64_t registration_id);
  // Supersedes the current code (it scans as REVOKED) and issues a new one.
  static absl::StatusOr<TicketRecord> Reissue(pqxx::work& txn, int64_t event_id,
                                              int64_t registration_id,
                                              const domain::SigningKey& key);
  // Reissues, under `key`, every current ticket (of every event) signed by the key `revoked_key_id`;
  // returns how many.
  static absl::StatusOr<int> ReissueSignedBy(pqxx::work& txn, uint16_t revoked_key_id,
                                             const domain::SigningKey& key);
  // Display names containing the normalized query as a word prefix; at most `limit`.
  static absl::StatusOr<std::vector<SearchMatch>> Search(pqxx::work& txn, int64_t event_id,
                                                         const std::string& normalized_query,
                                                         int limit);
};

// The reader of a breakout choice row, shared by the stores that show choices: the query names its
// columns session_id, round, status, title and room.
ChoiceRecord ReadChoiceRow(const pqxx::row& row);

// Attention flags as array_to_string(attention_flags, ',') gives them.
std::vector<int> ParseAttentionFlags(const std::string& text);

// A code's own expiry is only an outer safety bound: the check-in windows follow the event's
// current times, so an event that is postponed keeps every code issued for it. A code stops
// verifying this long after its event's end at issue time; an event cannot move past the expiry
// of the codes already issued for it (PgEventStore::EarliestTicketExpiry).
inline constexpr absl::Duration kTicketOuterBound = absl::Hours(24 * 366);

}  // namespace turnout::store

#endif  // TURNOUT_SERVER_STORE_REGISTRATION_STORE_H_
