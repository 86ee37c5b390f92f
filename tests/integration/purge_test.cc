// PurgePersonalData, the automatic purge after the retention period, and the audit log, through
// the real server on a real PostgreSQL (docs/design.md, "Purge and retention" and "Audit log").
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/support/test_server.h"

namespace turnout::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Distinctive enough that finding any of them (in any case) in a dump can only be a leak.
const std::vector<std::string> kNames = {"Xiomara Quetzalcoatl-Brightwater",
                                         "Zbigniew Omnibus-Thistlewood",
                                         "Wilhelmina Cardamom-Fairweather"};
const std::vector<std::string> kEmails = {"xiomara.purgetest@example.org",
                                          "zbigniew.purgetest@example.org",
                                          "wilhelmina.purgetest@example.org"};
const std::vector<std::string> kImportedNames = {"Ulrike Pemberton-Quayle",
                                                 "Oluwaseun Marchbanks-Ivory"};
const std::vector<std::string> kImportedEmails = {"ulrike.purgetest@example.net",
                                                  "oluwaseun.purgetest@example.net"};
const char kPhone[] = "+1 510 555 0199";
// What a door read that was no ticket at all: a refused scan keeps only its keyed hash and length
// (docs/design.md, "Refused scans"); the purge erases the hash too.
const char kNotATicket[] = "MECARD:N:Quetzalcoatl-Brightwater,Xiomara;";

// The words a leak would show, lower-case (search forms are lower-case, accent-free).
std::vector<std::string> LeakWords() {
  std::vector<std::string> words = {"xiomara", "quetzalcoatl", "brightwater", "zbigniew",
                                    "thistlewood", "wilhelmina", "cardamom", "fairweather",
                                    "ulrike", "pemberton", "oluwaseun", "marchbanks",
                                    "purgetest", "555 0199", "mecard"};
  return words;
}

// The directory of PostgreSQL's client programs, as the embedded cluster finds its own.
std::string PgBinDir() {
  if (FILE* p = popen("pg_config --bindir 2>/dev/null", "r")) {
    char buf[512];
    std::string out;
    while (fgets(buf, sizeof buf, p)) out += buf;
    pclose(p);
    const std::string dir(absl::StripAsciiWhitespace(out));
    if (!dir.empty() && std::filesystem::exists(dir + "/pg_dump")) return dir;
  }
  return "/usr/lib/postgresql/15/bin";
}

// pg_dump of the whole test database (schema and every row), as the database's own
// unprivileged role over the cluster's socket.
std::string PgDump(const std::string& database) {
  const std::string command =
      absl::StrCat(PgBinDir(), "/pg_dump --no-owner --dbname='", database, "' 2>&1");
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) {
    ADD_FAILURE() << "cannot run " << command;
    return "";
  }
  std::string out;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int rc = pclose(p);
  EXPECT_EQ(rc, 0) << "pg_dump failed: " << out.substr(0, 2000);
  EXPECT_THAT(out, HasSubstr("CREATE TABLE public.registrations"));
  return out;
}

// The words of `words` found in `text`, ignoring case.
std::vector<std::string> Found(const std::string& text, const std::vector<std::string>& words) {
  const std::string lower = absl::AsciiStrToLower(text);
  std::vector<std::string> found;
  for (const std::string& w : words) {
    if (absl::StrContains(lower, w)) found.push_back(w);
  }
  return found;
}

// Counts as GetAttendance gives them, without what moves with the clock alone.
v1::Attendance Counts(TestServer& server, const std::string& event) {
  v1::Attendance a = server.Attendance(event);
  a.clear_as_of();
  for (v1::CheckpointAttendance& c : *a.mutable_checkpoints()) c.clear_arrivals_last_minute();
  return a;
}

std::string Export(TestServer& server, const std::string& event) {
  auto ctx = server.AdminContext();
  v1::ExportAttendanceRequest req;
  req.set_event(event);
  auto reader = server.attendance().ExportAttendance(ctx.get(), req);
  v1::ExportAttendanceChunk chunk;
  std::string csv;
  while (reader->Read(&chunk)) csv += chunk.csv();
  const grpc::Status status = reader->Finish();
  EXPECT_TRUE(status.ok()) << "ExportAttendance: " << status.error_message();
  return csv;
}

grpc::Status Import(TestServer& server, const std::string& token, const std::string& event,
                    const std::vector<std::string>& names, const std::vector<std::string>& emails,
                    v1::ImportRegistrationsResponse* resp) {
  auto ctx = TestServer::Context(token);
  auto writer = server.registrations().ImportRegistrations(ctx.get(), resp);
  for (size_t i = 0; i < names.size(); ++i) {
    v1::ImportRegistrationsRequest row;
    if (i == 0) row.set_parent(event);
    row.set_line(static_cast<int>(i) + 1);
    row.set_request_id(absl::StrCat("import-", emails[i]));
    row.mutable_registration()->set_display_name(names[i]);
    row.mutable_registration()->set_email(emails[i]);
    row.mutable_registration()->set_preferred_language("es");
    row.mutable_registration()->add_attention_flags(v1::ATTENTION_FLAG_CHILDCARE);
    if (!writer->Write(row)) break;
  }
  writer->WritesDone();
  return writer->Finish();
}

grpc::Status Purge(TestServer& server, const std::string& token, const std::string& event,
                   bool force, v1::PurgePersonalDataResponse* resp) {
  v1::PurgePersonalDataRequest req;
  req.set_event(event);
  req.set_force(force);
  return server.admin().PurgePersonalData(TestServer::Context(token).get(), req, resp);
}

v1::Event GetEvent(TestServer& server, const std::string& name) {
  v1::GetEventRequest req;
  req.set_name(name);
  v1::Event event;
  const grpc::Status status = server.events().GetEvent(server.AdminContext().get(), req, &event);
  EXPECT_TRUE(status.ok()) << "GetEvent: " << status.error_message();
  return event;
}

std::vector<v1::Session> Sessions(TestServer& server, const std::string& event) {
  v1::ListSessionsRequest req;
  req.set_parent(event);
  v1::ListSessionsResponse resp;
  const grpc::Status status =
      server.events().ListSessions(server.AdminContext().get(), req, &resp);
  EXPECT_TRUE(status.ok()) << "ListSessions: " << status.error_message();
  return {resp.sessions().begin(), resp.sessions().end()};
}

std::vector<v1::AuditEntry> AuditEntries(TestServer& server, int page_size = 0) {
  std::vector<v1::AuditEntry> entries;
  v1::ListAuditEntriesRequest req;
  req.set_page_size(page_size);
  for (;;) {
    v1::ListAuditEntriesResponse resp;
    const grpc::Status status =
        server.admin().ListAuditEntries(server.AdminContext().get(), req, &resp);
    EXPECT_TRUE(status.ok()) << "ListAuditEntries: " << status.error_message();
    entries.insert(entries.end(), resp.entries().begin(), resp.entries().end());
    if (!status.ok() || resp.next_page_token().empty()) return entries;
    req.set_page_token(resp.next_page_token());
  }
}

// An event that ran yesterday (it ended 18 hours ago), with a breakout of one seat that must be
// chosen in advance; scans are sent with their time during the event, as a door's late queue is.
class PurgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    event_ = server_.NewEvent("Oakland, yesterday", 0, -absl::Hours(24));
    breakout_ = server_.NewSession(event_.name(), "Know your rights", 1, 1, true, -absl::Hours(24));
    door_ = server_.NewToken(v1::ROLE_DOOR, event_.name());
    ASSERT_FALSE(HasFailure());
  }

  // During the event: an hour after it started.
  absl::Time DuringTheEvent() const { return FromProtoTime(event_.start_time()) + absl::Hours(1); }

  v1::ScanResult Scan(const std::string& code, const std::string& checkpoint = "",
                      v1::ScanDirection direction = v1::SCAN_DIRECTION_ENTRY,
                      grpc::Status* status_out = nullptr) {
    v1::ScanRequest req;
    req.set_event(event_.name());
    req.set_checkpoint(checkpoint);
    req.set_code(code);
    req.set_direction(direction);
    req.set_client_scan_id(absl::StrCat("purge-scan-", ++next_scan_));
    *req.mutable_scan_time() = ToProtoTime(DuringTheEvent() + absl::Minutes(next_scan_));
    v1::ScanResult result;
    const grpc::Status status =
        server_.checkin().Scan(TestServer::Context(door_).get(), req, &result);
    if (status_out != nullptr) {
      *status_out = status;
    } else {
      EXPECT_TRUE(status.ok()) << "Scan: " << status.error_message();
    }
    return result;
  }

  // Registers kNames (the first two choosing the breakout: one seat, one waitlisted), imports
  // kImportedNames, scans some of them in and out, and a code that is no ticket.
  void Populate() {
    for (size_t i = 0; i < kNames.size(); ++i) {
      v1::RegisterRequest req;
      req.set_parent(event_.name());
      req.set_request_id(absl::StrCat("purge-test-registration-", i, "-0123456789"));
      v1::Registration* r = req.mutable_registration();
      r->set_display_name(kNames[i]);
      r->set_email(kEmails[i]);
      if (i == 0) r->set_phone(kPhone);
      r->set_preferred_language("es");
      r->add_attention_flags(v1::ATTENTION_FLAG_SPANISH_INTERPRETATION);
      if (i < 2) r->add_session_choices()->set_session(breakout_.name());
      v1::RegisterResponse resp;
      const grpc::Status status =
          server_.registrations().Register(server_.AdminContext().get(), req, &resp);
      ASSERT_TRUE(status.ok()) << status.error_message();
      registrations_.push_back(resp.registration().name());
      codes_.push_back(resp.ticket().code());
    }
    v1::ImportRegistrationsResponse imported;
    const grpc::Status status =
        Import(server_, server_.admin_token(), event_.name(), kImportedNames, kImportedEmails,
               &imported);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(imported.imported(), 2);

    EXPECT_EQ(Scan(codes_[0]).status(), v1::ScanResult::ADMITTED);
    EXPECT_EQ(Scan(codes_[1]).status(), v1::ScanResult::ADMITTED);
    EXPECT_EQ(Scan(codes_[1], "", v1::SCAN_DIRECTION_EXIT).status(),
              v1::ScanResult::EXIT_RECORDED);
    EXPECT_EQ(Scan(codes_[0], breakout_.checkpoint()).status(), v1::ScanResult::ADMITTED);
    EXPECT_EQ(Scan(kNotATicket).status(), v1::ScanResult::INVALID);
  }

  TestServer server_;
  v1::Event event_;
  v1::Session breakout_;
  std::string door_;
  std::vector<std::string> registrations_;
  std::vector<std::string> codes_;
  int next_scan_ = 0;
};

// The issue's check: after a purge, a dump of the whole database holds none of the names, emails,
// phones or scanned text; counts, the report's other columns and scan statuses are unchanged.
TEST_F(PurgeTest, APurgeLeavesNoNameOrContactInADumpAndKeepsEveryCount) {
  Populate();
  ASSERT_FALSE(HasFailure());
  const v1::Attendance counts_before = Counts(server_, event_.name());
  const std::string report_before = Export(server_, event_.name());
  const std::vector<v1::Session> sessions_before = Sessions(server_, event_.name());
  const v1::Event event_before = GetEvent(server_, event_.name());
  const int64_t scans_before = server_.QueryInt("SELECT count(*) FROM scans");
  // The test can fail: before the purge, the dump shows the names.
  EXPECT_THAT(Found(PgDump(server_.database()), LeakWords()), ::testing::Contains("xiomara"));
  ASSERT_EQ(counts_before.checkpoints(0).checked_in(), 2);
  ASSERT_EQ(event_before.confirmed_count(), 5);

  v1::PurgePersonalDataResponse purged;
  const grpc::Status status = Purge(server_, server_.admin_token(), event_.name(), false, &purged);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(purged.registrations_purged(), 5);
  EXPECT_TRUE(purged.vacuumed());
  EXPECT_TRUE(purged.has_purge_time());

  const std::string dump = PgDump(server_.database());
  EXPECT_THAT(Found(dump, LeakWords()), ::testing::IsEmpty());
  EXPECT_EQ(server_.QueryInt("SELECT count(*) FROM registrations WHERE email_sealed <> '' OR "
                             "phone_sealed <> '' OR search_name <> '' OR display_name <> ''"),
            0);
  EXPECT_EQ(server_.QueryInt("SELECT count(*) FROM session_choices"), 0);
  EXPECT_EQ(server_.QueryInt("SELECT count(*) FROM tickets"), 0);

  // Counts, session tallies and the event's counts read as before.
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(Counts(server_, event_.name()),
                                                                 counts_before))
      << Counts(server_, event_.name()).DebugString() << "\nwas\n" << counts_before.DebugString();
  const std::vector<v1::Session> sessions_after = Sessions(server_, event_.name());
  ASSERT_EQ(sessions_after.size(), sessions_before.size());
  for (size_t i = 0; i < sessions_after.size(); ++i) {
    EXPECT_EQ(sessions_after[i].confirmed_count(), sessions_before[i].confirmed_count());
    EXPECT_EQ(sessions_after[i].waitlisted_count(), sessions_before[i].waitlisted_count());
  }
  EXPECT_EQ(sessions_after[0].confirmed_count(), 1);
  EXPECT_EQ(sessions_after[0].waitlisted_count(), 1);
  const v1::Event event_after = GetEvent(server_, event_.name());
  EXPECT_EQ(event_after.confirmed_count(), event_before.confirmed_count());
  EXPECT_EQ(event_after.waitlisted_count(), event_before.waitlisted_count());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(event_after.purge_time(),
                                                                 purged.purge_time()));

  // The report: the same rows and columns, without the names.
  std::string expected = report_before;
  for (const std::string& name : kNames) absl::StrReplaceAll({{name, ""}}, &expected);
  for (const std::string& name : kImportedNames) absl::StrReplaceAll({{name, ""}}, &expected);
  EXPECT_EQ(Export(server_, event_.name()), expected);

  // Every scan is still there with its status.
  EXPECT_EQ(server_.QueryInt("SELECT count(*) FROM scans"), scans_before);
  EXPECT_EQ(server_.QueryInt("SELECT count(*) FROM scans WHERE status = 1"), 3);
  EXPECT_EQ(server_.QueryInt("SELECT count(*) FROM scans WHERE status = 2"), 1);
  EXPECT_EQ(server_.QueryInt("SELECT count(*) FROM scans WHERE status = 9"), 1);
}

TEST_F(PurgeTest, PurgingAgainIsOkErasesNothingMoreAndKeepsTheFirstPurgeTime) {
  Populate();
  ASSERT_FALSE(HasFailure());
  v1::PurgePersonalDataResponse first;
  ASSERT_TRUE(Purge(server_, server_.admin_token(), event_.name(), false, &first).ok());
  const std::string after_first = server_.Fingerprint();
  v1::PurgePersonalDataResponse again;
  const grpc::Status status = Purge(server_, server_.admin_token(), event_.name(), false, &again);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(again.registrations_purged(), 0);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(again.purge_time(),
                                                                 first.purge_time()));
  // Only the audit log grew: the second request is an administrative action too.
  const std::vector<v1::AuditEntry> entries = AuditEntries(server_);
  ASSERT_GE(entries.size(), 2u);
  EXPECT_EQ(entries.back().action(), v1::AuditEntry::PERSONAL_DATA_PURGED);
  EXPECT_EQ(entries.back().count(), 0);
  EXPECT_THAT(entries.back().detail(), HasSubstr("purged before"));
  server_.Execute("DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)");
  EXPECT_EQ(server_.Fingerprint(), after_first);
}

// Bad input: a purge of an event that is still running is refused, saying so, and changes nothing.
TEST(PurgeBadInputTest, APurgeOfARunningEventIsFailedPreconditionAndChangesNothing) {
  TestServer server;
  const v1::Event running = server.NewEvent("Running now");
  const v1::RegisterResponse ana = server.Register(running.name(), "Ana Running", {}, "ana@x.org");
  ASSERT_FALSE(::testing::Test::HasFailure());
  const std::string before = server.Fingerprint();
  v1::PurgePersonalDataResponse resp;
  const grpc::Status status = Purge(server, server.admin_token(), running.name(), false, &resp);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("has not ended"));
  EXPECT_THAT(status.error_message(), HasSubstr(running.name()));
  EXPECT_THAT(status.error_message(), HasSubstr("force"));
  EXPECT_EQ(server.Fingerprint(), before);
}

TEST(PurgeBadInputTest, OnlyAnAdminMayPurgeAndABadEventNameChangesNothing) {
  TestServer server;
  const v1::Event ended = server.NewEvent("Ended", 0, -absl::Hours(24));
  server.Register(ended.name(), "Ana Ended");
  const std::string organizer = server.NewToken(v1::ROLE_ORGANIZER);
  const std::string door = server.NewToken(v1::ROLE_DOOR, ended.name());
  ASSERT_FALSE(::testing::Test::HasFailure());
  const std::string before = server.Fingerprint();
  v1::PurgePersonalDataResponse resp;
  EXPECT_EQ(Purge(server, "", ended.name(), false, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Purge(server, door, ended.name(), false, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Purge(server, organizer, ended.name(), true, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  const grpc::Status bad = Purge(server, server.admin_token(), "event/1", false, &resp);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(bad.error_message(), HasSubstr("event"));
  const grpc::Status missing = Purge(server, server.admin_token(), "events/999", false, &resp);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(missing.error_message(), HasSubstr("events/999"));
  EXPECT_EQ(server.Fingerprint(), before);
}

// A forced purge closes a running event for good: what would write to it is refused by name and
// changes nothing; counts and the report stay readable.
TEST(PurgeForcedTest, AForcedPurgeOfARunningEventRefusesEveryLaterChange) {
  TestServer server;
  const v1::Event event = server.NewEvent("Running, purged anyway");
  const v1::Session breakout = server.NewSession(event.name(), "Health", 1, 0, true);
  const std::string door = server.NewToken(v1::ROLE_DOOR, event.name());
  const v1::RegisterResponse ana = server.Register(event.name(), "Ana Forced");
  ASSERT_FALSE(::testing::Test::HasFailure());
  v1::PurgePersonalDataResponse resp;
  const grpc::Status purged = Purge(server, server.admin_token(), event.name(), true, &resp);
  ASSERT_TRUE(purged.ok()) << purged.error_message();
  EXPECT_EQ(resp.registrations_purged(), 1);
  const std::string before = server.Fingerprint();

  auto expect_purged = [&](const grpc::Status& status, const std::string& what) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
        << what << ": " << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr("was purged")) << what;
    EXPECT_EQ(server.Fingerprint(), before) << what;
  };
  {
    v1::RegisterRequest req;
    req.set_parent(event.name());
    req.set_request_id("after-the-purge-0123456789");
    req.mutable_registration()->set_display_name("Late Comer");
    v1::RegisterResponse out;
    expect_purged(server.registrations().Register(server.AdminContext().get(), req, &out),
                  "Register");
  }
  {
    v1::ImportRegistrationsResponse out;
    expect_purged(Import(server, server.admin_token(), event.name(), {"Late Import"},
                         {"late@example.org"}, &out),
                  "ImportRegistrations");
  }
  {
    v1::ScanRequest req;
    req.set_event(event.name());
    req.set_code(ana.ticket().code());
    req.set_direction(v1::SCAN_DIRECTION_ENTRY);
    req.set_client_scan_id("after-the-purge");
    v1::ScanResult out;
    expect_purged(server.checkin().Scan(TestServer::Context(door).get(), req, &out), "Scan");
  }
  {
    v1::CheckInWalkInRequest req;
    req.set_event(event.name());
    req.set_client_scan_id("walk-in-after-the-purge");
    req.mutable_registration()->set_display_name("Walk In");
    v1::CheckInWalkInResponse out;
    expect_purged(server.checkin().CheckInWalkIn(TestServer::Context(door).get(), req, &out),
                  "CheckInWalkIn");
  }
  {
    v1::GetOfflineBundleRequest req;
    req.set_event(event.name());
    v1::OfflineBundle out;
    expect_purged(server.checkin().GetOfflineBundle(TestServer::Context(door).get(), req, &out),
                  "GetOfflineBundle");
  }
  {
    v1::SearchAttendeesRequest req;
    req.set_event(event.name());
    req.set_query("Ana");
    v1::SearchAttendeesResponse out;
    ASSERT_TRUE(
        server.checkin().SearchAttendees(TestServer::Context(door).get(), req, &out).ok());
    EXPECT_EQ(out.attendees_size(), 0);  // nobody has a name any more
  }
  {
    v1::UpdateSessionChoicesRequest req;
    req.set_name(ana.registration().name());
    req.add_sessions(breakout.name());
    v1::Registration out;
    expect_purged(
        server.registrations().UpdateSessionChoices(server.AdminContext().get(), req, &out),
        "UpdateSessionChoices");
  }
  {
    v1::CancelRegistrationRequest req;
    req.set_name(ana.registration().name());
    v1::Registration out;
    expect_purged(
        server.registrations().CancelRegistration(server.AdminContext().get(), req, &out),
        "CancelRegistration");
  }
  {
    v1::ReissueTicketRequest req;
    req.set_name(ana.registration().name());
    v1::Ticket out;
    expect_purged(server.registrations().ReissueTicket(server.AdminContext().get(), req, &out),
                  "ReissueTicket");
  }
  {
    v1::GetTicketRequest req;
    req.set_name(ana.registration().name());
    v1::Ticket out;
    expect_purged(server.registrations().GetTicket(server.AdminContext().get(), req, &out),
                  "GetTicket");
  }
  {
    // The attendee's own code no longer opens anything: the link from code to record is gone.
    v1::GetRegistrationRequest req;
    req.set_name(ana.registration().name());
    req.set_ticket_code(ana.ticket().code());
    v1::Registration out;
    EXPECT_EQ(server.registrations().GetRegistration(TestServer::Context("").get(), req, &out)
                  .error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  // Reading stays possible: the anonymous registration, and the counts.
  v1::GetRegistrationRequest req;
  req.set_name(ana.registration().name());
  v1::Registration anonymous;
  ASSERT_TRUE(
      server.registrations().GetRegistration(server.AdminContext().get(), req, &anonymous).ok());
  EXPECT_EQ(anonymous.display_name(), "");
  EXPECT_EQ(anonymous.status(), v1::Registration::CONFIRMED);
  EXPECT_EQ(server.CountsAt(event).registered(), 1);
}

// The automatic purge at start-up: an event that ended more than --retention_days ago is purged
// when the server starts; one that ended more recently, and one running, are not.
TEST(RetentionTest, AtStartAnEventPastTheRetentionIsPurgedAndOthersAreNot) {
  // The events are made while the server keeps everything (no pass could purge them half-made);
  // the restart then runs the server with a 30-day retention, whose pass at start purges.
  int retention_days = 0;
  TestServer server([&retention_days](api::ServerOptions& o) {
    o.retention_days = retention_days;
    o.retention_check_interval = absl::Hours(1);  // only the pass at start, in this test
  });
  const v1::Event old = server.NewEvent("Forty days ago", 0, -absl::Hours(24 * 40));
  const v1::Event recent = server.NewEvent("Ten days ago", 0, -absl::Hours(24 * 10));
  const v1::Event running = server.NewEvent("Today");
  server.Register(old.name(), "Xiomara Oldtimer");
  server.Register(recent.name(), "Zbigniew Recent");
  server.Register(running.name(), "Wilhelmina Today");
  ASSERT_FALSE(::testing::Test::HasFailure());
  EXPECT_FALSE(GetEvent(server, old.name()).has_purge_time());

  retention_days = 30;
  server.Restart();
  v1::Event purged;
  for (int i = 0; i < 100 && !purged.has_purge_time(); ++i) {
    purged = GetEvent(server, old.name());
    if (!purged.has_purge_time()) absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(purged.has_purge_time()) << "the event past the retention was not purged at start";
  EXPECT_EQ(purged.confirmed_count(), 1);
  EXPECT_FALSE(GetEvent(server, recent.name()).has_purge_time());
  EXPECT_FALSE(GetEvent(server, running.name()).has_purge_time());
  EXPECT_EQ(server.QueryInt("SELECT count(*) FROM registrations WHERE display_name <> ''"), 2);

  const std::vector<v1::AuditEntry> entries = AuditEntries(server);
  ASSERT_FALSE(entries.empty());
  const v1::AuditEntry& last = entries.back();
  EXPECT_EQ(last.action(), v1::AuditEntry::PERSONAL_DATA_PURGED);
  EXPECT_EQ(last.target(), old.name());
  EXPECT_EQ(last.actor(), "");  // the server itself
  EXPECT_EQ(last.count(), 1);
  EXPECT_EQ(last.detail(), "retention 30 days");
}

// The periodic check: an event that comes to be past the retention while the server runs is
// purged by a later pass, once.
TEST(RetentionTest, APeriodicPassPurgesAnEventOnceItIsPastTheRetention) {
  TestServer server([](api::ServerOptions& o) {
    o.retention_days = 1;
    o.retention_check_interval = absl::Milliseconds(100);
  });
  const v1::Event old = server.NewEvent("Three days ago", 0, -absl::Hours(24 * 3));
  ASSERT_FALSE(::testing::Test::HasFailure());
  v1::Event purged;
  for (int i = 0; i < 100 && !purged.has_purge_time(); ++i) {
    purged = GetEvent(server, old.name());
    if (!purged.has_purge_time()) absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(purged.has_purge_time());
  absl::SleepFor(absl::Milliseconds(500));  // a few more passes
  int purges = 0;
  for (const v1::AuditEntry& e : AuditEntries(server)) {
    if (e.action() == v1::AuditEntry::PERSONAL_DATA_PURGED) ++purges;
  }
  EXPECT_EQ(purges, 1);
}

// Every administrative action leaves exactly one entry naming the token that acted; the entries
// carry resource names, roles and counts, never a name, an email or a token's label.
TEST(AuditTest, EachAdministrativeActionLeavesOneEntryWithItsActorAndNoPersonalData) {
  TestServer server;
  const v1::Event ended = server.NewEvent("Ended", 0, -absl::Hours(24));
  v1::CreateDeviceTokenRequest create_admin;
  create_admin.set_role(v1::ROLE_ADMIN);
  create_admin.set_label("Xiomara's laptop");
  v1::CreateDeviceTokenResponse admin2;
  ASSERT_TRUE(server.admin()
                  .CreateDeviceToken(server.AdminContext().get(), create_admin, &admin2)
                  .ok());
  const std::string actor = admin2.token().name();
  const size_t baseline = AuditEntries(server).size();
  auto as_admin2 = [&] { return TestServer::Context(admin2.secret()); };

  v1::CreateDeviceTokenRequest create_door;
  create_door.set_role(v1::ROLE_DOOR);
  create_door.set_event(ended.name());
  create_door.set_label("Zbigniew's phone");
  v1::CreateDeviceTokenResponse door;
  ASSERT_TRUE(server.admin().CreateDeviceToken(as_admin2().get(), create_door, &door).ok());
  v1::RevokeDeviceTokenRequest revoke;
  revoke.set_name(door.token().name());
  v1::DeviceToken revoked;
  ASSERT_TRUE(server.admin().RevokeDeviceToken(as_admin2().get(), revoke, &revoked).ok());
  v1::ImportRegistrationsResponse imported;
  ASSERT_TRUE(
      Import(server, admin2.secret(), ended.name(), kImportedNames, kImportedEmails, &imported)
          .ok());
  v1::SigningKeyInfo rotated;
  ASSERT_TRUE(server.admin()
                  .RotateSigningKey(as_admin2().get(), v1::RotateSigningKeyRequest(), &rotated)
                  .ok());
  v1::RevokeSigningKeyRequest revoke_key;
  revoke_key.set_key_id(rotated.key_id() - 1);  // the first key, which signed the imports
  v1::SigningKeyInfo key_revoked;
  ASSERT_TRUE(server.admin().RevokeSigningKey(as_admin2().get(), revoke_key, &key_revoked).ok());
  v1::PurgePersonalDataResponse purged;
  ASSERT_TRUE(Purge(server, admin2.secret(), ended.name(), false, &purged).ok());

  const std::vector<v1::AuditEntry> all = AuditEntries(server, 2);  // pages of two
  ASSERT_EQ(all.size(), baseline + 6);
  const std::vector<v1::AuditEntry> entries(all.begin() + static_cast<long>(baseline), all.end());
  struct Expected {
    v1::AuditEntry::Action action;
    std::string target;
    int64_t count;
  };
  const std::vector<Expected> expected = {
      {v1::AuditEntry::TOKEN_CREATED, door.token().name(), 0},
      {v1::AuditEntry::TOKEN_REVOKED, door.token().name(), 0},
      {v1::AuditEntry::REGISTRATIONS_IMPORTED, ended.name(), 2},
      {v1::AuditEntry::SIGNING_KEY_ROTATED, absl::StrCat("signingKeys/", rotated.key_id()), 0},
      {v1::AuditEntry::SIGNING_KEY_REVOKED, absl::StrCat("signingKeys/", rotated.key_id() - 1),
       key_revoked.tickets_reissued()},
      {v1::AuditEntry::PERSONAL_DATA_PURGED, ended.name(), 2},
  };
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(entries[i].DebugString());
    EXPECT_EQ(entries[i].action(), expected[i].action);
    EXPECT_EQ(entries[i].actor(), actor);
    EXPECT_EQ(entries[i].target(), expected[i].target);
    EXPECT_EQ(entries[i].count(), expected[i].count);
    EXPECT_TRUE(entries[i].has_time());
  }
  EXPECT_EQ(key_revoked.tickets_reissued(), 2);
  EXPECT_EQ(entries[0].detail(), absl::StrCat("DOOR for ", ended.name()));

  // The first entry of all: the first ADMIN token, made by the server itself.
  EXPECT_EQ(all[0].action(), v1::AuditEntry::TOKEN_CREATED);
  EXPECT_EQ(all[0].actor(), "");
  EXPECT_EQ(all[0].target(), "tokens/1");

  std::string text;
  for (const v1::AuditEntry& e : all) text += e.DebugString();
  EXPECT_THAT(Found(text, LeakWords()), ::testing::IsEmpty()) << text;
  EXPECT_THAT(text, Not(HasSubstr("laptop")));
  EXPECT_THAT(text, Not(HasSubstr("phone")));
  EXPECT_THAT(text, Not(HasSubstr("@")));
}

TEST(AuditTest, OnlyAnAdminMayReadTheAuditLog) {
  TestServer server;
  const v1::Event event = server.NewEvent("Oakland");
  const std::string organizer = server.NewToken(v1::ROLE_ORGANIZER);
  const std::string door = server.NewToken(v1::ROLE_DOOR, event.name());
  ASSERT_FALSE(::testing::Test::HasFailure());
  v1::ListAuditEntriesResponse resp;
  EXPECT_EQ(server.admin()
                .ListAuditEntries(TestServer::Context("").get(), v1::ListAuditEntriesRequest(),
                                  &resp)
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  for (const std::string& token : {organizer, door}) {
    EXPECT_EQ(server.admin()
                  .ListAuditEntries(TestServer::Context(token).get(),
                                    v1::ListAuditEntriesRequest(), &resp)
                  .error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  v1::ListAuditEntriesRequest bad;
  bad.set_page_token("not a token of this list");
  EXPECT_EQ(
      server.admin().ListAuditEntries(server.AdminContext().get(), bad, &resp).error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace turnout::testing
