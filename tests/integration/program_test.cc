// The program's updates against a real PostgreSQL: an event update that moves the program and
// raises the capacity takes its row locks in the order of registration_store.h, so it never
// deadlocks with the registrations changing beside it.
#include <atomic>
#include <functional>
#include <pqxx/pqxx>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/store/data_key.h"
#include "server/store/event_store.h"
#include "server/store/pg.h"
#include "server/store/registration_store.h"
#include "tests/support/test_server.h"

namespace turnout::testing {
namespace {

// The id at the end of a resource name: "events/3/sessions/12" -> 12.
int64_t IdOf(const std::string& name) {
  int64_t id = 0;
  EXPECT_TRUE(absl::SimpleAtoi(name.substr(name.rfind('/') + 1), &id)) << name;
  return id;
}

// Postponements that also raise the capacity (UpdateEvent: the event, the waitlisted it seats,
// the sessions they chose, then every session to move it) run beside Register, UpdateChoices
// and Cancel of waitlisted and confirmed people on the same breakouts. The store is driven
// directly, one connection per thread and no retry, so a deadlock PostgreSQL breaks is counted
// rather than hidden by the server's retry. Before the fix UpdateEvent moved the sessions first
// and then locked the registrations it promoted, the reverse of UpdateChoices.
TEST(ProgramTest, PostponementWithPromotionsNeverDeadlocks) {
  TestServer server;
  constexpr int kRegistrars = 6;
  constexpr int kRounds = 12;
  constexpr int kPostponements = 30;
  const v1::Event event = server.NewEvent("Fresno", /*capacity=*/4);
  std::vector<std::vector<int64_t>> by_round(2);  // three small breakouts per round
  for (int round = 1; round <= 2; ++round) {
    for (int i = 0; i < 3; ++i) {
      const v1::Session s = server.NewSession(event.name(), absl::StrCat("Track ", round, i), round,
                                              /*capacity=*/2, true);
      by_round[round - 1].push_back(IdOf(s.name()));
    }
  }
  ASSERT_FALSE(::testing::Test::HasFailure());
  const int64_t event_id = IdOf(event.name());
  // Each session's start, in seconds after the event's; a postponement keeps them.
  const std::string offsets = absl::StrCat(
      "SELECT sum(extract(epoch FROM s.start_time - e.start_time) * s.id)::bigint FROM sessions s "
      "JOIN events e ON e.id = s.event_id WHERE e.id = ",
      event_id);
  const int64_t offsets_before = server.QueryInt(offsets);
  const store::DataKey data_key = store::DataKey::Random();
  const domain::SigningKey key = domain::GenerateSigningKey(
      static_cast<uint16_t>(server.QueryInt("SELECT min(key_id) FROM signing_keys")));

  std::atomic<int> deadlocks{0};
  std::atomic<int> failures{0};
  // Runs one store call in a transaction of its own on `conn`; no retry.
  auto run = [&](pqxx::connection& conn, const std::function<absl::Status(pqxx::work&)>& body) {
    try {
      pqxx::work txn(conn);
      if (body(txn).ok()) {
        txn.commit();
      } else {
        ++failures;
      }
    } catch (const pqxx::deadlock_detected&) {
      ++deadlocks;
    } catch (const std::exception&) {
      ++failures;
    }
  };

  std::vector<std::thread> threads;
  threads.emplace_back([&] {  // the organizer: a minute later and one more place, again and again
    auto conn = store::Connect(server.database());
    if (!conn.ok()) {
      ++failures;
      return;
    }
    for (int i = 0; i < kPostponements; ++i) {
      run(**conn, [&](pqxx::work& txn) -> absl::Status {
        store::PgEventStore::LockEvent(txn, event_id);
        absl::StatusOr<store::EventRecord> e = store::PgEventStore::GetEvent(txn, event_id);
        if (!e.ok()) return e.status();
        e->capacity += 1;
        e->start_time += absl::Minutes(1);
        e->end_time += absl::Minutes(1);
        return store::PgEventStore::UpdateEvent(txn, *e, absl::Minutes(1)).status();
      });
    }
  });
  for (int t = 0; t < kRegistrars; ++t) {
    threads.emplace_back([&, t] {
      auto conn = store::Connect(server.database());
      if (!conn.ok()) {
        ++failures;
        return;
      }
      std::mt19937 rng(t);
      auto pick = [&] {
        return std::vector<int64_t>{by_round[0][rng() % 3], by_round[1][rng() % 3]};
      };
      for (int i = 0; i < kRounds; ++i) {
        int64_t id = 0;
        run(**conn, [&](pqxx::work& txn) {
          store::NewRegistration input;
          input.display_name = absl::StrCat("Person ", t, "-", i);
          input.session_ids = pick();
          auto r = store::PgRegistrationStore::Register(txn, event_id, input, data_key, key);
          if (r.ok()) id = r->registration.id;
          return r.status();
        });
        if (id == 0) continue;
        for (int change = 0; change < 2; ++change) {
          run(**conn, [&](pqxx::work& txn) {
            return store::PgRegistrationStore::UpdateChoices(txn, event_id, id, pick(), data_key)
                .status();
          });
        }
        if (i % 4 != 3) continue;  // most stay, waitlisted or not, for the promotions
        run(**conn, [&](pqxx::work& txn) {
          return store::PgRegistrationStore::Cancel(txn, event_id, id, data_key).status();
        });
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(deadlocks.load(), 0);
  EXPECT_EQ(failures.load(), 0);
  // Every postponement moved the event and its program together.
  EXPECT_EQ(server.QueryInt(offsets), offsets_before);
  EXPECT_EQ(server.QueryInt(absl::StrCat("SELECT capacity FROM events WHERE id = ", event_id)),
            4 + kPostponements);
}

}  // namespace
}  // namespace turnout::testing
