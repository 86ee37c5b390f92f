// What a refused scan keeps (docs/design.md, "Refused scans"): a keyed hash of what was read, its
// length, and the header only of what could be a damaged Turnout code. A volunteer who scans a
// driver's licence by mistake stores nobody's name or address; and migration 5 leaves no text of
// the scans refused before it, not even in the table's files.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/domain/ticket_code.h"
#include "server/store/migrations.h"
#include "tests/support/test_server.h"

namespace turnout::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

// An AAMVA driver's licence as a PDF417 reader types it: a name, a birth date and an address.
const std::string kLicence =
    "@\n\x1e\rANSI 636014040002DL00410278ZC03190008DLDAQD1234567\nDCSDOE\nDACJOHN\nDADQUINCY\n"
    "DBB19700101\nDAG123 MAIN ST\nDAISACRAMENTO\nDAJCA\nDAK958340000\n";
const std::vector<std::string> kLicencePersonal = {"DOE",     "JOHN",       "QUINCY", "19700101",
                                                   "MAIN ST", "SACRAMENTO", "ANSI",   "D1234567"};

// Every row of every table as text, like a plain pg_dump of the data.
std::string DumpAllRows(const std::string& database) {
  pqxx::connection conn(database);
  pqxx::work txn(conn);
  std::string dump;
  for (const pqxx::row& table :
       txn.exec("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")) {
    for (const pqxx::row& row : txn.exec(absl::StrCat(
             "SELECT t::text FROM ", txn.quote_name(table[0].as<std::string>()), " t"))) {
      absl::StrAppend(&dump, row[0].as<std::string>(), "\n");
    }
  }
  return dump;
}

struct ScanRow {
  bool has_registration = false;
  int status = 0;
  std::string code_hash;
  int code_length = 0;
  std::string code_header;
  std::string text;  // the whole row, as text
};

ScanRow ScanRowOf(const std::string& database, const std::string& client_scan_id) {
  pqxx::connection conn(database);
  pqxx::work txn(conn);
  const pqxx::row r = txn.exec_params1(
      "SELECT registration_id IS NOT NULL, status, code_hash, code_length, code_header, s::text "
      "FROM scans s WHERE client_scan_id = $1",
      client_scan_id);
  return ScanRow{r[0].as<bool>(), r[1].as<int>(),         r[2].as<std::string>(),
                 r[3].as<int>(),  r[4].as<std::string>(), r[5].as<std::string>()};
}

class RefusedScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    event_ = server_.NewEvent("Oakland");
    door_ = server_.NewToken(v1::ROLE_DOOR, event_.name());
    ASSERT_FALSE(HasFailure());
  }

  v1::ScanResult Scan(const std::string& code, const std::string& client_scan_id) {
    v1::ScanRequest req;
    req.set_event(event_.name());
    req.set_code(code);
    req.set_client_scan_id(client_scan_id);
    v1::ScanResult result;
    const grpc::Status status =
        server_.checkin().Scan(TestServer::Context(door_).get(), req, &result);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return result;
  }

  TestServer server_;
  v1::Event event_;
  std::string door_;
};

TEST_F(RefusedScanTest, ADriversLicenceScannedByMistakeStoresNoNameNorAddress) {
  const v1::ScanResult result = Scan(kLicence, "licence-1");
  EXPECT_EQ(result.status(), v1::ScanResult::INVALID);
  EXPECT_EQ(result.display_name(), "");

  const ScanRow row = ScanRowOf(server_.database(), "licence-1");
  EXPECT_FALSE(row.has_registration);
  EXPECT_EQ(row.status, v1::ScanResult::INVALID);
  EXPECT_EQ(row.code_length, static_cast<int>(kLicence.size()));
  EXPECT_THAT(row.code_hash, MatchesRegex("[0-9a-f]{32}"));
  EXPECT_EQ(row.code_header, "") << "a licence is no Turnout code: no text is kept";
  const std::string dump = DumpAllRows(server_.database());
  for (const std::string& personal : kLicencePersonal) {
    EXPECT_THAT(row.text, Not(HasSubstr(personal)));
    EXPECT_THAT(dump, Not(HasSubstr(personal)));
  }

  // The same licence scanned again is recognisable as a repeat (same keyed hash); another is not.
  Scan(kLicence, "licence-2");
  EXPECT_EQ(ScanRowOf(server_.database(), "licence-2").code_hash, row.code_hash);
  std::string other = kLicence;
  other.replace(other.find("JOHN"), 4, "JANE");
  Scan(other, "licence-3");
  EXPECT_NE(ScanRowOf(server_.database(), "licence-3").code_hash, row.code_hash);

  // Uploaded by a door that was offline, it keeps no more.
  v1::UploadScansRequest upload;
  upload.set_event(event_.name());
  v1::OfflineScan* offline = upload.add_scans();
  offline->mutable_scan()->set_code(kLicence);
  offline->mutable_scan()->set_client_scan_id("licence-offline");
  *offline->mutable_scan()->mutable_scan_time() = ToProtoTime(absl::Now() - absl::Minutes(1));
  offline->set_device_status(v1::ScanResult::INVALID);
  v1::UploadScansResponse uploaded;
  const grpc::Status status =
      server_.checkin().UploadScans(TestServer::Context(door_).get(), upload, &uploaded);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(ScanRowOf(server_.database(), "licence-offline").code_hash, row.code_hash);
  const std::string after = DumpAllRows(server_.database());
  for (const std::string& personal : kLicencePersonal) {
    EXPECT_THAT(after, Not(HasSubstr(personal)));
  }
}

TEST_F(RefusedScanTest, ADamagedTicketKeepsOnlyItsHeader) {
  const v1::RegisterResponse ana = server_.Register(event_.name(), "Ana Flores");
  ASSERT_FALSE(HasFailure());
  const std::string code = ana.ticket().code();
  std::string garbled = code;
  garbled[100] = garbled[100] == 'A' ? 'B' : 'A';  // in the signature: a valid header, bad code
  EXPECT_EQ(Scan(garbled, "garbled").status(), v1::ScanResult::INVALID);

  ScanRow row = ScanRowOf(server_.database(), "garbled");
  EXPECT_EQ(row.code_header, code.substr(0, domain::kTicketHeaderLength));
  EXPECT_EQ(row.code_length, 140);
  EXPECT_THAT(row.code_hash, MatchesRegex("[0-9a-f]{32}"));
  // Nothing of the ticket id or the signature is in the scan log.
  EXPECT_THAT(row.text, Not(HasSubstr(code.substr(domain::kTicketHeaderLength, 8))));
  EXPECT_THAT(row.text, Not(HasSubstr(garbled.substr(90, 20))));

  // A genuine code that is refused (canceled) keeps the same trace; an admitted one keeps none.
  const v1::RegisterResponse ben = server_.Register(event_.name(), "Ben Ortiz");
  ASSERT_TRUE(Scan(ben.ticket().code(), "ben-in").status() == v1::ScanResult::ADMITTED);
  row = ScanRowOf(server_.database(), "ben-in");
  EXPECT_TRUE(row.has_registration);
  EXPECT_EQ(row.code_hash, "");
  EXPECT_EQ(row.code_length, 0);
  EXPECT_EQ(row.code_header, "");

  v1::CancelRegistrationRequest cancel;
  cancel.set_name(ana.registration().name());
  v1::Registration canceled;
  ASSERT_TRUE(server_.registrations()
                  .CancelRegistration(server_.AdminContext().get(), cancel, &canceled)
                  .ok());
  EXPECT_EQ(Scan(code, "ana-canceled").status(), v1::ScanResult::CANCELED);
  row = ScanRowOf(server_.database(), "ana-canceled");
  EXPECT_EQ(row.code_header, code.substr(0, domain::kTicketHeaderLength));
  EXPECT_EQ(row.code_length, 140);
  EXPECT_THAT(row.text, Not(HasSubstr(code.substr(domain::kTicketHeaderLength, 8))));
}

// A database as the release before migration 5 left it, with a licence scanned by mistake in
// scans.raw_code (the first 64 characters, control characters as '?').
std::string DatabaseBeforeMigration5() {
  const std::string database = TestPostgres::Get().NewDatabase();
  pqxx::connection conn(database);
  pqxx::work txn(conn);
  txn.exec0(
      "CREATE TABLE schema_migrations (version integer PRIMARY KEY, description text NOT NULL, "
      "applied_time timestamptz NOT NULL DEFAULT now())");
  for (const store::Migration& m : store::Migrations()) {
    if (m.version > 4) break;
    txn.exec(m.sql);
    txn.exec_params0("INSERT INTO schema_migrations (version, description) VALUES ($1, $2)",
                     m.version, m.description);
  }
  txn.exec0(R"(
      INSERT INTO events (id, title, time_zone, start_time, end_time, doors_open_time, state)
      VALUES (1, 'Oakland', 'America/Los_Angeles', now(), now() + interval '6 hours', now(), 2);
      INSERT INTO checkpoints (event_id, id) VALUES (1, 1);
      INSERT INTO scans (event_id, checkpoint_id, device_id, client_scan_id, direction,
                         scanned_time, status, raw_code)
      VALUES (1, 1, 1, 'old-licence-scan', 1, now(), 9,
              '@???ANSI 636014040002DL00410278ZC03190008DLDCSDOE?DACJOHN?DAG123'),
             (1, 1, 1, 'old-clean-scan', 1, now(), 9, ''))");
  txn.commit();
  return database;
}

TEST(Migration5Test, LeavesNoRawTextOfOldRefusedScansInRowsOrFiles) {
  const std::string database = DatabaseBeforeMigration5();
  TestServer server([&](api::ServerOptions& options) { options.database = database; });

  pqxx::connection conn(database);
  {
    pqxx::work txn(conn);
    EXPECT_EQ(txn.exec1("SELECT count(*) FROM information_schema.columns "
                        "WHERE table_name = 'scans' AND column_name = 'raw_code'")[0]
                  .as<int>(),
              0);
    EXPECT_EQ(txn.exec1("SELECT max(version) FROM schema_migrations")[0].as<int>(),
              store::Migrations().back().version);
  }
  const ScanRow old = ScanRowOf(database, "old-licence-scan");
  EXPECT_EQ(old.code_length, 64) << "the length of what was kept survives";
  EXPECT_EQ(old.code_hash, "");
  EXPECT_EQ(old.code_header, "");
  EXPECT_EQ(ScanRowOf(database, "old-clean-scan").code_length, 0);
  const std::string dump = DumpAllRows(database);
  for (const std::string& personal : {"DOE", "JOHN", "DAG123", "ANSI"}) {
    EXPECT_THAT(dump, Not(HasSubstr(personal)));
  }

  // The table's file on disk (after a checkpoint writes it) holds no old text either: the
  // migration rewrote the table rather than leaving the text in dead row versions.
  std::string path;
  {
    pqxx::nontransaction txn(conn);
    txn.exec0("CHECKPOINT");
    path = txn.exec1(
                  "SELECT current_setting('data_directory') || '/' || "
                  "pg_relation_filepath('scans')")[0]
               .as<std::string>();
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << "cannot read " << path;
  const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(file, HasSubstr("old-licence-scan")) << "the file read is the table's";
  for (const std::string& personal : {"DOE", "JOHN", "DAG123", "ANSI"}) {
    EXPECT_THAT(file, Not(HasSubstr(personal)));
  }
}

}  // namespace
}  // namespace turnout::testing
