// Registration through the real RegistrationService: idempotent Register, waitlists and their
// promotion, breakout choices, the roster list, imports that are all-or-nothing, tickets read back
// from their QR code by an independent decoder, and the attendee's own access: the ticket code
// shows what the door shows, the manage secret opens the rest (docs/design.md, "Self-service").
#include <atomic>
#include <cctype>
#include <functional>
#include <pqxx/pqxx>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client-lib/qr_image.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/domain/base32.h"
#include "server/store/data_key.h"
#include "server/store/pg.h"
#include "server/store/registration_store.h"
#include "tests/support/test_server.h"

namespace turnout::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

class RegistrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    event_ = server_.NewEvent("Oakland");
    ASSERT_FALSE(HasFailure());
  }

  v1::Registration Get(const std::string& name) {
    v1::GetRegistrationRequest req;
    req.set_name(name);
    v1::Registration reg;
    const grpc::Status status =
        server_.registrations().GetRegistration(server_.AdminContext().get(), req, &reg);
    EXPECT_TRUE(status.ok()) << "GetRegistration: " << status.error_message();
    return reg;
  }

  void Cancel(const std::string& name) {
    v1::CancelRegistrationRequest req;
    req.set_name(name);
    v1::Registration reg;
    const grpc::Status status =
        server_.registrations().CancelRegistration(server_.AdminContext().get(), req, &reg);
    EXPECT_TRUE(status.ok()) << "CancelRegistration: " << status.error_message();
    EXPECT_EQ(reg.status(), v1::Registration::CANCELED);
  }

  grpc::Status List(const v1::ListRegistrationsRequest& req, v1::ListRegistrationsResponse* resp) {
    return server_.registrations().ListRegistrations(server_.AdminContext().get(), req, resp);
  }

  TestServer server_;
  v1::Event event_;
};

TEST_F(RegistrationTest, RegisterIsIdempotentByRequestId) {
  v1::RegisterRequest req;
  req.set_parent(event_.name());
  req.set_request_id("form-7f3a9c2e4b1d4e6f");
  req.mutable_registration()->set_display_name("María López");
  req.mutable_registration()->set_email("maria@example.org");
  req.mutable_registration()->set_preferred_language("es");

  v1::RegisterResponse first;
  ASSERT_TRUE(server_.registrations().Register(server_.AdminContext().get(), req, &first).ok());
  EXPECT_EQ(first.registration().status(), v1::Registration::CONFIRMED);
  EXPECT_EQ(first.registration().source(), v1::Registration::ONLINE);
  EXPECT_EQ(first.ticket().registration(), first.registration().name());

  v1::RegisterResponse retry;
  ASSERT_TRUE(server_.registrations().Register(server_.AdminContext().get(), req, &retry).ok());
  EXPECT_EQ(retry.registration().name(), first.registration().name());
  EXPECT_EQ(retry.registration().display_name(), "María López");
  EXPECT_EQ(retry.ticket().code(), first.ticket().code());
  EXPECT_EQ(server_.QueryInt("SELECT count(*) FROM registrations"), 1);
  // Only a hash of the first answer's secret is kept: the retry carries a new one, which is the
  // one that works from now on.
  EXPECT_NE(retry.manage_secret(), first.manage_secret());
  v1::GetRegistrationRequest own;
  own.set_name(first.registration().name());
  own.set_manage_secret(first.manage_secret());
  v1::Registration seen;
  EXPECT_EQ(server_.registrations()
                .GetRegistration(TestServer::Context("").get(), own, &seen)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  own.set_manage_secret(retry.manage_secret());
  EXPECT_TRUE(server_.registrations().GetRegistration(TestServer::Context("").get(), own, &seen).ok());
  EXPECT_EQ(server_.QueryInt("SELECT count(*) FROM tickets"), 1);

  // A public retry (no token) is the same registration too.
  v1::RegisterResponse anonymous;
  ASSERT_TRUE(
      server_.registrations().Register(TestServer::Context("").get(), req, &anonymous).ok());
  EXPECT_EQ(anonymous.registration().name(), first.registration().name());

  req.set_request_id("form-8b21d0c94e7a4f13");
  v1::RegisterResponse other;
  ASSERT_TRUE(server_.registrations().Register(server_.AdminContext().get(), req, &other).ok());
  EXPECT_NE(other.registration().name(), first.registration().name());
  EXPECT_EQ(server_.QueryInt("SELECT count(*) FROM registrations"), 2);

  // A request_id is no key to someone else's registration: another person gets ALREADY_EXISTS,
  // and the first person's contact fields and ticket are not sent.
  v1::RegisterRequest stranger = req;
  stranger.mutable_registration()->set_display_name("Somebody Else");
  stranger.mutable_registration()->clear_email();
  v1::RegisterResponse nothing;
  const grpc::Status refused =
      server_.registrations().Register(TestServer::Context("").get(), stranger, &nothing);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::ALREADY_EXISTS) << refused.error_message();
  EXPECT_EQ(nothing.ticket().code(), "");
  EXPECT_EQ(nothing.manage_secret(), "");

  // The public must use unguessable request ids.
  req.set_request_id("form-1");
  const grpc::Status short_id =
      server_.registrations().Register(TestServer::Context("").get(), req, &nothing);
  EXPECT_EQ(short_id.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(server_.QueryInt("SELECT count(*) FROM registrations"), 2);
}

TEST_F(RegistrationTest, AFullBreakoutWaitlistsAndPromotesWhenASeatFrees) {
  const v1::Session room = server_.NewSession(event_.name(), "Workers' rights", 1, 1, true);
  const v1::RegisterResponse ana = server_.Register(event_.name(), "Ana", {room.name()});
  const v1::RegisterResponse ben = server_.Register(event_.name(), "Ben", {room.name()});
  ASSERT_FALSE(HasFailure());
  ASSERT_EQ(ana.registration().session_choices_size(), 1);
  ASSERT_EQ(ben.registration().session_choices_size(), 1);
  EXPECT_EQ(ana.registration().session_choices(0).status(), v1::SessionChoice::CONFIRMED);
  EXPECT_EQ(ben.registration().session_choices(0).status(), v1::SessionChoice::WAITLISTED);
  EXPECT_EQ(ben.registration().session_choices(0).round(), 1);
  EXPECT_EQ(ben.registration().session_choices(0).title(), "Workers' rights");
  EXPECT_EQ(ben.registration().status(), v1::Registration::CONFIRMED)
      << "a full room waitlists the choice, not the person";

  Cancel(ana.registration().name());

  const v1::Registration promoted = Get(ben.registration().name());
  ASSERT_EQ(promoted.session_choices_size(), 1);
  EXPECT_EQ(promoted.session_choices(0).status(), v1::SessionChoice::CONFIRMED);
  EXPECT_EQ(promoted.session_choices(0).session(), room.name());
}

TEST_F(RegistrationTest, AFullEventWaitlistsAndPromotesOnCancel) {
  const v1::Event small = server_.NewEvent("Small training", /*capacity=*/1);
  const v1::RegisterResponse ana = server_.Register(small.name(), "Ana");
  const v1::RegisterResponse ben = server_.Register(small.name(), "Ben");
  const v1::RegisterResponse cruz = server_.Register(small.name(), "Cruz");
  ASSERT_FALSE(HasFailure());
  EXPECT_EQ(ana.registration().status(), v1::Registration::CONFIRMED);
  EXPECT_EQ(ben.registration().status(), v1::Registration::WAITLISTED);
  EXPECT_EQ(cruz.registration().status(), v1::Registration::WAITLISTED);

  v1::GetEventRequest get;
  get.set_name(small.name());
  v1::Event counted;
  ASSERT_TRUE(server_.events().GetEvent(server_.AdminContext().get(), get, &counted).ok());
  EXPECT_EQ(counted.confirmed_count(), 1);
  EXPECT_EQ(counted.waitlisted_count(), 2);

  Cancel(ana.registration().name());
  EXPECT_EQ(Get(ben.registration().name()).status(), v1::Registration::CONFIRMED)
      << "the first waitlisted is promoted";
  EXPECT_EQ(Get(cruz.registration().name()).status(), v1::Registration::WAITLISTED);
}

TEST_F(RegistrationTest, AWaitlistedPersonHoldsNoBreakoutSeatUntilPromoted) {
  const v1::Event small = server_.NewEvent("Small training", /*capacity=*/1);
  const v1::Session room =
      server_.NewSession(small.name(), "Health and public benefits", 1, 5, true);
  const v1::RegisterResponse ana = server_.Register(small.name(), "Ana", {room.name()});
  const v1::RegisterResponse ben = server_.Register(small.name(), "Ben", {room.name()});
  const v1::RegisterResponse cruz = server_.Register(small.name(), "Cruz", {room.name()});
  ASSERT_FALSE(HasFailure());
  EXPECT_EQ(ana.registration().session_choices(0).status(), v1::SessionChoice::CONFIRMED);
  EXPECT_EQ(ben.registration().status(), v1::Registration::WAITLISTED);
  EXPECT_EQ(ben.registration().session_choices(0).status(), v1::SessionChoice::WAITLISTED)
      << "seats go to people who can get in";

  Cancel(ana.registration().name());
  const v1::Registration promoted = Get(ben.registration().name());
  EXPECT_EQ(promoted.status(), v1::Registration::CONFIRMED);
  EXPECT_EQ(promoted.session_choices(0).status(), v1::SessionChoice::CONFIRMED);

  // Raising the event's capacity seats the next waitlisted person, breakout included.
  v1::UpdateEventRequest update;
  update.mutable_event()->set_name(small.name());
  update.mutable_event()->set_capacity(2);
  update.mutable_update_mask()->add_paths("capacity");
  v1::Event updated;
  ASSERT_TRUE(server_.events().UpdateEvent(server_.AdminContext().get(), update, &updated).ok());
  const v1::Registration raised = Get(cruz.registration().name());
  EXPECT_EQ(raised.status(), v1::Registration::CONFIRMED);
  EXPECT_EQ(raised.session_choices(0).status(), v1::SessionChoice::CONFIRMED);
}

TEST_F(RegistrationTest, UpdateSessionChoicesRejectsTwoSessionsOfOneRoundAndChangesNothing) {
  const v1::Session legislative =
      server_.NewSession(event_.name(), "Legislative advocacy", 1, 0, true);
  const v1::Session media =
      server_.NewSession(event_.name(), "Communications and media", 1, 0, true);
  const v1::Session health =
      server_.NewSession(event_.name(), "Health and public benefits", 2, 0, true);
  const v1::RegisterResponse ana = server_.Register(event_.name(), "Ana", {legislative.name()});
  ASSERT_FALSE(HasFailure());
  const std::string before = server_.Fingerprint();

  v1::UpdateSessionChoicesRequest req;
  req.set_name(ana.registration().name());
  req.add_sessions(legislative.name());
  req.add_sessions(media.name());
  v1::Registration resp;
  const grpc::Status status =
      server_.registrations().UpdateSessionChoices(server_.AdminContext().get(), req, &resp);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("round"));
  EXPECT_EQ(server_.Fingerprint(), before);
  const v1::Registration unchanged = Get(ana.registration().name());
  ASSERT_EQ(unchanged.session_choices_size(), 1);
  EXPECT_EQ(unchanged.session_choices(0).session(), legislative.name());

  // One per round is fine: switch round 1 and add round 2.
  req.clear_sessions();
  req.add_sessions(media.name());
  req.add_sessions(health.name());
  ASSERT_TRUE(
      server_.registrations().UpdateSessionChoices(server_.AdminContext().get(), req, &resp).ok());
  std::set<std::string> chosen;
  const v1::Registration updated = Get(ana.registration().name());
  for (const v1::SessionChoice& c : updated.session_choices()) {
    chosen.insert(c.session());
  }
  EXPECT_THAT(chosen, UnorderedElementsAre(media.name(), health.name()));
}

// The id at the end of a resource name: "events/3/sessions/12" -> 12.
int64_t IdOf(const std::string& name) {
  int64_t id = 0;
  EXPECT_TRUE(absl::SimpleAtoi(name.substr(name.rfind('/') + 1), &id)) << name;
  return id;
}

// Register, Cancel and UpdateChoices lock rows in one order (registration_store.h), so that
// however they interleave on the same event and breakouts none waits for another in a cycle.
// The store is driven directly, one connection per thread and no retry, so a deadlock that
// PostgreSQL breaks (after deadlock_timeout) is seen here as what it is, not as a slow retry.
TEST_F(RegistrationTest, RegisterCancelAndUpdateChoicesNeverDeadlock) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 12;
  const v1::Event event = server_.NewEvent("Los Angeles", /*capacity=*/6);
  std::vector<std::vector<int64_t>> by_round(2);  // three small breakouts per round
  for (int round = 1; round <= 2; ++round) {
    for (int i = 0; i < 3; ++i) {
      const v1::Session s = server_.NewSession(event.name(), absl::StrCat("Track ", round, i),
                                               round, /*capacity=*/2, true);
      by_round[round - 1].push_back(IdOf(s.name()));
    }
  }
  ASSERT_FALSE(HasFailure());
  const int64_t event_id = IdOf(event.name());
  const store::DataKey data_key = store::DataKey::Random();
  const domain::SigningKey key = domain::GenerateSigningKey(
      static_cast<uint16_t>(server_.QueryInt("SELECT min(key_id) FROM signing_keys")));

  std::atomic<int> deadlocks{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto conn = store::Connect(server_.database());
      if (!conn.ok()) {
        ++failures;
        return;
      }
      std::mt19937 rng(t);
      auto pick = [&] {
        return std::vector<int64_t>{by_round[0][rng() % 3], by_round[1][rng() % 3]};
      };
      // Runs one store call in a transaction of its own; no retry.
      auto run = [&](const std::function<absl::Status(pqxx::work&)>& body) {
        try {
          pqxx::work txn(**conn);
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
      for (int i = 0; i < kRounds; ++i) {
        int64_t id = 0;
        run([&](pqxx::work& txn) {
          store::NewRegistration input;
          input.display_name = absl::StrCat("Person ", t, "-", i);
          input.session_ids = pick();
          auto r = store::PgRegistrationStore::Register(txn, event_id, input, data_key, key);
          if (r.ok()) id = r->registration.id;
          return r.status();
        });
        if (id == 0) continue;
        run([&](pqxx::work& txn) {
          return store::PgRegistrationStore::UpdateChoices(txn, event_id, id, pick(), data_key)
              .status();
        });
        if (i % 3 == 2) continue;  // some stay, so the waitlists are promoted from
        run([&](pqxx::work& txn) {
          return store::PgRegistrationStore::Cancel(txn, event_id, id, data_key).status();
        });
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(deadlocks.load(), 0);
  EXPECT_EQ(failures.load(), 0);
  // The seats add up: no breakout holds more confirmed choices than it has seats.
  EXPECT_EQ(server_.QueryInt(absl::StrCat(
                "SELECT count(*) FROM (SELECT session_id FROM session_choices WHERE event_id = ",
                event_id, " AND status = 1 GROUP BY session_id HAVING count(*) > 2) full_rooms")),
            0);
}

TEST_F(RegistrationTest, ListRegistrationsPagesThroughEveryoneOnce) {
  std::set<std::string> registered;
  for (const char* name : {"Ana", "Ben", "Cruz", "Dee", "Eli"}) {
    registered.insert(server_.Register(event_.name(), name).registration().name());
  }
  ASSERT_FALSE(HasFailure());

  v1::ListRegistrationsRequest req;
  req.set_parent(event_.name());
  req.set_page_size(2);
  std::vector<std::string> seen;
  std::vector<int> page_sizes;
  for (int page = 0; page < 10; ++page) {
    v1::ListRegistrationsResponse resp;
    const grpc::Status status = List(req, &resp);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(resp.total_size(), 5);
    page_sizes.push_back(resp.registrations_size());
    for (const v1::Registration& r : resp.registrations()) seen.push_back(r.name());
    if (resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  EXPECT_THAT(page_sizes, ::testing::ElementsAre(2, 2, 1));
  EXPECT_EQ(seen.size(), 5u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), registered);
}

TEST_F(RegistrationTest, ListRegistrationsFiltersByStatusAndAccentInsensitivePrefix) {
  const v1::Event event = server_.NewEvent("Small training", /*capacity=*/3);
  server_.Register(event.name(), "José Martínez");
  const v1::RegisterResponse josefina = server_.Register(event.name(), "Josefina Ortiz");
  server_.Register(event.name(), "Mark Jones");
  const v1::RegisterResponse jorge = server_.Register(event.name(), "Jorge Núñez");  // waitlisted
  const v1::RegisterResponse joselyn =
      server_.Register(event.name(), "Joselyn Park");  // waitlisted
  ASSERT_FALSE(HasFailure());
  ASSERT_EQ(jorge.registration().status(), v1::Registration::WAITLISTED);
  Cancel(josefina.registration().name());  // promotes Jorge

  auto names = [&](v1::Registration::Status status, const std::string& prefix, int* total) {
    v1::ListRegistrationsRequest req;
    req.set_parent(event.name());
    req.set_status(status);
    req.set_name_prefix(prefix);
    v1::ListRegistrationsResponse resp;
    const grpc::Status s = List(req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::set<std::string> out;
    for (const v1::Registration& r : resp.registrations()) out.insert(r.display_name());
    *total = resp.total_size();
    return out;
  };
  int total = 0;
  EXPECT_THAT(names(v1::Registration::STATUS_UNSPECIFIED, "jose", &total),
              UnorderedElementsAre("José Martínez", "Josefina Ortiz", "Joselyn Park"));
  EXPECT_EQ(total, 3);
  EXPECT_THAT(names(v1::Registration::STATUS_UNSPECIFIED, "JOSÉ M", &total),
              UnorderedElementsAre("José Martínez"));
  EXPECT_THAT(names(v1::Registration::STATUS_UNSPECIFIED, "jorge nunez", &total),
              UnorderedElementsAre("Jorge Núñez"));
  EXPECT_THAT(names(v1::Registration::CANCELED, "", &total),
              UnorderedElementsAre("Josefina Ortiz"));
  EXPECT_EQ(total, 1);
  EXPECT_THAT(names(v1::Registration::WAITLISTED, "", &total),
              UnorderedElementsAre("Joselyn Park"));
  EXPECT_THAT(names(v1::Registration::CONFIRMED, "jo", &total),
              UnorderedElementsAre("José Martínez", "Jorge Núñez"));
  EXPECT_EQ(total, 2);
  EXPECT_THAT(names(v1::Registration::CONFIRMED, "zzz", &total), ::testing::IsEmpty());
  EXPECT_EQ(total, 0);
}

// name_prefix is normalized like SearchAttendees' query: case and accents fold in every script,
// and punctuation separates words like a space.
TEST_F(RegistrationTest, ListRegistrationsNamePrefixFoldsCaseAndAccentsInEveryScript) {
  for (const char* name : {"Nguyễn Văn An", "Lǐ Huá", "Анна Петрова", "Nguyen-An Tran"}) {
    server_.Register(event_.name(), name);
  }
  ASSERT_FALSE(HasFailure());

  const std::pair<std::string, std::vector<std::string>> kPrefixes[] = {
      {"NGUYỄN", {"Nguyễn Văn An", "Nguyen-An Tran"}},
      {"nguyen v", {"Nguyễn Văn An"}},
      {"nguyen-an", {"Nguyen-An Tran"}},
      {"NGUYEN AN", {"Nguyen-An Tran"}},
      {"li hua", {"Lǐ Huá"}},
      {"АННА", {"Анна Петрова"}},
      {"анна п", {"Анна Петрова"}},
  };
  for (const auto& [prefix, names] : kPrefixes) {
    SCOPED_TRACE(prefix);
    v1::ListRegistrationsRequest req;
    req.set_parent(event_.name());
    req.set_name_prefix(prefix);
    v1::ListRegistrationsResponse resp;
    const grpc::Status status = List(req, &resp);
    ASSERT_TRUE(status.ok()) << status.error_message();
    std::vector<std::string> found;
    for (const v1::Registration& r : resp.registrations()) found.push_back(r.display_name());
    EXPECT_THAT(found, ::testing::UnorderedElementsAreArray(names));
    EXPECT_EQ(resp.total_size(), static_cast<int>(names.size()));
  }
}

// Streams rows through ImportRegistrations; the first row names the event.
grpc::Status Import(TestServer& server, const std::string& event,
                    const std::vector<std::string>& display_names,
                    v1::ImportRegistrationsResponse* resp) {
  auto ctx = server.AdminContext();
  auto writer = server.registrations().ImportRegistrations(ctx.get(), resp);
  for (size_t i = 0; i < display_names.size(); ++i) {
    v1::ImportRegistrationsRequest row;
    if (i == 0) row.set_parent(event);
    row.set_line(static_cast<int>(i) + 1);
    row.set_request_id(absl::StrCat("row-", i + 1));
    row.mutable_registration()->set_display_name(display_names[i]);
    row.mutable_registration()->set_email(absl::StrCat("person", i + 1, "@example.org"));
    if (!writer->Write(row)) break;
  }
  writer->WritesDone();
  return writer->Finish();
}

TEST_F(RegistrationTest, ImportRegistrationsImportsEveryRow) {
  v1::ImportRegistrationsResponse resp;
  const grpc::Status status = Import(server_, event_.name(), {"Ana", "Ben", "Cruz", "Dee"}, &resp);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(resp.imported(), 4);
  EXPECT_EQ(resp.already_imported(), 0);

  v1::ListRegistrationsRequest req;
  req.set_parent(event_.name());
  v1::ListRegistrationsResponse list;
  ASSERT_TRUE(List(req, &list).ok());
  EXPECT_EQ(list.total_size(), 4);
  for (const v1::Registration& r : list.registrations()) {
    EXPECT_EQ(r.source(), v1::Registration::IMPORT);
  }
  EXPECT_EQ(server_.QueryInt("SELECT count(*) FROM tickets"), 4) << "every row gets a ticket";

  // The same file again imports nobody twice.
  v1::ImportRegistrationsResponse again;
  ASSERT_TRUE(Import(server_, event_.name(), {"Ana", "Ben", "Cruz", "Dee"}, &again).ok());
  EXPECT_EQ(again.imported(), 0);
  EXPECT_EQ(again.already_imported(), 4);
  EXPECT_EQ(server_.QueryInt("SELECT count(*) FROM registrations"), 4);
}

TEST_F(RegistrationTest, ImportWithABadRowNamesTheRowAndImportsNothing) {
  const std::string before = server_.Fingerprint();
  v1::ImportRegistrationsResponse resp;
  const grpc::Status status = Import(server_, event_.name(), {"Ana", "Ben", "", "Dee"}, &resp);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("row 3"));
  EXPECT_THAT(status.error_message(), HasSubstr("display_name"));
  EXPECT_EQ(server_.QueryInt("SELECT count(*) FROM registrations"), 0);
  EXPECT_EQ(server_.Fingerprint(), before);
}

TEST_F(RegistrationTest, TheTicketsQrCodeReadsBackExactlyAndCarriesNoPersonalData) {
  const std::string name = "Guadalupe Hernández";
  const std::string email = "lupe.hernandez@example.org";
  const v1::RegisterResponse lupe = server_.Register(event_.name(), name, {}, email);
  ASSERT_FALSE(HasFailure());

  v1::GetTicketRequest req;
  req.set_name(lupe.registration().name());
  v1::Ticket ticket;
  ASSERT_TRUE(server_.registrations().GetTicket(server_.AdminContext().get(), req, &ticket).ok());
  EXPECT_EQ(ticket.code(), lupe.ticket().code());
  EXPECT_EQ(ticket.registration(), lupe.registration().name());

  absl::StatusOr<std::string> read = client::ReadQrFromImage(ticket.qr_png());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, ticket.code());
  EXPECT_THAT(ticket.qr_svg(), HasSubstr("<svg"));

  // Compact, QR-alphanumeric Base32 ...
  EXPECT_LE(ticket.code().size(), 150u);
  EXPECT_THAT(ticket.code(), MatchesRegex("[A-Z2-7]+"));
  // ... of 87 bytes (23 signed + a 64-byte signature) in which no personal data appears.
  absl::StatusOr<std::vector<uint8_t>> bytes = domain::Base32Decode(ticket.code());
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  ASSERT_EQ(bytes->size(), 87u);
  const std::string raw(bytes->begin(), bytes->end());
  for (const std::string& personal :
       {name, email, std::string("Guadalupe"), std::string("Hern"), std::string("lupe")}) {
    EXPECT_THAT(raw, Not(HasSubstr(personal)));
    EXPECT_THAT(ticket.code(), Not(HasSubstr(personal)));
  }
  EXPECT_EQ(raw[0], 1) << "version";

  // A larger scale still reads back.
  req.set_png_scale(3);
  ASSERT_TRUE(server_.registrations().GetTicket(server_.AdminContext().get(), req, &ticket).ok());
  read = client::ReadQrFromImage(ticket.qr_png());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, lupe.ticket().code());
}

// The attendee's own calls, as an app makes them: no token, one proof in the request.
class SelfServiceTest : public RegistrationTest {
 protected:
  void SetUp() override {
    RegistrationTest::SetUp();
    round1_a_ = server_.NewSession(event_.name(), "Legislative advocacy", 1, 0, true);
    round1_b_ = server_.NewSession(event_.name(), "Workers' rights", 1, 0, true);
    ASSERT_FALSE(HasFailure());
    ana_ = RegisterWithContacts("Ana Flores", "ana@example.org", "+15105550123");
    ben_ = RegisterWithContacts("Ben Ortiz", "ben@example.org", "+15105550188");
    ASSERT_FALSE(HasFailure());
  }

  v1::RegisterResponse RegisterWithContacts(const std::string& name, const std::string& email,
                                            const std::string& phone) {
    v1::RegisterRequest req;
    req.set_parent(event_.name());
    req.set_request_id(absl::StrCat("self-service-", name, "-0123456789"));
    req.mutable_registration()->set_display_name(name);
    req.mutable_registration()->set_email(email);
    req.mutable_registration()->set_phone(phone);
    req.mutable_registration()->set_preferred_language("es");
    req.mutable_registration()->add_attention_flags(v1::ATTENTION_FLAG_SPANISH_INTERPRETATION);
    req.mutable_registration()->add_session_choices()->set_session(round1_a_.name());
    v1::RegisterResponse resp;
    const grpc::Status status =
        server_.registrations().Register(TestServer::Context("").get(), req, &resp);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return resp;
  }

  struct Proof {
    std::string ticket_code;
    std::string manage_secret;
  };
  template <typename Request>
  static Request With(Request req, const Proof& proof) {
    req.set_ticket_code(proof.ticket_code);
    req.set_manage_secret(proof.manage_secret);
    return req;
  }

  grpc::Status Get(const std::string& name, const Proof& proof, v1::Registration* out) {
    v1::GetRegistrationRequest req;
    req.set_name(name);
    return server_.registrations().GetRegistration(TestServer::Context("").get(),
                                                   With(req, proof), out);
  }
  grpc::Status CancelAs(const std::string& name, const Proof& proof, v1::Registration* out) {
    v1::CancelRegistrationRequest req;
    req.set_name(name);
    return server_.registrations().CancelRegistration(TestServer::Context("").get(),
                                                      With(req, proof), out);
  }
  grpc::Status Choose(const std::string& name, const std::string& session, const Proof& proof,
                      v1::Registration* out) {
    v1::UpdateSessionChoicesRequest req;
    req.set_name(name);
    req.add_sessions(session);
    return server_.registrations().UpdateSessionChoices(TestServer::Context("").get(),
                                                        With(req, proof), out);
  }
  grpc::Status Ticket(const std::string& name, const Proof& proof, v1::Ticket* out) {
    v1::GetTicketRequest req;
    req.set_name(name);
    return server_.registrations().GetTicket(TestServer::Context("").get(), With(req, proof), out);
  }
  grpc::Status Issue(const std::string& name, const std::string& token,
                     v1::IssueManageSecretResponse* out) {
    v1::IssueManageSecretRequest req;
    req.set_name(name);
    return server_.registrations().IssueManageSecret(TestServer::Context(token).get(), req, out);
  }

  // Changing and cancelling `name` with `proof` is refused with `code`, and changes no row.
  void ExpectNoChangeWith(const std::string& name, const Proof& proof, grpc::StatusCode code) {
    const std::string before = server_.Fingerprint();
    v1::Registration out;
    grpc::Status status = CancelAs(name, proof, &out);
    EXPECT_EQ(status.error_code(), code) << status.error_message();
    status = Choose(name, round1_b_.name(), proof, &out);
    EXPECT_EQ(status.error_code(), code) << status.error_message();
    EXPECT_EQ(server_.Fingerprint(), before);
  }

  v1::Session round1_a_;
  v1::Session round1_b_;
  v1::RegisterResponse ana_;
  v1::RegisterResponse ben_;
};

TEST_F(SelfServiceTest, TheTicketCodeShowsOnlyWhatTheDoorShowsAndChangesNothing) {
  const Proof code{ana_.ticket().code(), ""};
  v1::Registration seen;
  grpc::Status status = Get(ana_.registration().name(), code, &seen);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(seen.name(), ana_.registration().name());
  EXPECT_EQ(seen.display_name(), "Ana Flores");
  EXPECT_EQ(seen.status(), v1::Registration::CONFIRMED);
  EXPECT_EQ(seen.preferred_language(), "es");
  EXPECT_THAT(seen.attention_flags(),
              ::testing::ElementsAre(v1::ATTENTION_FLAG_SPANISH_INTERPRETATION));
  ASSERT_EQ(seen.session_choices_size(), 1);
  EXPECT_EQ(seen.session_choices(0).session(), round1_a_.name());
  EXPECT_EQ(seen.email(), "");
  EXPECT_EQ(seen.phone(), "");
  const std::string wire = seen.SerializeAsString();
  EXPECT_THAT(wire, Not(HasSubstr("ana@example.org")));
  EXPECT_THAT(wire, Not(HasSubstr("5550123")));

  // The code is its own QR's proof: the attendee may print it again.
  v1::Ticket ticket;
  status = Ticket(ana_.registration().name(), code, &ticket);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(ticket.code(), ana_.ticket().code());
  EXPECT_FALSE(ticket.qr_png().empty());

  // It neither cancels nor changes the breakouts, and says what does.
  v1::Registration out;
  status = CancelAs(ana_.registration().name(), code, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("manage_secret"));
  ExpectNoChangeWith(ana_.registration().name(), code, grpc::StatusCode::PERMISSION_DENIED);

  // Without any proof: UNAUTHENTICATED, and nothing changes.
  ExpectNoChangeWith(ana_.registration().name(), Proof{}, grpc::StatusCode::UNAUTHENTICATED);
  status = Get(ana_.registration().name(), Proof{}, &seen);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();

  // Someone else's code, or a made-up one, opens nothing.
  for (const std::string& wrong : {ben_.ticket().code(), std::string("AAAA")}) {
    status = Get(ana_.registration().name(), Proof{wrong, ""}, &seen);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
    EXPECT_THAT(status.error_message(), Not(HasSubstr("Ana")));
    status = Ticket(ana_.registration().name(), Proof{wrong, ""}, &ticket);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  }

  // After a reissue, the old code is no longer proof of anything.
  v1::ReissueTicketRequest reissue;
  reissue.set_name(ana_.registration().name());
  v1::Ticket fresh;
  ASSERT_TRUE(
      server_.registrations().ReissueTicket(server_.AdminContext().get(), reissue, &fresh).ok());
  EXPECT_EQ(Get(ana_.registration().name(), code, &seen).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(Get(ana_.registration().name(), Proof{fresh.code(), ""}, &seen).ok());
}

TEST_F(SelfServiceTest, TheManageSecretReadsChangesAndCancels) {
  const std::string secret = ana_.manage_secret();
  EXPECT_THAT(secret, MatchesRegex("tnm_[A-Z2-7]{32}"));
  EXPECT_NE(secret, ben_.manage_secret());
  // The database keeps a keyed hash of it, never the secret.
  EXPECT_EQ(server_.QueryInt("SELECT count(*) FROM registrations WHERE manage_secret_hash = ''"),
            0);
  EXPECT_EQ(server_.QueryInt(absl::StrCat("SELECT count(*) FROM registrations r WHERE r::text ",
                                          "ILIKE '%", secret.substr(4), "%'")),
            0);

  const Proof own{"", secret};
  v1::Registration seen;
  grpc::Status status = Get(ana_.registration().name(), own, &seen);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(seen.email(), "ana@example.org");
  EXPECT_EQ(seen.phone(), "+15105550123");
  // As a person types it: lower case, a trailing newline.
  std::string typed = absl::StrCat(" ", secret, "\n");
  for (char& c : typed) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_TRUE(Get(ana_.registration().name(), Proof{"", typed}, &seen).ok());

  v1::Registration changed;
  status = Choose(ana_.registration().name(), round1_b_.name(), own, &changed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(changed.session_choices_size(), 1);
  EXPECT_EQ(changed.session_choices(0).session(), round1_b_.name());

  v1::Ticket ticket;
  status = Ticket(ana_.registration().name(), own, &ticket);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(ticket.code(), ana_.ticket().code());

  v1::Registration canceled;
  status = CancelAs(ana_.registration().name(), own, &canceled);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(canceled.status(), v1::Registration::CANCELED);

  // Once canceled, the code (still printed on a ticket somewhere) says that and nothing more.
  status = Get(ana_.registration().name(), Proof{ana_.ticket().code(), ""}, &seen);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(seen.status(), v1::Registration::CANCELED);
  EXPECT_EQ(seen.display_name(), "");
  EXPECT_EQ(seen.email(), "");
  EXPECT_EQ(seen.phone(), "");
  EXPECT_EQ(seen.attention_flags_size(), 0);
  ExpectNoChangeWith(ana_.registration().name(), Proof{ana_.ticket().code(), ""},
                     grpc::StatusCode::PERMISSION_DENIED);
  // The attendee still reads their own data with the secret.
  status = Get(ana_.registration().name(), own, &seen);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(seen.email(), "ana@example.org");
}

TEST_F(SelfServiceTest, AManageSecretOpensNoOtherRegistration) {
  // Ben's secret, on Ana's registration: refused whatever else comes with it, and nothing changes.
  for (const Proof& wrong : {Proof{"", ben_.manage_secret()},
                             Proof{ana_.ticket().code(), ben_.manage_secret()}}) {
    v1::Registration seen;
    const grpc::Status status = Get(ana_.registration().name(), wrong, &seen);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr("manage_secret"));
    EXPECT_THAT(status.error_message(), Not(HasSubstr("Ana")));
    EXPECT_EQ(seen.email(), "");
    v1::Ticket ticket;
    EXPECT_EQ(Ticket(ana_.registration().name(), wrong, &ticket).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    ExpectNoChangeWith(ana_.registration().name(), wrong, grpc::StatusCode::PERMISSION_DENIED);
  }

  // A secret for a registration that does not exist answers as a wrong secret.
  v1::Registration seen;
  EXPECT_EQ(Get(absl::StrCat(event_.name(), "/registrations/999"), Proof{"", ana_.manage_secret()},
                &seen)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Something that is no secret at all (a ticket code in the wrong field, a token) is bad input.
  for (const std::string& malformed : {ana_.ticket().code(), server_.admin_token(),
                                       ana_.manage_secret().substr(0, 20)}) {
    const grpc::Status status = Get(ana_.registration().name(), Proof{"", malformed}, &seen);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr("manage_secret"));
  }
  ExpectNoChangeWith(ana_.registration().name(), Proof{"", ana_.ticket().code()},
                     grpc::StatusCode::INVALID_ARGUMENT);

  // A DOOR token reads what the door shows and changes nothing.
  const std::string door = server_.NewToken(v1::ROLE_DOOR, event_.name());
  v1::GetRegistrationRequest get;
  get.set_name(ana_.registration().name());
  ASSERT_TRUE(server_.registrations().GetRegistration(TestServer::Context(door).get(), get, &seen)
                  .ok());
  EXPECT_EQ(seen.display_name(), "Ana Flores");
  EXPECT_EQ(seen.email(), "");
  v1::CancelRegistrationRequest cancel;
  cancel.set_name(ana_.registration().name());
  EXPECT_EQ(server_.registrations()
                .CancelRegistration(TestServer::Context(door).get(), cancel, &seen)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(SelfServiceTest, ARegistrationWithoutASecretGetsOneFromAnOrganizer) {
  // As a registration made before manage secrets existed (or imported) is stored.
  server_.Execute(absl::StrCat("UPDATE registrations SET manage_secret_hash = '' WHERE id = ",
                               ana_.registration().name().substr(
                                   ana_.registration().name().rfind('/') + 1)));
  v1::Registration seen;
  EXPECT_EQ(Get(ana_.registration().name(), Proof{"", ana_.manage_secret()}, &seen).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Its code still shows what the door shows.
  EXPECT_TRUE(Get(ana_.registration().name(), Proof{ana_.ticket().code(), ""}, &seen).ok());

  // Only staff issue one.
  v1::IssueManageSecretResponse issued;
  EXPECT_EQ(Issue(ana_.registration().name(), "", &issued).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  const std::string door = server_.NewToken(v1::ROLE_DOOR, event_.name());
  const std::string before = server_.Fingerprint();
  EXPECT_EQ(Issue(ana_.registration().name(), door, &issued).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Issue(absl::StrCat(event_.name(), "/registrations/999"), server_.admin_token(),
                  &issued)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Issue("registrations/1", server_.admin_token(), &issued).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(server_.Fingerprint(), before);

  const std::string organizer = server_.NewToken(v1::ROLE_ORGANIZER, event_.name());
  grpc::Status status = Issue(ana_.registration().name(), organizer, &issued);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(issued.registration(), ana_.registration().name());
  EXPECT_THAT(issued.manage_secret(), MatchesRegex("tnm_[A-Z2-7]{32}"));
  status = Get(ana_.registration().name(), Proof{"", issued.manage_secret()}, &seen);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(seen.email(), "ana@example.org");

  // A reissued ticket keeps the secret; a newly issued secret replaces it.
  v1::ReissueTicketRequest reissue;
  reissue.set_name(ana_.registration().name());
  v1::Ticket fresh;
  ASSERT_TRUE(
      server_.registrations().ReissueTicket(server_.AdminContext().get(), reissue, &fresh).ok());
  EXPECT_TRUE(Get(ana_.registration().name(), Proof{"", issued.manage_secret()}, &seen).ok());
  v1::IssueManageSecretResponse again;
  ASSERT_TRUE(Issue(ana_.registration().name(), organizer, &again).ok());
  EXPECT_NE(again.manage_secret(), issued.manage_secret());
  EXPECT_EQ(Get(ana_.registration().name(), Proof{"", issued.manage_secret()}, &seen).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(Get(ana_.registration().name(), Proof{"", again.manage_secret()}, &seen).ok());
  // Ben's secret was never touched.
  EXPECT_TRUE(Get(ben_.registration().name(), Proof{"", ben_.manage_secret()}, &seen).ok());
}

}  // namespace
}  // namespace turnout::testing
