// The door, end to end through the real Scan RPC: every ScanResult status of docs/design.md, the
// scan log, idempotent retries, re-entry, annulment, search, walk-ins, exact counts, and 32 doors
// scanning one ticket at the same instant.
#include <chrono>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/barrier.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/store/pg.h"
#include "server/store/search_names.h"
#include "tests/support/test_server.h"

namespace turnout::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;
using ::testing::UnorderedElementsAreArray;

std::string StatusOf(const v1::ScanResult& r) { return v1::ScanResult::Status_Name(r.status()); }

class CheckinTest : public ::testing::Test {
 protected:
  void SetUp() override {
    event_ = server_.NewEvent("Oakland");
    door_ = server_.NewToken(v1::ROLE_DOOR, event_.name());
    ASSERT_FALSE(HasFailure());
  }

  // An entry request at `checkpoint` (empty: the entrance) with a fresh client_scan_id.
  v1::ScanRequest ScanOf(const std::string& code, const std::string& checkpoint = "",
                         v1::ScanDirection direction = v1::SCAN_DIRECTION_ENTRY) {
    v1::ScanRequest req;
    req.set_event(event_.name());
    req.set_checkpoint(checkpoint);
    req.set_code(code);
    req.set_direction(direction);
    req.set_client_scan_id(absl::StrCat("scan-", ++next_scan_));
    req.set_language("en");
    return req;
  }

  v1::ScanResult Scan(const v1::ScanRequest& req, const std::string& token = "") {
    v1::ScanResult result;
    grpc::Status status = server_.checkin().Scan(
        TestServer::Context(token.empty() ? door_ : token).get(), req, &result);
    EXPECT_TRUE(status.ok()) << "Scan: " << status.error_code() << " " << status.error_message();
    return result;
  }

  v1::ScanResult Enter(const std::string& code, const std::string& checkpoint = "") {
    return Scan(ScanOf(code, checkpoint));
  }
  v1::ScanResult Exit(const std::string& code, const std::string& checkpoint = "") {
    return Scan(ScanOf(code, checkpoint, v1::SCAN_DIRECTION_EXIT));
  }

  // The counts of one checkpoint (empty: the entrance).
  v1::CheckpointAttendance CountsAt(const std::string& checkpoint = "") {
    return server_.CountsAt(event_, checkpoint);
  }

  int64_t ScanRows() { return server_.QueryInt("SELECT count(*) FROM scans"); }

  // Sends every request from its own thread, all released at the same instant; request i goes
  // through door i % doors.size(). Each result is paired with its call's status.
  std::vector<std::pair<grpc::Status, v1::ScanResult>> ScanAllAtOnce(
      const std::vector<v1::ScanRequest>& requests, const std::vector<std::string>& doors) {
    const int n = static_cast<int>(requests.size());
    absl::Barrier* start = new absl::Barrier(n);  // the thread Block() elects deletes it
    std::vector<std::pair<grpc::Status, v1::ScanResult>> results(n);
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([&, i] {
        std::unique_ptr<grpc::ClientContext> ctx = TestServer::Context(doors[i % doors.size()]);
        if (start->Block()) delete start;
        results[i].first = server_.checkin().Scan(ctx.get(), requests[i], &results[i].second);
      });
    }
    for (std::thread& t : threads) t.join();
    return results;
  }

  TestServer server_;
  v1::Event event_;
  std::string door_;
  int next_scan_ = 0;
};

TEST_F(CheckinTest, AdmitsThenAnswersAlreadyCheckedInWithTheFirstEntry) {
  const v1::RegisterResponse ana = server_.Register(event_.name(), "Ana Flores");
  // Whole microseconds: what the database keeps.
  const absl::Time first = absl::FromUnixMicros(absl::ToUnixMicros(absl::Now() - absl::Minutes(5)));
  v1::ScanRequest req = ScanOf(ana.ticket().code());
  *req.mutable_scan_time() = ToProtoTime(first);

  const v1::ScanResult admitted = Scan(req);
  EXPECT_EQ(StatusOf(admitted), "ADMITTED");
  EXPECT_EQ(admitted.display_name(), "Ana Flores");
  EXPECT_EQ(admitted.registration(), ana.registration().name());
  EXPECT_THAT(admitted.scan(), HasSubstr(event_.name() + "/scans/"));
  EXPECT_FALSE(admitted.message().empty());
  EXPECT_FALSE(admitted.replayed());

  v1::ScanRequest again = ScanOf(ana.ticket().code());
  again.set_language("es");
  const v1::ScanResult duplicate = Scan(again);
  EXPECT_EQ(StatusOf(duplicate), "ALREADY_CHECKED_IN");
  ASSERT_TRUE(duplicate.has_first_entry_time());
  EXPECT_EQ(FromProtoTime(duplicate.first_entry_time()), first);
  EXPECT_EQ(duplicate.first_entry_checkpoint(), event_.entrance_checkpoint());
  EXPECT_EQ(duplicate.display_name(), "Ana Flores");
  EXPECT_NE(duplicate.scan(), admitted.scan());
  // The message follows the device's language.
  const v1::ScanResult duplicate_en = Enter(ana.ticket().code());
  EXPECT_EQ(StatusOf(duplicate_en), "ALREADY_CHECKED_IN");
  EXPECT_NE(duplicate.message(), duplicate_en.message());

  const v1::CheckpointAttendance counts = CountsAt();
  EXPECT_EQ(counts.registered(), 1);
  EXPECT_EQ(counts.checked_in(), 1);
  EXPECT_EQ(counts.inside(), 1);
}

TEST_F(CheckinTest, AKeyboardWedgeNewlineAroundTheCodeStillAdmits) {
  const v1::RegisterResponse ana = server_.Register(event_.name(), "Ana Flores");
  EXPECT_EQ(StatusOf(Enter(ana.ticket().code() + "\n")), "ADMITTED");
}

TEST_F(CheckinTest, ExitsAreNeverRefusedAndReentryAfterAnExitIsAdmitted) {
  const std::string code = server_.Register(event_.name(), "Ana Flores").ticket().code();
  EXPECT_EQ(StatusOf(Enter(code)), "ADMITTED");
  EXPECT_EQ(StatusOf(Exit(code)), "EXIT_RECORDED");
  EXPECT_EQ(CountsAt().inside(), 0);
  EXPECT_EQ(StatusOf(Exit(code)), "EXIT_RECORDED") << "a duplicate exit is not refused";
  EXPECT_EQ(StatusOf(Enter(code)), "ADMITTED") << "re-entry after an exit";
  EXPECT_EQ(StatusOf(Enter(code)), "ALREADY_CHECKED_IN") << "an entry after an entry";

  const v1::CheckpointAttendance counts = CountsAt();
  EXPECT_EQ(counts.checked_in(), 1) << "one person, however often they came in";
  EXPECT_EQ(counts.inside(), 1);
}

TEST_F(CheckinTest, AnEventCreatedWithoutReentryAdmitsEachTicketOnce) {
  v1::CreateEventRequest create;
  v1::Event& e = *create.mutable_event();
  e.set_title("Los Angeles");
  e.set_time_zone("America/Los_Angeles");
  *e.mutable_start_time() = event_.start_time();
  *e.mutable_end_time() = event_.end_time();
  *e.mutable_doors_open_time() = event_.doors_open_time();
  e.set_state(v1::Event::PUBLISHED);
  e.set_allow_reentry(false);
  v1::Event created;
  ASSERT_TRUE(server_.events().CreateEvent(server_.AdminContext().get(), create, &created).ok());
  EXPECT_FALSE(created.allow_reentry());
  v1::GetEventRequest get;
  get.set_name(created.name());
  v1::Event read;
  ASSERT_TRUE(server_.events().GetEvent(server_.AdminContext().get(), get, &read).ok());
  EXPECT_FALSE(read.allow_reentry()) << "stored as sent";

  event_ = created;
  door_ = server_.NewToken(v1::ROLE_DOOR, event_.name());
  const std::string code = server_.Register(event_.name(), "Ana Flores").ticket().code();
  ASSERT_FALSE(code.empty());
  EXPECT_EQ(StatusOf(Enter(code)), "ADMITTED");
  EXPECT_EQ(StatusOf(Exit(code)), "EXIT_RECORDED");
  EXPECT_EQ(StatusOf(Enter(code)), "ALREADY_CHECKED_IN") << "re-entry is off";
  EXPECT_EQ(CountsAt().inside(), 0);
}

TEST_F(CheckinTest, ASessionCreatedWithoutReentryAdmitsEachTicketOnceToItsRoom) {
  v1::CreateSessionRequest create;
  create.set_parent(event_.name());
  v1::Session& s = *create.mutable_session();
  s.set_title("Plenary");
  s.set_kind(v1::Session::PLENARY);
  *s.mutable_start_time() = ToProtoTime(absl::Now() - absl::Minutes(10));
  *s.mutable_end_time() = ToProtoTime(absl::Now() + absl::Hours(1));
  s.set_allow_reentry(false);
  v1::Session created;
  ASSERT_TRUE(server_.events().CreateSession(server_.AdminContext().get(), create, &created).ok());
  EXPECT_FALSE(created.allow_reentry());
  EXPECT_TRUE(event_.allow_reentry()) << "an event created without the field allows re-entry";

  const std::string code = server_.Register(event_.name(), "Ana Flores").ticket().code();
  ASSERT_FALSE(code.empty());
  EXPECT_EQ(StatusOf(Enter(code, created.checkpoint())), "ADMITTED");
  EXPECT_EQ(StatusOf(Exit(code, created.checkpoint())), "EXIT_RECORDED");
  EXPECT_EQ(StatusOf(Enter(code, created.checkpoint())), "ALREADY_CHECKED_IN");
  EXPECT_EQ(StatusOf(Enter(code)), "ADMITTED");
  EXPECT_EQ(StatusOf(Exit(code)), "EXIT_RECORDED");
  EXPECT_EQ(StatusOf(Enter(code)), "ADMITTED") << "the event's entrance still allows re-entry";
}

TEST_F(CheckinTest, ACanceledEventAdmitsNobodyButStillRecordsExits) {
  const std::string ana = server_.Register(event_.name(), "Ana Flores").ticket().code();
  const std::string bea = server_.Register(event_.name(), "Bea Quintanilla").ticket().code();
  const v1::Session plenary = server_.NewSession(event_.name(), "Plenary", 0, 0, false);
  ASSERT_EQ(StatusOf(Enter(ana)), "ADMITTED");
  v1::UpdateEventRequest cancel;
  cancel.mutable_event()->set_name(event_.name());
  cancel.mutable_event()->set_state(v1::Event::CANCELED);
  cancel.mutable_update_mask()->add_paths("state");
  v1::Event canceled;
  ASSERT_TRUE(server_.events().UpdateEvent(server_.AdminContext().get(), cancel, &canceled).ok());

  EXPECT_EQ(StatusOf(Enter(bea)), "OUTSIDE_CHECKIN_WINDOW");
  EXPECT_EQ(StatusOf(Exit(ana)), "EXIT_RECORDED") << "whoever is inside can still leave";
  EXPECT_EQ(StatusOf(Enter(ana)), "OUTSIDE_CHECKIN_WINDOW");
  EXPECT_EQ(StatusOf(Enter(bea, plenary.checkpoint())), "OUTSIDE_CHECKIN_WINDOW");
  const v1::CheckpointAttendance counts = CountsAt();
  EXPECT_EQ(counts.checked_in(), 1);
  EXPECT_EQ(counts.inside(), 0);
}

TEST_F(CheckinTest, ADraftEventAdmitsNobody) {
  v1::CreateEventRequest create;
  v1::Event& e = *create.mutable_event();
  e.set_title("Los Angeles");
  e.set_time_zone("America/Los_Angeles");
  *e.mutable_start_time() = event_.start_time();
  *e.mutable_end_time() = event_.end_time();
  *e.mutable_doors_open_time() = event_.doors_open_time();
  e.set_state(v1::Event::DRAFT);
  ASSERT_TRUE(server_.events().CreateEvent(server_.AdminContext().get(), create, &event_).ok());
  door_ = server_.NewToken(v1::ROLE_DOOR, event_.name());
  const std::string ana = server_.Register(event_.name(), "Ana Flores").ticket().code();
  ASSERT_FALSE(HasFailure());

  EXPECT_EQ(StatusOf(Enter(ana)), "OUTSIDE_CHECKIN_WINDOW");
  EXPECT_EQ(CountsAt().checked_in(), 0);

  v1::UpdateEventRequest publish;
  publish.mutable_event()->set_name(event_.name());
  publish.mutable_event()->set_state(v1::Event::PUBLISHED);
  publish.mutable_update_mask()->add_paths("state");
  v1::Event published;
  ASSERT_TRUE(server_.events().UpdateEvent(server_.AdminContext().get(), publish, &published).ok());
  EXPECT_EQ(StatusOf(Enter(ana)), "ADMITTED") << "published, the doors are open";
}

TEST_F(CheckinTest, ATicketOfAnotherEventIsWrongEventAndNamesNobody) {
  const v1::Event los_angeles = server_.NewEvent("Los Angeles");
  const v1::RegisterResponse bea =
      server_.Register(los_angeles.name(), "Beatriz Quintanilla", {}, "bea@example.org");
  ASSERT_FALSE(HasFailure());

  const v1::ScanResult result = Enter(bea.ticket().code());
  EXPECT_EQ(StatusOf(result), "WRONG_EVENT");
  EXPECT_EQ(result.display_name(), "");
  EXPECT_EQ(result.registration(), "");
  EXPECT_EQ(result.preferred_language(), "");
  EXPECT_THAT(result.attention_flags(), IsEmpty());
  EXPECT_THAT(result.session_choices(), IsEmpty());
  EXPECT_FALSE(result.has_first_entry_time());
  const std::string wire = result.SerializeAsString();
  for (const char* personal : {"Beatriz", "Quintanilla", "bea@example.org"}) {
    EXPECT_THAT(wire, Not(HasSubstr(personal)));
  }
  EXPECT_EQ(server_.QueryInt(absl::StrCat("SELECT count(*) FROM scans WHERE status = 4 AND "
                                          "code_hash <> '' AND event_id = ",
                                          event_.name().substr(7))),
            1);
}

TEST_F(CheckinTest, ABreakoutAdmitsOnlyThoseWhoChoseItAndAreNotWaitlisted) {
  const v1::Session legislative =
      server_.NewSession(event_.name(), "Legislative advocacy", 1, 0, true);
  const v1::Session workers = server_.NewSession(event_.name(), "Workers' rights", 1, 0, true);
  const v1::Session health =
      server_.NewSession(event_.name(), "Health and public benefits", 2, 1, true);
  const std::string dana = server_.Register(event_.name(), "Dana", {health.name()}).ticket().code();
  const v1::RegisterResponse carlos =
      server_.Register(event_.name(), "Carlos", {workers.name(), health.name()});
  ASSERT_FALSE(HasFailure());
  ASSERT_EQ(carlos.registration().session_choices_size(), 2);
  EXPECT_EQ(carlos.registration().session_choices(1).status(), v1::SessionChoice::WAITLISTED);

  const v1::ScanResult elsewhere = Enter(carlos.ticket().code(), legislative.checkpoint());
  EXPECT_EQ(StatusOf(elsewhere), "NOT_REGISTERED_FOR_SESSION");
  // The volunteer sees where Carlos should go instead.
  ASSERT_GE(elsewhere.session_choices_size(), 1);
  EXPECT_EQ(elsewhere.session_choices(0).session(), workers.name());

  EXPECT_EQ(StatusOf(Enter(carlos.ticket().code(), health.checkpoint())),
            "NOT_REGISTERED_FOR_SESSION")
      << "a waitlisted choice does not admit";
  EXPECT_EQ(StatusOf(Enter(carlos.ticket().code(), workers.checkpoint())), "ADMITTED");
  EXPECT_EQ(StatusOf(Enter(dana, health.checkpoint())), "ADMITTED");
}

TEST_F(CheckinTest, AnOpenSessionAtCapacityIsFullUntilSomeoneLeaves) {
  const v1::Session plenary = server_.NewSession(event_.name(), "Morning plenary", 0, 1, false);
  const std::string first = server_.Register(event_.name(), "First").ticket().code();
  const std::string second = server_.Register(event_.name(), "Second").ticket().code();
  ASSERT_FALSE(HasFailure());

  EXPECT_EQ(StatusOf(Enter(first, plenary.checkpoint())), "ADMITTED");
  EXPECT_EQ(StatusOf(Enter(second, plenary.checkpoint())), "SESSION_FULL");
  EXPECT_EQ(StatusOf(Exit(first, plenary.checkpoint())), "EXIT_RECORDED");
  EXPECT_EQ(StatusOf(Enter(second, plenary.checkpoint())), "ADMITTED");
  EXPECT_EQ(StatusOf(Enter(first, plenary.checkpoint())), "SESSION_FULL");

  const v1::CheckpointAttendance counts = CountsAt(plenary.checkpoint());
  EXPECT_EQ(counts.capacity(), 1);
  EXPECT_EQ(counts.inside(), 1);
  EXPECT_EQ(counts.checked_in(), 2);
}

TEST_F(CheckinTest, ACanceledRegistrationIsRefused) {
  const v1::RegisterResponse ana = server_.Register(event_.name(), "Ana Flores");
  v1::CancelRegistrationRequest cancel;
  cancel.set_name(ana.registration().name());
  v1::Registration canceled;
  ASSERT_TRUE(server_.registrations()
                  .CancelRegistration(server_.AdminContext().get(), cancel, &canceled)
                  .ok());

  EXPECT_EQ(StatusOf(Enter(ana.ticket().code())), "CANCELED");
  EXPECT_EQ(CountsAt().checked_in(), 0);
}

// Defect: exits of canceled registrations were refused, so a canceled attendee stayed "inside"
// for good and kept a full room full.
TEST_F(CheckinTest, SomeoneCanceledWhileInsideCanLeaveAndFreesTheirSeat) {
  const v1::Session plenary = server_.NewSession(event_.name(), "Plenary", 0, 1, false);
  const v1::RegisterResponse ana = server_.Register(event_.name(), "Ana Flores");
  const std::string ben = server_.Register(event_.name(), "Ben").ticket().code();
  ASSERT_FALSE(HasFailure());
  EXPECT_EQ(StatusOf(Enter(ana.ticket().code())), "ADMITTED");
  EXPECT_EQ(StatusOf(Enter(ana.ticket().code(), plenary.checkpoint())), "ADMITTED");
  EXPECT_EQ(StatusOf(Enter(ben)), "ADMITTED");
  EXPECT_EQ(StatusOf(Enter(ben, plenary.checkpoint())), "SESSION_FULL");

  v1::CancelRegistrationRequest cancel;
  cancel.set_name(ana.registration().name());
  v1::Registration canceled;
  ASSERT_TRUE(server_.registrations()
                  .CancelRegistration(server_.AdminContext().get(), cancel, &canceled)
                  .ok());
  EXPECT_EQ(StatusOf(Enter(ana.ticket().code(), plenary.checkpoint())), "CANCELED");

  const v1::ScanResult left_room = Exit(ana.ticket().code(), plenary.checkpoint());
  EXPECT_EQ(StatusOf(left_room), "EXIT_RECORDED");
  EXPECT_EQ(left_room.display_name(), "Ana Flores");
  EXPECT_EQ(CountsAt(plenary.checkpoint()).inside(), 0);
  EXPECT_EQ(StatusOf(Enter(ben, plenary.checkpoint())), "ADMITTED");

  EXPECT_EQ(StatusOf(Exit(ana.ticket().code())), "EXIT_RECORDED");
  const v1::CheckpointAttendance entrance = CountsAt();
  EXPECT_EQ(entrance.inside(), 1) << "only Ben";
  EXPECT_EQ(entrance.checked_in(), 2) << "Ana came, even if she canceled since";
  EXPECT_EQ(entrance.registered(), 1);
  EXPECT_EQ(StatusOf(Enter(ana.ticket().code())), "CANCELED") << "and she cannot come back";
}

// The same for a code replaced by a reissue and a code whose signing key was revoked.
TEST_F(CheckinTest, ExitsOfReissuedCodesAndOfCodesWithARevokedKeyAreRecorded) {
  const v1::RegisterResponse ana = server_.Register(event_.name(), "Ana Flores");
  const v1::RegisterResponse ben = server_.Register(event_.name(), "Ben");
  ASSERT_FALSE(HasFailure());
  EXPECT_EQ(StatusOf(Enter(ana.ticket().code())), "ADMITTED");
  EXPECT_EQ(StatusOf(Enter(ben.ticket().code())), "ADMITTED");

  v1::ReissueTicketRequest reissue;
  reissue.set_name(ana.registration().name());
  v1::Ticket fresh;
  ASSERT_TRUE(
      server_.registrations().ReissueTicket(server_.AdminContext().get(), reissue, &fresh).ok());
  v1::SigningKeyInfo rotated;
  ASSERT_TRUE(
      server_.admin()
          .RotateSigningKey(server_.AdminContext().get(), v1::RotateSigningKeyRequest(), &rotated)
          .ok());
  v1::RevokeSigningKeyRequest revoke;
  revoke.set_key_id(ben.ticket().key_id());
  v1::SigningKeyInfo info;
  ASSERT_TRUE(server_.admin().RevokeSigningKey(server_.AdminContext().get(), revoke, &info).ok());

  EXPECT_EQ(StatusOf(Exit(ana.ticket().code())), "EXIT_RECORDED");
  EXPECT_EQ(StatusOf(Exit(ben.ticket().code())), "EXIT_RECORDED");
  EXPECT_EQ(CountsAt().inside(), 0);
  EXPECT_EQ(StatusOf(Enter(ana.ticket().code())), "REVOKED");
  EXPECT_EQ(StatusOf(Enter(ben.ticket().code())), "REVOKED");
  EXPECT_EQ(StatusOf(Enter(fresh.code())), "REVOKED") << "its key was revoked too";
  v1::GetTicketRequest get;
  get.set_name(ana.registration().name());
  ASSERT_TRUE(server_.registrations().GetTicket(server_.AdminContext().get(), get, &fresh).ok());
  EXPECT_EQ(StatusOf(Enter(fresh.code())), "ADMITTED");
}

TEST_F(CheckinTest, AReissuedTicketRevokesTheOldCodeAndTheNewOneAdmits) {
  const v1::RegisterResponse ana = server_.Register(event_.name(), "Ana Flores");
  v1::ReissueTicketRequest reissue;
  reissue.set_name(ana.registration().name());
  v1::Ticket fresh;
  ASSERT_TRUE(
      server_.registrations().ReissueTicket(server_.AdminContext().get(), reissue, &fresh).ok());
  ASSERT_NE(fresh.code(), ana.ticket().code());

  EXPECT_EQ(StatusOf(Enter(ana.ticket().code())), "REVOKED");
  EXPECT_EQ(StatusOf(Enter(fresh.code())), "ADMITTED");
}

TEST_F(CheckinTest, GarbageAndTamperedCodesAreInvalid) {
  const std::string code = server_.Register(event_.name(), "Ana Flores").ticket().code();
  ASSERT_EQ(code.size(), 140u);
  std::string tampered = code;
  tampered[70] = tampered[70] == 'A' ? 'B' : 'A';  // one character of the signature
  std::string forged_key = code;
  forged_key[3] = forged_key[3] == 'Q' ? 'R' : 'Q';  // the key id / event id bytes

  for (const std::string& bad : {std::string("HELLO WORLD"), std::string("not a ticket \x01"),
                                 tampered, forged_key, std::string(140, 'A')}) {
    SCOPED_TRACE(bad);
    const v1::ScanResult result = Enter(bad);
    EXPECT_EQ(StatusOf(result), "INVALID");
    EXPECT_EQ(result.display_name(), "");
    EXPECT_EQ(result.registration(), "");
  }
  EXPECT_EQ(server_.QueryInt("SELECT count(*) FROM scans WHERE status = 9 AND code_hash <> ''"), 5);
  // Only the two that could be damaged Turnout codes keep their header; the rest keep no text.
  EXPECT_EQ(server_.QueryInt("SELECT count(*) FROM scans WHERE status = 9 AND code_header <> ''"),
            2);
  // The genuine code was never admitted by its altered copies.
  EXPECT_EQ(StatusOf(Enter(code)), "ADMITTED");
}

TEST_F(CheckinTest, ACodeSignedByARevokedKeyIsRevoked) {
  const v1::RegisterResponse before = server_.Register(event_.name(), "Elena");
  v1::SigningKeyInfo rotated;
  ASSERT_TRUE(
      server_.admin()
          .RotateSigningKey(server_.AdminContext().get(), v1::RotateSigningKeyRequest(), &rotated)
          .ok());
  const v1::RegisterResponse after = server_.Register(event_.name(), "Fabio");
  ASSERT_FALSE(HasFailure());
  ASSERT_NE(before.ticket().key_id(), rotated.key_id());
  EXPECT_EQ(after.ticket().key_id(), rotated.key_id());

  // The active key cannot be revoked; the old one can.
  v1::RevokeSigningKeyRequest revoke_active;
  revoke_active.set_key_id(rotated.key_id());
  v1::SigningKeyInfo info;
  EXPECT_EQ(server_.admin()
                .RevokeSigningKey(server_.AdminContext().get(), revoke_active, &info)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  // Until revoked, the old key keeps verifying.
  EXPECT_EQ(StatusOf(Enter(before.ticket().code())), "ADMITTED");
  EXPECT_EQ(StatusOf(Exit(before.ticket().code())), "EXIT_RECORDED");

  v1::RevokeSigningKeyRequest revoke_old;
  revoke_old.set_key_id(before.ticket().key_id());
  ASSERT_TRUE(
      server_.admin().RevokeSigningKey(server_.AdminContext().get(), revoke_old, &info).ok());
  EXPECT_TRUE(info.has_revoke_time());

  EXPECT_EQ(StatusOf(Enter(before.ticket().code())), "REVOKED");
  EXPECT_EQ(StatusOf(Enter(after.ticket().code())), "ADMITTED");
}

// Defect: after a key was revoked, GetTicket and Register replays kept handing out the revoked
// code, so the attendee's only ticket scanned REVOKED.
TEST_F(CheckinTest, RevokingAKeyReissuesTheTicketsItSigned) {
  v1::RegisterRequest register_kim;
  register_kim.set_parent(event_.name());
  register_kim.set_request_id("kim-registers-from-her-phone");
  register_kim.mutable_registration()->set_display_name("Kim");
  v1::RegisterResponse kim;
  ASSERT_TRUE(
      server_.registrations().Register(server_.AdminContext().get(), register_kim, &kim).ok());
  const v1::RegisterResponse lee = server_.Register(event_.name(), "Lee");
  const v1::RegisterResponse elsewhere =
      server_.Register(server_.NewEvent("Los Angeles").name(), "Max");
  v1::SigningKeyInfo rotated;
  ASSERT_TRUE(
      server_.admin()
          .RotateSigningKey(server_.AdminContext().get(), v1::RotateSigningKeyRequest(), &rotated)
          .ok());
  const v1::RegisterResponse newer = server_.Register(event_.name(), "Noor");
  ASSERT_FALSE(HasFailure());
  EXPECT_EQ(StatusOf(Enter(lee.ticket().code())), "ADMITTED");

  v1::RevokeSigningKeyRequest revoke;
  revoke.set_key_id(kim.ticket().key_id());
  v1::SigningKeyInfo info;
  ASSERT_TRUE(server_.admin().RevokeSigningKey(server_.AdminContext().get(), revoke, &info).ok());
  EXPECT_EQ(info.tickets_reissued(), 3) << "Kim, Lee and Max; not Noor";

  v1::GetTicketRequest get;
  get.set_name(kim.registration().name());
  v1::Ticket fresh;
  ASSERT_TRUE(server_.registrations().GetTicket(server_.AdminContext().get(), get, &fresh).ok());
  EXPECT_NE(fresh.code(), kim.ticket().code());
  EXPECT_EQ(fresh.key_id(), rotated.key_id());
  v1::RegisterResponse replay;
  ASSERT_TRUE(
      server_.registrations().Register(server_.AdminContext().get(), register_kim, &replay).ok());
  EXPECT_EQ(replay.ticket().code(), fresh.code());

  EXPECT_EQ(StatusOf(Enter(kim.ticket().code())), "REVOKED");
  EXPECT_EQ(StatusOf(Enter(fresh.code())), "ADMITTED");
  // Lee, inside already, stays inside under the new code: presence belongs to the registration.
  get.set_name(lee.registration().name());
  ASSERT_TRUE(server_.registrations().GetTicket(server_.AdminContext().get(), get, &fresh).ok());
  EXPECT_EQ(StatusOf(Enter(fresh.code())), "ALREADY_CHECKED_IN");
  get.set_name(newer.registration().name());
  ASSERT_TRUE(server_.registrations().GetTicket(server_.AdminContext().get(), get, &fresh).ok());
  EXPECT_EQ(fresh.code(), newer.ticket().code()) << "tickets of the active key are kept";
  EXPECT_NE(elsewhere.ticket().code(), "");
}

// A scan's time orders it among the ticket's other scans, so a door whose clock runs fast is told
// so instead of being believed.
TEST_F(CheckinTest, AScanTimeFarAheadOfTheServersClockIsRefusedAndRecordsNothing) {
  const std::string code = server_.Register(event_.name(), "Ana Flores").ticket().code();
  const std::string before = server_.Fingerprint();
  v1::ScanRequest fast = ScanOf(code);
  *fast.mutable_scan_time() = ToProtoTime(absl::Now() + absl::Minutes(10));
  v1::ScanResult result;
  grpc::Status status = server_.checkin().Scan(TestServer::Context(door_).get(), fast, &result);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("ahead of the server's clock"));
  EXPECT_EQ(server_.Fingerprint(), before);

  v1::ScanRequest slightly = ScanOf(code);
  *slightly.mutable_scan_time() = ToProtoTime(absl::Now() + absl::Minutes(4));
  EXPECT_EQ(StatusOf(Scan(slightly)), "ADMITTED") << "clocks a little apart are fine";
}

TEST_F(CheckinTest, EntriesOutsideTheWindowAreRefusedButExitsAreNot) {
  const std::string code = server_.Register(event_.name(), "Ana Flores").ticket().code();
  const absl::Time doors_open = FromProtoTime(event_.doors_open_time());

  v1::ScanRequest early = ScanOf(code);
  *early.mutable_scan_time() = ToProtoTime(doors_open - absl::Minutes(1));
  EXPECT_EQ(StatusOf(Scan(early)), "OUTSIDE_CHECKIN_WINDOW");
  // After the end: an event that ended yesterday evening, scanned now.
  const v1::Event yesterday = server_.NewEvent("Yesterday", 0, -absl::Hours(24));
  v1::ScanRequest late = ScanOf(server_.Register(yesterday.name(), "Ana Flores").ticket().code());
  late.set_event(yesterday.name());
  EXPECT_EQ(StatusOf(Scan(late, server_.admin_token())), "OUTSIDE_CHECKIN_WINDOW");
  EXPECT_EQ(CountsAt().checked_in(), 0);

  v1::ScanRequest early_exit = ScanOf(code, "", v1::SCAN_DIRECTION_EXIT);
  *early_exit.mutable_scan_time() = ToProtoTime(doors_open - absl::Minutes(1));
  EXPECT_EQ(StatusOf(Scan(early_exit)), "EXIT_RECORDED");

  v1::ScanRequest at_doors_open = ScanOf(code);
  *at_doors_open.mutable_scan_time() = ToProtoTime(doors_open);
  EXPECT_EQ(StatusOf(Scan(at_doors_open)), "ADMITTED");
}

// Defect: codes carried "event end + 24 h" from the day they were issued, so postponing an event
// by a week made every ticket already issued fail at the door.
TEST_F(CheckinTest, PostponingAnEventKeepsItsTicketsAndMovesItsProgram) {
  const absl::Duration week = absl::Hours(24 * 7);
  const v1::Event last_week = server_.NewEvent("Postponed training", 0, -week);
  const v1::Session plenary =
      server_.NewSession(last_week.name(), "Plenary", 0, 0, false, -week);
  const v1::RegisterResponse ana = server_.Register(last_week.name(), "Ana Flores");
  const std::string door = server_.NewToken(v1::ROLE_DOOR, last_week.name());
  ASSERT_FALSE(HasFailure());

  v1::UpdateEventRequest move;
  *move.mutable_event()->mutable_name() = last_week.name();
  *move.mutable_event()->mutable_start_time() =
      ToProtoTime(FromProtoTime(last_week.start_time()) + week);
  *move.mutable_event()->mutable_end_time() =
      ToProtoTime(FromProtoTime(last_week.end_time()) + week);
  move.mutable_update_mask()->add_paths("start_time");
  move.mutable_update_mask()->add_paths("end_time");
  v1::Event moved;
  ASSERT_TRUE(server_.events().UpdateEvent(server_.AdminContext().get(), move, &moved).ok());
  EXPECT_EQ(FromProtoTime(moved.doors_open_time()),
            FromProtoTime(last_week.doors_open_time()) + week)
      << "the doors open as long before the start as they did";

  v1::GetTicketRequest get;
  get.set_name(ana.registration().name());
  v1::Ticket ticket;
  ASSERT_TRUE(server_.registrations().GetTicket(server_.AdminContext().get(), get, &ticket).ok());
  EXPECT_EQ(ticket.code(), ana.ticket().code()) << "nobody needs a new ticket";

  auto scan = [&](const std::string& checkpoint) {
    v1::ScanRequest req = ScanOf(ana.ticket().code(), checkpoint);
    req.set_event(last_week.name());
    return StatusOf(Scan(req, door));
  };
  EXPECT_EQ(scan(""), "ADMITTED");
  EXPECT_EQ(scan(plenary.checkpoint()), "ADMITTED") << "the plenary moved with its event";

  // Past the codes' own outer expiry an event cannot move: that would strand its tickets.
  const std::string before = server_.Fingerprint();
  v1::UpdateEventRequest too_far = move;
  *too_far.mutable_event()->mutable_start_time() =
      ToProtoTime(FromProtoTime(moved.start_time()) + absl::Hours(24 * 400));
  *too_far.mutable_event()->mutable_end_time() =
      ToProtoTime(FromProtoTime(moved.end_time()) + absl::Hours(24 * 400));
  grpc::Status status =
      server_.events().UpdateEvent(server_.AdminContext().get(), too_far, &moved);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("tickets already issued"));
  EXPECT_EQ(server_.Fingerprint(), before);
}

// Every attempt is one row of the scan log with the answer given; refused ones keep the raw code.
TEST_F(CheckinTest, EveryAttemptIsRecordedWithItsAnswer) {
  const v1::Event other = server_.NewEvent("Los Angeles");
  const std::string ana = server_.Register(event_.name(), "Ana").ticket().code();
  const v1::RegisterResponse ben = server_.Register(event_.name(), "Ben");
  const std::string stranger = server_.Register(other.name(), "Stranger").ticket().code();
  const v1::Session breakout = server_.NewSession(event_.name(), "Breakout", 1, 0, true);
  const v1::Session small = server_.NewSession(event_.name(), "Small room", 0, 1, false);
  v1::CancelRegistrationRequest cancel;
  cancel.set_name(ben.registration().name());
  v1::Registration canceled;
  ASSERT_TRUE(server_.registrations()
                  .CancelRegistration(server_.AdminContext().get(), cancel, &canceled)
                  .ok());
  const std::string carla = server_.Register(event_.name(), "Carla").ticket().code();
  v1::ReissueTicketRequest reissue;
  reissue.set_name(server_.Register(event_.name(), "Dario").registration().name());
  v1::Ticket dario;
  ASSERT_TRUE(
      server_.registrations().ReissueTicket(server_.AdminContext().get(), reissue, &dario).ok());
  ASSERT_FALSE(HasFailure());
  v1::ScanRequest early = ScanOf(carla);
  *early.mutable_scan_time() =
      ToProtoTime(FromProtoTime(event_.doors_open_time()) - absl::Hours(1));

  struct Attempt {
    v1::ScanRequest request;
    const char* expected;
  };
  const std::vector<Attempt> attempts = {
      {ScanOf(ana), "ADMITTED"},
      {ScanOf(ana), "ALREADY_CHECKED_IN"},
      {ScanOf(ana, "", v1::SCAN_DIRECTION_EXIT), "EXIT_RECORDED"},
      {ScanOf(stranger), "WRONG_EVENT"},
      {ScanOf(ana, breakout.checkpoint()), "NOT_REGISTERED_FOR_SESSION"},
      {ScanOf(ana, small.checkpoint()), "ADMITTED"},
      {ScanOf(carla, small.checkpoint()), "SESSION_FULL"},
      {ScanOf(ben.ticket().code()), "CANCELED"},
      {ScanOf(dario.code()), "ADMITTED"},
      {ScanOf("JUNK"), "INVALID"},
      {early, "OUTSIDE_CHECKIN_WINDOW"},
  };
  for (size_t i = 0; i < attempts.size(); ++i) {
    SCOPED_TRACE(attempts[i].expected);
    const v1::ScanResult result = Scan(attempts[i].request);
    EXPECT_EQ(StatusOf(result), attempts[i].expected);
    EXPECT_EQ(ScanRows(), static_cast<int64_t>(i + 1));
    const std::string id = attempts[i].request.client_scan_id();
    EXPECT_EQ(server_.QueryInt("SELECT status FROM scans WHERE client_scan_id = '" + id + "'"),
              result.status());
    const bool accepted = result.status() == v1::ScanResult::ADMITTED ||
                          result.status() == v1::ScanResult::EXIT_RECORDED;
    EXPECT_EQ(server_.QueryInt("SELECT count(*) FROM scans WHERE code_hash <> '' AND "
                               "code_length > 0 AND client_scan_id = '" +
                               id + "'"),
              accepted ? 0 : 1)
        << "refused scans keep a hash and the length of the code, accepted ones do not";
  }
  // The superseded code of Dario, too.
  v1::ReissueTicketRequest again = reissue;
  v1::Ticket newer;
  ASSERT_TRUE(
      server_.registrations().ReissueTicket(server_.AdminContext().get(), again, &newer).ok());
  EXPECT_EQ(StatusOf(Enter(dario.code())), "REVOKED");
  EXPECT_EQ(ScanRows(), static_cast<int64_t>(attempts.size() + 1));
  EXPECT_EQ(server_.QueryInt("SELECT count(*) FROM scans WHERE status = 8 AND code_hash <> ''"), 1);
}

TEST_F(CheckinTest, RetriesWithTheSameClientScanIdReplayTheFirstAnswerAndCountNothing) {
  const std::string code = server_.Register(event_.name(), "Ana Flores").ticket().code();
  const v1::ScanRequest entry = ScanOf(code);
  const v1::ScanResult first = Scan(entry);
  ASSERT_EQ(StatusOf(first), "ADMITTED");
  const int64_t rows = ScanRows();

  const v1::ScanResult retry = Scan(entry);
  EXPECT_EQ(StatusOf(retry), "ADMITTED") << "the first answer, not ALREADY_CHECKED_IN";
  EXPECT_TRUE(retry.replayed());
  EXPECT_EQ(retry.scan(), first.scan());
  EXPECT_EQ(retry.display_name(), "Ana Flores");
  EXPECT_EQ(ScanRows(), rows);
  v1::CheckpointAttendance counts = CountsAt();
  EXPECT_EQ(counts.checked_in(), 1);
  EXPECT_EQ(counts.inside(), 1);
  EXPECT_EQ(counts.arrivals_last_minute(), 1);

  const v1::ScanRequest exit = ScanOf(code, "", v1::SCAN_DIRECTION_EXIT);
  EXPECT_EQ(StatusOf(Scan(exit)), "EXIT_RECORDED");
  const v1::ScanResult exit_retry = Scan(exit);
  EXPECT_EQ(StatusOf(exit_retry), "EXIT_RECORDED");
  EXPECT_TRUE(exit_retry.replayed());
  // Replaying the first entry now must not put Ana back inside.
  EXPECT_TRUE(Scan(entry).replayed());
  counts = CountsAt();
  EXPECT_EQ(counts.inside(), 0);
  EXPECT_EQ(counts.checked_in(), 1);

  const v1::ScanRequest junk = ScanOf("JUNK");
  EXPECT_EQ(StatusOf(Scan(junk)), "INVALID");
  const v1::ScanResult junk_retry = Scan(junk);
  EXPECT_EQ(StatusOf(junk_retry), "INVALID");
  EXPECT_TRUE(junk_retry.replayed());
  EXPECT_EQ(ScanRows(), rows + 2);
}

// Defect: a client_scan_id reused for another code answered "ADMITTED, <the first person>" as a
// replay, and the second person was never recorded.
TEST_F(CheckinTest, AClientScanIdReusedForAnotherScanIsRefusedAndChangesNothing) {
  const v1::Session plenary = server_.NewSession(event_.name(), "Plenary", 0, 0, false);
  const std::string ana = server_.Register(event_.name(), "Ana Flores").ticket().code();
  const v1::RegisterResponse ben_registration = server_.Register(event_.name(), "Ben");
  const std::string ben = ben_registration.ticket().code();
  ASSERT_FALSE(HasFailure());
  const v1::ScanRequest first = ScanOf(ana);
  ASSERT_EQ(StatusOf(Scan(first)), "ADMITTED");
  const std::string before = server_.Fingerprint();

  v1::ScanRequest other_code = first;
  other_code.set_code(ben);
  v1::ScanRequest other_direction = first;
  other_direction.set_direction(v1::SCAN_DIRECTION_EXIT);
  v1::ScanRequest other_checkpoint = first;
  other_checkpoint.set_checkpoint(plenary.checkpoint());
  v1::ScanRequest by_name = first;
  by_name.clear_code();
  by_name.set_registration(ben_registration.registration().name());
  for (const v1::ScanRequest& reused : {other_code, other_direction, other_checkpoint, by_name}) {
    SCOPED_TRACE(reused.ShortDebugString());
    v1::ScanResult result;
    const grpc::Status status =
        server_.checkin().Scan(TestServer::Context(door_).get(), reused, &result);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
    EXPECT_THAT(status.error_message(), HasSubstr("client_scan_id"));
    EXPECT_EQ(result.display_name(), "") << "never someone else's name";
    EXPECT_EQ(server_.Fingerprint(), before);
  }

  // The same scan again is a retry, however the entrance is named and with a wedge's newline.
  v1::ScanRequest retry = first;
  retry.set_checkpoint(event_.entrance_checkpoint());
  retry.set_code(ana + "\n");
  const v1::ScanResult replayed = Scan(retry);
  EXPECT_EQ(StatusOf(replayed), "ADMITTED");
  EXPECT_TRUE(replayed.replayed());
  EXPECT_EQ(replayed.display_name(), "Ana Flores");
  EXPECT_EQ(StatusOf(Enter(ben)), "ADMITTED") << "Ben, with an id of his own";
}

// Defect: a walk-in sent with a client_scan_id already used for a scan was registered, and the
// earlier unrelated scan replayed as its result: a registration never admitted.
TEST_F(CheckinTest, AWalkInWithAClientScanIdAlreadyUsedIsRefusedBeforeAnythingIsCreated) {
  const std::string ana = server_.Register(event_.name(), "Ana Flores").ticket().code();
  v1::ScanRequest scan = ScanOf(ana);
  scan.set_client_scan_id("door-7-scan-12");
  ASSERT_EQ(StatusOf(Scan(scan)), "ADMITTED");
  const std::string before = server_.Fingerprint();

  v1::CheckInWalkInRequest walk_in;
  walk_in.set_event(event_.name());
  walk_in.set_client_scan_id("door-7-scan-12");
  walk_in.mutable_registration()->set_display_name("Guadalupe Reyes");
  v1::CheckInWalkInResponse response;
  const grpc::Status status =
      server_.checkin().CheckInWalkIn(TestServer::Context(door_).get(), walk_in, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(status.error_message(), HasSubstr("client_scan_id"));
  EXPECT_EQ(server_.Fingerprint(), before) << "no orphan registration";

  walk_in.set_client_scan_id("door-7-scan-13");
  ASSERT_TRUE(
      server_.checkin().CheckInWalkIn(TestServer::Context(door_).get(), walk_in, &response).ok());
  EXPECT_EQ(StatusOf(response.result()), "ADMITTED");
  EXPECT_EQ(response.result().display_name(), "Guadalupe Reyes");
}

// Defect: annulment re-derived presence in door-clock order while live scans applied in arrival
// order, so annulling a re-entry could put someone who had left back "inside". Now one canonical
// order (scan time, then arrival) settles live scans and annulments alike: two doors whose clocks
// differ, sending the same scans in opposite orders, end with the same answers and counts, and
// annulling a scan leaves what the scans without it would have left.
TEST_F(CheckinTest, ScansSettleInScanTimeOrderWhateverOrderTheyArriveIn) {
  const std::string d2 = server_.NewToken(v1::ROLE_DOOR, event_.name());
  const v1::RegisterResponse forward = server_.Register(event_.name(), "Forward");
  const v1::RegisterResponse backward = server_.Register(event_.name(), "Backward");
  const v1::RegisterResponse without = server_.Register(event_.name(), "Without the re-entry");
  ASSERT_FALSE(HasFailure());
  // Door 1's clock runs 4 minutes ahead: its entry, made first, carries the latest time.
  const absl::Time t0 = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now() - absl::Minutes(30)));
  struct Step {
    const std::string* door;
    v1::ScanDirection direction;
    absl::Duration at;
  };
  const std::vector<Step> steps = {
      {&door_, v1::SCAN_DIRECTION_ENTRY, absl::Minutes(4)},
      {&d2, v1::SCAN_DIRECTION_EXIT, absl::Minutes(1)},
      {&d2, v1::SCAN_DIRECTION_ENTRY, absl::Minutes(2)},  // the re-entry
      {&d2, v1::SCAN_DIRECTION_EXIT, absl::Minutes(3)},
  };
  auto request = [&](const v1::RegisterResponse& who, const Step& step) {
    v1::ScanRequest req = ScanOf(who.ticket().code(), "", step.direction);
    *req.mutable_scan_time() = ToProtoTime(t0 + step.at);
    return req;
  };
  // Final statuses of a registration's scans, in scan-time order.
  auto settled = [&](const v1::RegisterResponse& who) {
    std::string id = who.registration().name().substr(who.registration().name().rfind('/') + 1);
    std::vector<std::string> statuses;
    pqxx::connection conn(server_.database());
    pqxx::work txn(conn);
    for (const auto& row : txn.exec("SELECT status FROM scans WHERE annul_time IS NULL AND "
                                    "registration_id = " + id + " ORDER BY scanned_time")) {
      statuses.push_back(
          v1::ScanResult::Status_Name(static_cast<v1::ScanResult::Status>(row[0].as<int>())));
    }
    return statuses;
  };

  std::vector<std::string> reentry_scans;
  for (const Step& step : steps) {
    const v1::ScanResult r = Scan(request(forward, step), *step.door);
    if (step.at == absl::Minutes(2)) reentry_scans.push_back(r.scan());
  }
  for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
    const v1::ScanResult r = Scan(request(backward, *it), *it->door);
    if (it->at == absl::Minutes(2)) reentry_scans.push_back(r.scan());
  }
  for (const Step& step : steps) {
    if (step.at != absl::Minutes(2)) Scan(request(without, step), *step.door);
  }
  const std::vector<std::string> canonical = {"EXIT_RECORDED", "ADMITTED", "EXIT_RECORDED",
                                              "ADMITTED"};
  EXPECT_EQ(settled(forward), canonical);
  EXPECT_EQ(settled(backward), canonical);
  EXPECT_EQ(CountsAt().inside(), 3) << "each last scanned in, by door 1's clock";

  for (const std::string& scan : reentry_scans) {
    v1::AnnulScanRequest annul;
    annul.set_scan(scan);
    v1::AnnulScanResponse annulled;
    ASSERT_TRUE(
        server_.checkin().AnnulScan(TestServer::Context(d2).get(), annul, &annulled).ok());
  }
  EXPECT_EQ(settled(forward), settled(without));
  EXPECT_EQ(settled(backward), settled(without));
  EXPECT_THAT(settled(without), ElementsAre("EXIT_RECORDED", "EXIT_RECORDED", "ADMITTED"));
  const v1::CheckpointAttendance counts = CountsAt();
  EXPECT_EQ(counts.inside(), 3);
  EXPECT_EQ(counts.checked_in(), 3);
}

TEST_F(CheckinTest, OnlyTheScanningDeviceCanAnnulAndAnnullingRestoresTheCounts) {
  const std::string code = server_.Register(event_.name(), "Ana Flores").ticket().code();
  const std::string other_door = server_.NewToken(v1::ROLE_DOOR, event_.name());
  const v1::ScanResult admitted = Enter(code);
  ASSERT_EQ(StatusOf(admitted), "ADMITTED");

  v1::AnnulScanRequest annul;
  annul.set_scan(admitted.scan());
  v1::AnnulScanResponse resp;
  for (const std::string& token : {other_door, server_.admin_token()}) {
    const grpc::Status denied =
        server_.checkin().AnnulScan(TestServer::Context(token).get(), annul, &resp);
    EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED) << denied.error_message();
  }
  EXPECT_EQ(CountsAt().checked_in(), 1);

  const grpc::Status ok =
      server_.checkin().AnnulScan(TestServer::Context(door_).get(), annul, &resp);
  ASSERT_TRUE(ok.ok()) << ok.error_message();
  EXPECT_EQ(resp.scan(), admitted.scan());
  v1::CheckpointAttendance counts = CountsAt();
  EXPECT_EQ(counts.checked_in(), 0);
  EXPECT_EQ(counts.inside(), 0);
  EXPECT_EQ(counts.arrivals_last_minute(), 0);
  EXPECT_EQ(ScanRows(), 1) << "annulment marks the scan; the log keeps it";

  // Annulled, the ticket is admitted again rather than a duplicate.
  EXPECT_EQ(StatusOf(Enter(code)), "ADMITTED");
  // Annulling a mistaken exit puts the person back inside.
  const v1::ScanResult exit = Exit(code);
  ASSERT_EQ(StatusOf(exit), "EXIT_RECORDED");
  EXPECT_EQ(CountsAt().inside(), 0);
  annul.set_scan(exit.scan());
  ASSERT_TRUE(server_.checkin().AnnulScan(TestServer::Context(door_).get(), annul, &resp).ok());
  counts = CountsAt();
  EXPECT_EQ(counts.inside(), 1);
  EXPECT_EQ(counts.checked_in(), 1);
}

TEST_F(CheckinTest, SearchFindsAccentedNamesAndShowsNoContactFields) {
  v1::RegisterRequest jose;
  jose.set_parent(event_.name());
  jose.set_request_id("jose");
  jose.mutable_registration()->set_display_name("José Martínez");
  jose.mutable_registration()->set_email("jose.martinez@example.org");
  jose.mutable_registration()->set_phone("+1 510 555 0199");
  jose.mutable_registration()->add_attention_flags(v1::ATTENTION_FLAG_SPANISH_INTERPRETATION);
  v1::RegisterResponse jose_resp;
  ASSERT_TRUE(
      server_.registrations().Register(server_.AdminContext().get(), jose, &jose_resp).ok());
  server_.Register(event_.name(), "Josefina Ortiz", {}, "josefina@example.org");
  server_.Register(event_.name(), "Mark Jones");
  ASSERT_FALSE(HasFailure());
  ASSERT_EQ(StatusOf(Enter(jose_resp.ticket().code())), "ADMITTED");

  auto search = [&](const std::string& query, v1::SearchAttendeesResponse* resp) {
    v1::SearchAttendeesRequest req;
    req.set_event(event_.name());
    req.set_query(query);
    return server_.checkin().SearchAttendees(TestServer::Context(door_).get(), req, resp);
  };
  v1::SearchAttendeesResponse resp;
  const grpc::Status too_short = search("jo", &resp);
  EXPECT_EQ(too_short.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(too_short.error_message(), HasSubstr("3"));

  for (const char* query : {"jose", "JOSÉ", "José"}) {
    SCOPED_TRACE(query);
    resp.Clear();
    ASSERT_TRUE(search(query, &resp).ok());
    std::map<std::string, bool> found;
    for (const v1::AttendeeMatch& m : resp.attendees()) found[m.display_name()] = m.checked_in();
    EXPECT_THAT(found,
                UnorderedElementsAre(Pair("José Martínez", true), Pair("Josefina Ortiz", false)));
  }
  resp.Clear();
  ASSERT_TRUE(search("martinez", &resp).ok());
  ASSERT_EQ(resp.attendees_size(), 1);
  const v1::AttendeeMatch& match = resp.attendees(0);
  EXPECT_EQ(match.registration(), jose_resp.registration().name());
  EXPECT_THAT(match.attention_flags(), ElementsAre(v1::ATTENTION_FLAG_SPANISH_INTERPRETATION));
  EXPECT_EQ(match.status(), v1::Registration::CONFIRMED);

  // A match carries no contact field at all, and none leaks into the answer.
  const google::protobuf::Descriptor* d = v1::AttendeeMatch::descriptor();
  EXPECT_EQ(d->FindFieldByName("email"), nullptr);
  EXPECT_EQ(d->FindFieldByName("phone"), nullptr);
  const std::string wire = resp.SerializeAsString();
  EXPECT_THAT(wire, Not(HasSubstr("jose.martinez@example.org")));
  EXPECT_THAT(wire, Not(HasSubstr("555 0199")));

  // Few results: at most 10 however many match.
  for (int i = 0; i < 12; ++i) server_.Register(event_.name(), absl::StrCat("Josué ", i));
  resp.Clear();
  ASSERT_TRUE(search("jos", &resp).ok());
  EXPECT_EQ(resp.attendees_size(), 10);
}

// The outside client's report: searches fold case and accents in every script, not only in
// Latin-1, and find a name after a hyphen as after a space.
TEST_F(CheckinTest, SearchFoldsCaseAndAccentsInEveryScriptAndMatchesAfterHyphens) {
  for (const char* name :
       {"Nguyễn Văn An", "Lǐ Huá", "Анна Петрова", "Nguyen-An Tran", "Mark Jones"}) {
    server_.Register(event_.name(), name);
  }
  ASSERT_FALSE(HasFailure());

  const std::pair<std::string, std::vector<std::string>> kSearches[] = {
      {"nguyen", {"Nguyễn Văn An", "Nguyen-An Tran"}},
      {"NGUYỄN", {"Nguyễn Văn An", "Nguyen-An Tran"}},
      {"nguyễn văn", {"Nguyễn Văn An"}},
      {"van an", {"Nguyễn Văn An"}},
      {"li hua", {"Lǐ Huá"}},
      {"LǏ HUÁ", {"Lǐ Huá"}},
      {"hua", {"Lǐ Huá"}},
      {"анна", {"Анна Петрова"}},
      {"АННА", {"Анна Петрова"}},
      {"петрова", {"Анна Петрова"}},
      {"an tran", {"Nguyen-An Tran"}},
      {"nguyen-an", {"Nguyen-An Tran"}},
      {"tran", {"Nguyen-An Tran"}},
  };
  for (const auto& [query, names] : kSearches) {
    SCOPED_TRACE(query);
    v1::SearchAttendeesRequest req;
    req.set_event(event_.name());
    req.set_query(query);
    v1::SearchAttendeesResponse resp;
    const grpc::Status status =
        server_.checkin().SearchAttendees(TestServer::Context(door_).get(), req, &resp);
    ASSERT_TRUE(status.ok()) << status.error_message();
    std::vector<std::string> found;
    for (const v1::AttendeeMatch& m : resp.attendees()) found.push_back(m.display_name());
    EXPECT_THAT(found, UnorderedElementsAreArray(names));
  }
}

// Search forms are computed when a registration is stored; after an upgrade that changes how they
// are computed, the server recomputes the stored ones when it starts (README: Configuration).
TEST_F(CheckinTest, NamesStoredByOlderSearchRulesAreRecomputedAtStartUp) {
  const v1::RegisterResponse nguyen = server_.Register(event_.name(), "Nguyễn Văn An");
  const v1::RegisterResponse anna = server_.Register(event_.name(), "Анна Петрова");
  ASSERT_FALSE(HasFailure());
  // What the first release stored: Latin-1 and Latin Extended-A folded, other letters as typed.
  server_.Execute(R"(
      UPDATE registrations SET search_version = 1,
        search_name = CASE display_name WHEN 'Nguyễn Văn An' THEN 'nguyễn van an'
                                        ELSE display_name END)");
  auto search = [&](const std::string& query) {
    v1::SearchAttendeesRequest req;
    req.set_event(event_.name());
    req.set_query(query);
    v1::SearchAttendeesResponse resp;
    const grpc::Status status =
        server_.checkin().SearchAttendees(TestServer::Context(door_).get(), req, &resp);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<std::string> found;
    for (const v1::AttendeeMatch& m : resp.attendees()) found.push_back(m.registration());
    return found;
  };
  ASSERT_THAT(search("nguyen"), IsEmpty()) << "the stale forms do not match";

  server_.Restart();
  EXPECT_THAT(search("nguyen"), ElementsAre(nguyen.registration().name()));
  EXPECT_THAT(search("анна"), ElementsAre(anna.registration().name()));
  EXPECT_EQ(server_.QueryInt("SELECT count(*) FROM registrations WHERE search_version = 1"), 0);
}

// The start-up pass goes through the table in batches; rows of every event, on either side of a
// batch boundary, are recomputed once, and current rows are left alone.
TEST_F(CheckinTest, RecomputingSearchFormsInBatchesReachesEveryStaleRowOnce) {
  const v1::Event other = server_.NewEvent("Los Angeles");
  for (const v1::Event& e : {event_, other}) {
    for (const char* name : {"Ана Ивановна", "Zoë Ngô", "Ōta Jirō"})
      server_.Register(e.name(), name);
  }
  ASSERT_FALSE(HasFailure());
  server_.Execute(R"(
      UPDATE registrations SET search_version = 1, search_name = display_name
      WHERE display_name <> 'Zoë Ngô')");

  absl::StatusOr<std::unique_ptr<pqxx::connection>> conn = store::Connect(server_.database());
  ASSERT_TRUE(conn.ok()) << conn.status();
  absl::StatusOr<int64_t> updated = store::PgSearchNames::RenormalizeAll(**conn, /*batch=*/3);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(*updated, 4);
  EXPECT_EQ(server_.QueryInt("SELECT count(*) FROM registrations WHERE search_version = 1"), 0);
  EXPECT_EQ(server_.QueryInt(R"(SELECT count(*) FROM registrations
                                WHERE search_name IN ('ана ивановна', 'zoe ngo', 'ota jiro'))"),
            6);
  updated = store::PgSearchNames::RenormalizeAll(**conn, /*batch=*/3);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(*updated, 0) << "a second pass finds nothing to do";
}

TEST_F(CheckinTest, AWalkInIsRegisteredAndAdmittedOnceWhateverTheRetries) {
  v1::CheckInWalkInRequest req;
  req.set_event(event_.name());
  req.set_client_scan_id("walk-in-1");
  req.set_language("es");
  req.mutable_registration()->set_display_name("Guadalupe Reyes");
  req.mutable_registration()->set_email("lupe@example.org");
  req.mutable_registration()->add_attention_flags(v1::ATTENTION_FLAG_SPANISH_INTERPRETATION);

  v1::CheckInWalkInResponse first;
  const grpc::Status status =
      server_.checkin().CheckInWalkIn(TestServer::Context(door_).get(), req, &first);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(StatusOf(first.result()), "ADMITTED");
  EXPECT_FALSE(first.result().replayed());
  EXPECT_EQ(first.result().display_name(), "Guadalupe Reyes");
  EXPECT_EQ(first.registration().source(), v1::Registration::WALK_IN);
  EXPECT_EQ(first.registration().status(), v1::Registration::CONFIRMED);
  EXPECT_EQ(first.registration().email(), "") << "a DOOR token sees no contact fields";
  EXPECT_FALSE(first.ticket().code().empty());

  v1::CheckInWalkInResponse retry;
  ASSERT_TRUE(server_.checkin().CheckInWalkIn(TestServer::Context(door_).get(), req, &retry).ok());
  EXPECT_EQ(retry.registration().name(), first.registration().name());
  EXPECT_EQ(retry.ticket().code(), first.ticket().code());
  EXPECT_EQ(StatusOf(retry.result()), "ADMITTED");
  EXPECT_TRUE(retry.result().replayed());
  EXPECT_EQ(retry.result().scan(), first.result().scan());

  EXPECT_EQ(server_.QueryInt("SELECT count(*) FROM registrations"), 1);
  EXPECT_EQ(ScanRows(), 1);
  const v1::CheckpointAttendance counts = CountsAt();
  EXPECT_EQ(counts.registered(), 1);
  EXPECT_EQ(counts.checked_in(), 1);
  EXPECT_EQ(counts.inside(), 1);
  EXPECT_EQ(StatusOf(Enter(first.ticket().code())), "ALREADY_CHECKED_IN");
}

TEST_F(CheckinTest, AttendanceCountsAreExactPerCheckpoint) {
  const v1::Session breakout =
      server_.NewSession(event_.name(), "Legislative advocacy", 1, 10, true);
  const v1::Session plenary = server_.NewSession(event_.name(), "Morning plenary", 0, 0, false);
  const std::string ana = server_.Register(event_.name(), "Ana", {breakout.name()}).ticket().code();
  const std::string ben = server_.Register(event_.name(), "Ben", {breakout.name()}).ticket().code();
  const std::string cruz = server_.Register(event_.name(), "Cruz").ticket().code();
  const v1::RegisterResponse dee = server_.Register(event_.name(), "Dee", {breakout.name()});
  v1::CancelRegistrationRequest cancel;
  cancel.set_name(dee.registration().name());
  v1::Registration canceled;
  ASSERT_TRUE(server_.registrations()
                  .CancelRegistration(server_.AdminContext().get(), cancel, &canceled)
                  .ok());
  ASSERT_FALSE(HasFailure());

  EXPECT_EQ(StatusOf(Enter(ana)), "ADMITTED");
  EXPECT_EQ(StatusOf(Enter(ben)), "ADMITTED");
  EXPECT_EQ(StatusOf(Enter(cruz)), "ADMITTED");
  EXPECT_EQ(StatusOf(Exit(cruz)), "EXIT_RECORDED");
  EXPECT_EQ(StatusOf(Enter(ana, breakout.checkpoint())), "ADMITTED");
  EXPECT_EQ(StatusOf(Enter(ben, plenary.checkpoint())), "ADMITTED");
  EXPECT_EQ(StatusOf(Enter(dee.ticket().code())), "CANCELED");
  EXPECT_EQ(StatusOf(Enter(ben)), "ALREADY_CHECKED_IN");

  v1::GetAttendanceRequest req;
  req.set_event(event_.name());
  v1::Attendance attendance;
  ASSERT_TRUE(
      server_.attendance().GetAttendance(server_.AdminContext().get(), req, &attendance).ok());
  EXPECT_EQ(attendance.event(), event_.name());
  ASSERT_EQ(attendance.checkpoints_size(), 3);
  std::map<std::string, v1::CheckpointAttendance> by_name;
  for (const v1::CheckpointAttendance& c : attendance.checkpoints()) by_name[c.checkpoint()] = c;

  const v1::CheckpointAttendance& entrance = by_name[event_.entrance_checkpoint()];
  EXPECT_EQ(entrance.session(), "");
  EXPECT_EQ(entrance.registered(), 3) << "confirmed, not canceled";
  EXPECT_EQ(entrance.checked_in(), 3);
  EXPECT_EQ(entrance.inside(), 2);
  EXPECT_EQ(entrance.arrivals_last_minute(), 3);

  const v1::CheckpointAttendance& room = by_name[breakout.checkpoint()];
  EXPECT_EQ(room.session(), breakout.name());
  EXPECT_EQ(room.registered(), 2) << "those who chose it";
  EXPECT_EQ(room.checked_in(), 1);
  EXPECT_EQ(room.inside(), 1);
  EXPECT_EQ(room.capacity(), 10);

  const v1::CheckpointAttendance& hall = by_name[plenary.checkpoint()];
  EXPECT_EQ(hall.registered(), 3) << "an open session: everyone confirmed";
  EXPECT_EQ(hall.checked_in(), 1);
  EXPECT_EQ(hall.inside(), 1);
  EXPECT_EQ(hall.capacity(), 0);
}

// 32 doors scan the same ticket at the same instant: exactly one admits it. Three tickets: a fresh
// one, one coming back after an exit (re-entry), and one whose earlier scan was refused, so the
// race is run both with and without the ticket's presence row already in the database.
TEST_F(CheckinTest, ConcurrentScansOfOneTicketAdmitExactlyOnce) {
  constexpr int kThreads = 32;
  std::vector<std::string> doors;
  for (int i = 0; i < 4; ++i) doors.push_back(server_.NewToken(v1::ROLE_DOOR, event_.name()));
  const std::string fresh = server_.Register(event_.name(), "Fresh").ticket().code();
  const std::string returning = server_.Register(event_.name(), "Returning").ticket().code();
  const std::string early = server_.Register(event_.name(), "Early").ticket().code();
  ASSERT_EQ(StatusOf(Enter(returning)), "ADMITTED");
  ASSERT_EQ(StatusOf(Exit(returning)), "EXIT_RECORDED");
  v1::ScanRequest too_early = ScanOf(early);
  *too_early.mutable_scan_time() =
      ToProtoTime(FromProtoTime(event_.doors_open_time()) - absl::Minutes(5));
  ASSERT_EQ(StatusOf(Scan(too_early)), "OUTSIDE_CHECKIN_WINDOW");
  ASSERT_FALSE(HasFailure());

  int64_t rows = ScanRows();
  // After each race: people ever admitted ("returning" was, before), and people inside.
  const int expected_checked_in[] = {2, 2, 3};
  const int expected_inside[] = {1, 2, 3};
  int round = 0;
  for (const std::string& code : {fresh, returning, early}) {
    SCOPED_TRACE(absl::StrCat("ticket ", round));
    std::vector<v1::ScanRequest> requests;
    for (int i = 0; i < kThreads; ++i) requests.push_back(ScanOf(code));

    std::map<std::string, int> by_status;
    for (const auto& [status, result] : ScanAllAtOnce(requests, doors)) {
      EXPECT_TRUE(status.ok()) << status.error_message();
      by_status[StatusOf(result)]++;
      EXPECT_FALSE(result.replayed());
    }
    EXPECT_EQ(by_status["ADMITTED"], 1);
    EXPECT_EQ(by_status["ALREADY_CHECKED_IN"], kThreads - 1);
    const v1::CheckpointAttendance counts = CountsAt();
    EXPECT_EQ(counts.checked_in(), expected_checked_in[round]);
    EXPECT_EQ(counts.inside(), expected_inside[round]);
    rows += kThreads;
    EXPECT_EQ(ScanRows(), rows) << "every attempt recorded";
    ++round;
  }
}

// Many doors scanning many tickets at once: the server commits concurrent scans together, and
// every one must still be decided, answered and counted exactly once. Then every door retries
// its scan at once: all replayed, nothing counted twice.
TEST_F(CheckinTest, ConcurrentScansOfManyTicketsAreEachAdmittedAndCountedOnce) {
  constexpr int kTickets = 48;
  std::vector<std::string> doors;
  for (int i = 0; i < 4; ++i) doors.push_back(server_.NewToken(v1::ROLE_DOOR, event_.name()));
  std::vector<v1::ScanRequest> requests;
  for (int i = 0; i < kTickets; ++i) {
    requests.push_back(
        ScanOf(server_.Register(event_.name(), absl::StrCat("Person ", i)).ticket().code()));
  }
  ASSERT_FALSE(HasFailure());
  const int64_t rows = ScanRows();

  for (bool retry : {false, true}) {
    SCOPED_TRACE(retry ? "retries" : "first scans");
    const auto results = ScanAllAtOnce(requests, doors);
    for (int i = 0; i < kTickets; ++i) {
      const auto& [status, result] = results[i];
      EXPECT_TRUE(status.ok()) << status.error_message();
      EXPECT_EQ(StatusOf(result), "ADMITTED");
      EXPECT_EQ(result.display_name(), absl::StrCat("Person ", i)) << "answers not mixed up";
      EXPECT_EQ(result.replayed(), retry);
    }
    const v1::CheckpointAttendance counts = CountsAt();
    EXPECT_EQ(counts.checked_in(), kTickets);
    EXPECT_EQ(counts.inside(), kTickets);
    EXPECT_EQ(ScanRows(), rows + kTickets);
  }
}

// One scan whose SQL fails must not take the scans committed with it down. The database refuses
// one scan's row (a trigger, standing in for any constraint or data error); a session-level
// advisory lock that every scan's insert waits on holds the first batch until the others have
// queued behind it, so the failing scan shares a transaction with the rest (one scan runner).
TEST(CheckinBatchTest, OneFailingScanFailsAloneAndTheRestOfItsBatchIsAdmittedAndStored) {
  constexpr int kScans = 24;
  TestServer server([](api::ServerOptions& o) { o.db_workers = 3; });  // one scan runner
  const v1::Event event = server.NewEvent("Oakland");
  const std::string door = server.NewToken(v1::ROLE_DOOR, event.name());
  std::vector<v1::ScanRequest> requests;
  for (int i = 0; i < kScans; ++i) {
    v1::ScanRequest req;
    req.set_event(event.name());
    req.set_code(server.Register(event.name(), absl::StrCat("Person ", i)).ticket().code());
    req.set_direction(v1::SCAN_DIRECTION_ENTRY);
    req.set_client_scan_id(i == kScans / 2 ? "poisoned" : absl::StrCat("scan-", i));
    requests.push_back(req);
  }
  ASSERT_FALSE(HasFailure());
  server.Execute(R"(
      CREATE FUNCTION refuse_poisoned_scan() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_advisory_xact_lock_shared(4242);
        IF NEW.client_scan_id = 'poisoned' THEN
          RAISE EXCEPTION 'this scan cannot be stored';
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER refuse_poisoned_scan BEFORE INSERT ON scans
        FOR EACH ROW EXECUTE FUNCTION refuse_poisoned_scan();)");
  pqxx::connection gate(server.database());
  pqxx::nontransaction(gate).exec("SELECT pg_advisory_lock(4242)");

  std::vector<std::pair<grpc::Status, v1::ScanResult>> results(kScans);
  std::vector<std::thread> threads;
  for (int i = 0; i < kScans; ++i) {
    threads.emplace_back([&, i] {
      results[i].first =
          server.checkin().Scan(TestServer::Context(door).get(), requests[i], &results[i].second);
    });
  }
  // The first batch waits on the gate; give the others time to queue behind it.
  while (server.QueryInt("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'advisory'") ==
         0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  pqxx::nontransaction(gate).exec("SELECT pg_advisory_unlock(4242)");
  for (std::thread& t : threads) t.join();

  for (int i = 0; i < kScans; ++i) {
    const auto& [status, result] = results[i];
    if (i == kScans / 2) {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL) << status.error_message();
      continue;
    }
    EXPECT_TRUE(status.ok()) << i << ": " << status.error_code() << " " << status.error_message();
    EXPECT_EQ(StatusOf(result), "ADMITTED") << i;
    EXPECT_EQ(result.display_name(), absl::StrCat("Person ", i)) << "answers not mixed up";
  }
  EXPECT_EQ(server.QueryInt("SELECT count(*) FROM scans WHERE status = 1"), kScans - 1);
  EXPECT_EQ(server.QueryInt("SELECT count(*) FROM scans WHERE client_scan_id = 'poisoned'"), 0);
  EXPECT_EQ(server.CountsAt(event).checked_in(), kScans - 1);
}

}  // namespace
}  // namespace turnout::testing
