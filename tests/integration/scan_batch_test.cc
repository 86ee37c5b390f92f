// PgScanStore::RecordScans, which reads a whole batch of scans in a few statements and writes it
// in one, against RecordScan one scan at a time (the reference): random batches, replayed on two
// databases holding the same event, rooms and registrations, must give the same answers and
// leave the same scans and presence. The batches mix what the batch path hands over to
// RecordScan (retries, a client_scan_id twice in one batch, scans older than the ticket's latest)
// with what it decides itself (the same ticket several times, a room filling up, unknown tickets).
#include <pqxx/pqxx>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/domain/stored.h"
#include "server/domain/ticket_code.h"
#include "server/store/pg.h"
#include "server/store/scan_store.h"
#include "tests/support/test_server.h"

namespace turnout {
namespace {

using store::PgScanStore;
using store::ScanInput;
using store::ScanOutcome;

constexpr int kPeople = 8;
constexpr int64_t kDevice = 1;  // any number: scans name their device, the store checks nothing

// One test database: the event "Oakland" with an entrance, a plenary room for 3 and a breakout
// (by selection), and kPeople registrations, the even ones in the breakout.
struct Venue {
  explicit Venue(testing::TestServer& server) : conn(server.database()) {
    const v1::Event event = server.NewEvent("Oakland");
    const v1::Session plenary =
        server.NewSession(event.name(), "Plenary", 0, 3, /*requires_selection=*/false);
    const v1::Session breakout =
        server.NewSession(event.name(), "Detention", 1, 5, /*requires_selection=*/true);
    for (int i = 0; i < kPeople; ++i) {
      std::vector<std::string> sessions;
      if (i % 2 == 0) sessions.push_back(breakout.name());
      server.Register(event.name(), absl::StrCat("Person ", i), sessions);
    }
    event_id = server.QueryInt("SELECT id FROM events");
    checkpoints = {0, server.QueryInt("SELECT id FROM checkpoints WHERE session_id = "
                                      "(SELECT id FROM sessions WHERE round = 0)"),
                   server.QueryInt("SELECT id FROM checkpoints WHERE session_id = "
                                   "(SELECT id FROM sessions WHERE round = 1)")};
    pqxx::work txn(conn);
    for (const pqxx::row& r : txn.exec(
             "SELECT registration_id, ticket_id FROM tickets ORDER BY registration_id")) {
      registrations.push_back(r[0].as<int64_t>());
      tickets.push_back(*domain::TicketIdFromHex(r[1].as<std::string>()));
    }
  }

  // What a door sends for `scan` here: by code, by search, or an unknown code.
  ScanInput Input(const ScanInput& scan, int person, int how) const {
    ScanInput in = scan;
    in.event_id = event_id;
    if (how == 0) {
      in.registration_id = registrations.at(person);
    } else {
      in.verified.check = domain::CodeCheck::kValid;
      in.verified.claims.event_id = static_cast<uint32_t>(event_id);
      in.verified.claims.not_after = absl::Now() + absl::Hours(48);
      in.verified.claims.ticket_id = tickets.at(person);
      if (how == 2) in.verified.claims.ticket_id[0] ^= 0xff;  // a ticket no one holds
    }
    return in;
  }

  pqxx::connection conn;
  int64_t event_id = 0;
  std::vector<int64_t> checkpoints;  // the entrance (0), the plenary's room, the breakout's
  std::vector<int64_t> registrations;
  std::vector<domain::TicketId> tickets;
};

// What must match between the batch and the reference: the answer, without ids of rows.
std::string Describe(const absl::StatusOr<ScanOutcome>& out) {
  if (!out.ok()) return absl::StrCat("error ", out.status().ToString());
  return absl::StrCat("status ", domain::Stored(out->status), " replayed ", out->replayed,
                      " at_session ", out->at_session, " first_entry ",
                      out->first_entry_time ? absl::FormatTime(*out->first_entry_time) : "none",
                      " registration ", out->registration ? out->registration->display_name : "-",
                      " choices ", out->registration ? out->registration->choices.size() : 0);
}

// The scans and presence the database holds, with registrations named by person.
std::string Contents(pqxx::connection& conn) {
  pqxx::work txn(conn);
  std::string text;
  for (const pqxx::row& r : txn.exec(R"(
         SELECT s.client_scan_id, s.status, s.direction, us_of(s.scanned_time),
                coalesce(us_of(s.first_entry_time), -1), r.display_name
         FROM scans s LEFT JOIN registrations r ON r.event_id = s.event_id
                                                AND r.id = s.registration_id
         ORDER BY s.id)")) {
    for (const pqxx::field& f : r) absl::StrAppend(&text, f.c_str(), " ");
    text += "\n";
  }
  for (const pqxx::row& r : txn.exec(R"(
         SELECT c.session_id, r.display_name, p.ever_admitted, p.inside,
                coalesce(us_of(p.first_entry_time), -1), coalesce(us_of(p.last_change_time), -1),
                coalesce(us_of(p.last_scan_time), -1)
         FROM presence p JOIN registrations r ON r.event_id = p.event_id
                                              AND r.id = p.registration_id
         JOIN checkpoints c ON c.event_id = p.event_id AND c.id = p.checkpoint_id
         ORDER BY 1, 2)")) {
    for (const pqxx::field& f : r) absl::StrAppend(&text, f.c_str(), " ");
    text += "\n";
  }
  return text;
}

TEST(ScanBatchTest, RandomBatchesAnswerAndStoreWhatOneScanAtATimeDoes) {
  testing::TestServer batch_server;
  testing::TestServer reference_server;
  Venue batch(batch_server);
  Venue reference(reference_server);
  ASSERT_EQ(batch.registrations.size(), static_cast<size_t>(kPeople));
  ASSERT_EQ(reference.registrations.size(), static_cast<size_t>(kPeople));

  std::mt19937 random(20261202);
  const absl::Time base = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  std::vector<std::string> sent_ids;
  int next_id = 0;
  for (int round = 0; round < 60; ++round) {
    const int size = 1 + static_cast<int>(random() % 12);
    std::vector<ScanInput> batch_inputs, reference_inputs;
    for (int k = 0; k < size; ++k) {
      ScanInput scan;
      scan.device_id = kDevice;
      const int person = static_cast<int>(random() % kPeople);
      const int how = random() % 10 == 0 ? 2 : static_cast<int>(random() % 2);
      const int checkpoint = static_cast<int>(random() % 3);
      scan.direction = random() % 3 == 0 ? domain::Direction::kExit : domain::Direction::kEntry;
      // Mostly later and later; sometimes earlier than what the ticket already has.
      const int64_t seconds = random() % 5 == 0 ? static_cast<int64_t>(random() % (round * 60 + 1))
                                                 : round * 60 + static_cast<int64_t>(k);
      scan.scanned_at = base + absl::Seconds(seconds);
      scan.received_at = base + absl::Seconds(round * 60 + k);
      scan.offline = random() % 4 == 0;
      if (random() % 8 == 0 && !sent_ids.empty()) {
        scan.client_scan_id = sent_ids[random() % sent_ids.size()];  // a retry, or a reused id
      } else {
        scan.client_scan_id = absl::StrCat("scan \"", next_id++, "\",{x}");
        sent_ids.push_back(scan.client_scan_id);
      }
      scan.request_digest = absl::StrCat("digest-", person, "-", how, "-", checkpoint, "-",
                                         static_cast<int>(scan.direction));
      ScanInput in_batch = batch.Input(scan, person, how);
      in_batch.checkpoint_id = batch.checkpoints[checkpoint];
      ScanInput in_reference = reference.Input(scan, person, how);
      in_reference.checkpoint_id = reference.checkpoints[checkpoint];
      batch_inputs.push_back(in_batch);
      reference_inputs.push_back(in_reference);
    }

    std::vector<const ScanInput*> pointers;
    for (const ScanInput& in : batch_inputs) pointers.push_back(&in);
    std::vector<absl::StatusOr<ScanOutcome>> batched;
    {
      pqxx::work txn(batch.conn);
      batched = PgScanStore::RecordScans(txn, pointers);
      txn.commit();
    }
    std::vector<absl::StatusOr<ScanOutcome>> one_by_one;
    {
      pqxx::work txn(reference.conn);
      for (const ScanInput& in : reference_inputs) {
        one_by_one.push_back(PgScanStore::RecordScan(txn, in));
      }
      txn.commit();
    }
    ASSERT_EQ(batched.size(), one_by_one.size());
    for (size_t i = 0; i < batched.size(); ++i) {
      ASSERT_EQ(Describe(batched[i]), Describe(one_by_one[i]))
          << "round " << round << ", scan " << i << " of " << batched.size();
      if (batched[i].ok()) EXPECT_EQ(batched[i]->scan_id, one_by_one[i]->scan_id);
    }
    ASSERT_EQ(Contents(batch.conn), Contents(reference.conn)) << "after round " << round;
  }
  // The random walk reached what it is meant to: a full room, refusals and re-decided scans.
  EXPECT_GT(batch_server.QueryInt("SELECT count(*) FROM scans WHERE status = " +
                                  std::to_string(domain::Stored(domain::ScanStatus::kSessionFull))),
            0);
  EXPECT_GT(batch_server.QueryInt("SELECT count(*) FROM scans WHERE status = " +
                                  std::to_string(domain::Stored(domain::ScanStatus::kInvalid))),
            0);
}

}  // namespace
}  // namespace turnout
