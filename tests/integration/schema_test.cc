// The schema can be distributed by event (deploy/SCALING.md, "Distribution by event"): the catalog
// check on the migrated schema, the check catching each kind of breach in a scratch schema, and
// migration 7 on a database as migration 6 left it, with rows.
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/store/migrations.h"
#include "server/store/pg.h"
#include "tests/integration/distribution_check.h"
#include "tests/support/test_server.h"

namespace turnout::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

TEST(DistributionTest, EveryTableOfTheMigratedSchemaIsDistributableByEvent) {
  pqxx::connection conn(TestPostgres::Get().NewDatabase());
  ASSERT_TRUE(store::Migrate(conn).ok());
  pqxx::work txn(conn);
  EXPECT_THAT(DistributionBreaches(txn, "public"), IsEmpty());

  // The tables are those deploy/SCALING.md lists: a new table is added there too.
  std::vector<std::string> tables;
  for (const pqxx::row& r :
       txn.exec("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")) {
    tables.push_back(r[0].as<std::string>());
  }
  EXPECT_THAT(tables, UnorderedElementsAre(
                          // distributed by event
                          "events", "sessions", "checkpoints", "registrations", "session_choices",
                          "tickets", "presence", "scans", "purged_session_counts", "audit_log",
                          // global
                          "tokens", "signing_keys", "schema_migrations"));
  EXPECT_THAT(GlobalTables(), UnorderedElementsAre("tokens", "signing_keys", "schema_migrations"));
}

// A scratch schema with one table of each kind the check accepts, and one of each breach.
TEST(DistributionTest, NamesEachTableAndConstraintThatBreaksTheRules) {
  pqxx::connection conn(TestPostgres::Get().NewDatabase());
  pqxx::work txn(conn);
  txn.exec0(R"sql(
      CREATE SCHEMA scratch;
      SET search_path = scratch;
      CREATE TABLE events (id bigint PRIMARY KEY, request_id text UNIQUE);
      CREATE TABLE tokens (id bigint PRIMARY KEY, event_id bigint REFERENCES events (id));
      CREATE TABLE signing_keys (key_id integer PRIMARY KEY);
      CREATE UNIQUE INDEX signing_keys_one ON signing_keys ((key_id > 0)) WHERE key_id > 0;
      CREATE TABLE good (
        event_id bigint REFERENCES events (id), id bigint, key_id integer REFERENCES signing_keys,
        code text, PRIMARY KEY (event_id, id), UNIQUE (code, event_id));
      CREATE UNIQUE INDEX good_partial ON good (event_id, key_id) WHERE code IS NULL;
      CREATE TABLE pk_not_first (event_id bigint, id bigint, PRIMARY KEY (id, event_id));
      CREATE TABLE no_pk (event_id bigint, id bigint);
      CREATE TABLE uniques (
        event_id bigint, id bigint, code text, PRIMARY KEY (event_id, id),
        CONSTRAINT uniques_code UNIQUE (code));
      CREATE UNIQUE INDEX uniques_lower ON uniques (lower(code)) INCLUDE (event_id);
      CREATE TABLE fkeys (
        event_id bigint, id bigint, good_id bigint, other_event bigint, PRIMARY KEY (event_id, id),
        CONSTRAINT fkeys_by_id FOREIGN KEY (good_id) REFERENCES events (id),
        CONSTRAINT fkeys_crossed FOREIGN KEY (other_event, good_id) REFERENCES good (event_id, id),
        CONSTRAINT fkeys_paired FOREIGN KEY (event_id, good_id) REFERENCES good (event_id, id));
  )sql");
  EXPECT_THAT(
      DistributionBreaches(txn, "scratch"),
      ElementsAre(
          "table events: unique constraint or index events_request_id_key (request_id) does not "
          "include id",
          "table fkeys: foreign key fkeys_by_id (good_id) -> events (id) does not pair event_id "
          "with events.id",
          "table fkeys: foreign key fkeys_crossed (other_event, good_id) -> good (event_id, id) "
          "does not pair event_id with good.event_id",
          "table no_pk: has no primary key; it must start with event_id",
          "table pk_not_first: primary key pk_not_first_pkey (id, event_id) does not start with "
          "event_id",
          "global table tokens: foreign key tokens_event_id_fkey references the distributed "
          "table events",
          "table uniques: unique constraint or index uniques_code (code) does not include event_id",
          "table uniques: unique constraint or index uniques_lower ((expression)) does not "
          "include event_id"));
  // The public schema of the same database has no table at all: nothing to report there.
  EXPECT_THAT(DistributionBreaches(txn, "public"), IsEmpty());
}

// A database as the release before migration 7 left it, with an event created with a request_id,
// a DOOR token of that event, and audit entries on a token and on two events.
std::string DatabaseBeforeMigration7() {
  const std::string database = TestPostgres::Get().NewDatabase();
  pqxx::connection conn(database);
  pqxx::work txn(conn);
  txn.exec0(
      "CREATE TABLE schema_migrations (version integer PRIMARY KEY, description text NOT NULL, "
      "applied_time timestamptz NOT NULL DEFAULT now())");
  for (const store::Migration& m : store::Migrations()) {
    if (m.version > 6) break;
    txn.exec(m.sql);
    txn.exec_params0("INSERT INTO schema_migrations (version, description) VALUES ($1, $2)",
                     m.version, m.description);
  }
  txn.exec(R"sql(
      INSERT INTO events (title, time_zone, start_time, end_time, doors_open_time, state,
                          request_id)
      VALUES ('Oakland', 'America/Los_Angeles', now(), now() + interval '6 hours', now(), 2,
              'create-oakland'),
             ('Fresno', 'America/Los_Angeles', now(), now() + interval '6 hours', now(), 2, NULL);
      INSERT INTO checkpoints (event_id, session_id) VALUES (1, NULL), (2, NULL);
      INSERT INTO tokens (id, token_hash, role, event_id, label)
      VALUES (10, 'hash-of-door', 3, 1, 'north door');
      INSERT INTO audit_log (id, actor_token_id, action, target, count, detail)
      VALUES (1, NULL, 1, 'tokens/10', 0, 'DOOR for events/1'),
             (2, 10, 6, 'events/1', 3, '3 rows, 0 imported before'),
             (3, NULL, 5, 'events/2', 0, 'retention');
      SELECT setval('audit_log_id_seq', 3);
  )sql");
  txn.commit();
  return database;
}

struct AuditRow {
  int64_t event_id;
  int64_t id;
  std::string target;
  bool operator==(const AuditRow& o) const {
    return event_id == o.event_id && id == o.id && target == o.target;
  }
};

void PrintTo(const AuditRow& r, std::ostream* os) {
  *os << "{" << r.event_id << ", " << r.id << ", " << r.target << "}";
}

TEST(Migration7Test, KeysTheAuditLogByEventAndKeepsEveryRowAndRequestId) {
  const std::string database = DatabaseBeforeMigration7();
  {
    // What migration 7 mends, as the check reports it.
    pqxx::connection before(database);
    pqxx::work txn(before);
    EXPECT_THAT(
        DistributionBreaches(txn, "public"),
        ElementsAre("table audit_log: primary key audit_log_pkey (id) does not start with event_id",
                    "table events: unique constraint or index events_request_id_key (request_id) "
                    "does not include id",
                    "global table tokens: foreign key tokens_event_id_fkey references the "
                    "distributed table events"));
  }
  TestServer server([&](api::ServerOptions& options) { options.database = database; });

  pqxx::connection conn(database);
  {
    pqxx::work txn(conn);
    EXPECT_EQ(txn.exec1("SELECT max(version) FROM schema_migrations")[0].as<int>(),
              store::Migrations().back().version);
    EXPECT_THAT(DistributionBreaches(txn, "public"), IsEmpty());
    std::vector<AuditRow> audit;
    for (const pqxx::row& r : txn.exec("SELECT event_id, id, target FROM audit_log ORDER BY id")) {
      audit.push_back({r[0].as<int64_t>(), r[1].as<int64_t>(), r[2].as<std::string>()});
    }
    // The old rows take the event their target names, tokens none; the server's first ADMIN
    // token, made after the migration, is filed under no event either.
    ASSERT_EQ(audit.size(), 4u);
    EXPECT_THAT(std::vector<AuditRow>(audit.begin(), audit.begin() + 3),
                ElementsAre(AuditRow{0, 1, "tokens/10"}, AuditRow{1, 2, "events/1"},
                            AuditRow{2, 3, "events/2"}));
    EXPECT_EQ(audit[3].event_id, 0);
    EXPECT_EQ(audit[3].id, 4);
    EXPECT_EQ(txn.exec1("SELECT event_id FROM tokens WHERE id = 10")[0].as<int64_t>(), 1);
  }

  // The audit log lists as before, old entries first.
  v1::ListAuditEntriesResponse listed;
  ASSERT_TRUE(
      server.admin()
          .ListAuditEntries(server.AdminContext().get(), v1::ListAuditEntriesRequest(), &listed)
          .ok());
  ASSERT_EQ(listed.entries_size(), 4);
  EXPECT_EQ(listed.entries(0).target(), "tokens/10");
  EXPECT_EQ(listed.entries(1).target(), "events/1");
  EXPECT_EQ(listed.entries(1).actor(), "tokens/10");
  EXPECT_EQ(listed.entries(2).target(), "events/2");

  // A request_id used before the migration still answers with the event it created.
  v1::CreateEventRequest again;
  *again.mutable_event() = server.NewEvent("template");
  again.mutable_event()->clear_name();
  again.set_request_id("create-oakland");
  v1::Event replayed;
  ASSERT_TRUE(server.events().CreateEvent(server.AdminContext().get(), again, &replayed).ok());
  EXPECT_EQ(replayed.name(), "events/1");
  EXPECT_EQ(replayed.title(), "Oakland");

  // New audit entries about an event are filed under it.
  v1::PurgePersonalDataRequest purge;
  purge.set_event("events/2");
  purge.set_force(true);
  v1::PurgePersonalDataResponse purged;
  ASSERT_TRUE(server.admin().PurgePersonalData(server.AdminContext().get(), purge, &purged).ok());
  pqxx::work txn(conn);
  EXPECT_EQ(txn.exec1("SELECT event_id FROM audit_log ORDER BY id DESC LIMIT 1")[0].as<int64_t>(),
            2);
}

// Without a unique index across events, calls with one request_id take turns: however many
// arrive at once, one event is created and every call answers with it.
TEST(CreateEventTest, ConcurrentCallsWithOneRequestIdCreateOneEvent) {
  TestServer server;
  v1::CreateEventRequest req;
  *req.mutable_event() = server.NewEvent("template");
  req.mutable_event()->clear_name();
  req.mutable_event()->set_title("Concurrent");
  req.set_request_id("one-request-for-many-calls");
  constexpr int kCalls = 8;
  std::vector<std::string> names(kCalls);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCalls; ++i) {
    threads.emplace_back([&, i] {
      v1::Event created;
      const grpc::Status status =
          server.events().CreateEvent(server.AdminContext().get(), req, &created);
      names[i] = status.ok() ? created.name() : status.error_message();
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& name : names) EXPECT_EQ(name, names[0]);
  EXPECT_EQ(server.QueryInt("SELECT count(*) FROM events WHERE title = 'Concurrent'"), 1);
  EXPECT_EQ(server.QueryInt("SELECT count(*) FROM checkpoints c JOIN events e "
                            "ON e.id = c.event_id WHERE e.title = 'Concurrent'"),
            1);
}

}  // namespace
}  // namespace turnout::testing
