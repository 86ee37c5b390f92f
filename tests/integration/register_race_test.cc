// Registrations racing for the last places, through the real server: concurrent Register calls
// are committed together (transaction_batcher.h) and the places are counted, not recounted
// (migration 8), yet the waitlist stays exact: as many confirmed as there were places, the rest
// waitlisted in the order they got in, the counters equal to what count(*) finds, and each
// cancellation promotes exactly one person, the earliest waiting.
#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_server.h"

namespace turnout::testing {
namespace {

constexpr int kPlaces = 30;
constexpr int kTakenBefore = 20;  // the last 10 places are raced for
constexpr int kRacers = 64;

int64_t IdOf(const std::string& name) {
  int64_t id = 0;
  EXPECT_TRUE(absl::SimpleAtoi(name.substr(name.rfind('/') + 1), &id)) << name;
  return id;
}

class RegisterRaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    event_ = server_.NewEvent("Fresno", kPlaces);
    // A breakout with exactly as many seats as the event has places, and one with fewer.
    wide_ = server_.NewSession(event_.name(), "Keynote workshop", 1, kPlaces, true);
    narrow_ = server_.NewSession(event_.name(), "Small room", 2, kTakenBefore + 5, true);
    ASSERT_FALSE(HasFailure());
    for (int i = 0; i < kTakenBefore; ++i) {
      server_.Register(event_.name(), absl::StrCat("Early ", i), {wide_.name(), narrow_.name()});
    }
    ASSERT_FALSE(HasFailure());
    event_id_ = IdOf(event_.name());
  }

  // Every counter equals the count of the rows it counts.
  void ExpectCountersExact() {
    EXPECT_EQ(server_.QueryInt(absl::StrCat("SELECT confirmed_count FROM events WHERE id = ",
                                            event_id_)),
              Count("registrations", "status = 1"));
    EXPECT_EQ(server_.QueryInt(absl::StrCat("SELECT waitlisted_count FROM events WHERE id = ",
                                            event_id_)),
              Count("registrations", "status = 2"));
    for (const v1::Session& s : {wide_, narrow_}) {
      const std::string session = absl::StrCat("session_id = ", IdOf(s.name()));
      EXPECT_EQ(server_.QueryInt(absl::StrCat("SELECT confirmed_count FROM sessions WHERE id = ",
                                              IdOf(s.name()))),
                Count("session_choices", session + " AND status = 1"))
          << s.title();
      EXPECT_EQ(server_.QueryInt(absl::StrCat("SELECT waitlisted_count FROM sessions WHERE id = ",
                                              IdOf(s.name()))),
                Count("session_choices", session + " AND status = 2"))
          << s.title();
    }
  }

  int64_t Count(const std::string& table, const std::string& where) {
    return server_.QueryInt(
        absl::StrCat("SELECT count(*) FROM ", table, " WHERE event_id = ", event_id_, " AND ", where));
  }

  // The racers register as the public does, from one address: its registration limit is raised.
  TestServer server_{[](api::ServerOptions& o) { o.register_burst = 2 * kRacers; }};
  v1::Event event_;
  v1::Session wide_;
  v1::Session narrow_;
  int64_t event_id_ = 0;
};

TEST_F(RegisterRaceTest, SixtyFourRacersForTheLastTenPlaces) {
  std::vector<v1::RegisterResponse> answers(kRacers);
  std::vector<grpc::Status> statuses(kRacers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRacers; ++i) {
    threads.emplace_back([&, i] {
      v1::RegisterRequest req;
      req.set_parent(event_.name());
      req.set_request_id(absl::StrCat("race-registration-", i, "-0123456789abcdef"));
      req.mutable_registration()->set_display_name(absl::StrCat("Racer ", i));
      req.mutable_registration()->add_session_choices()->set_session(wide_.name());
      req.mutable_registration()->add_session_choices()->set_session(narrow_.name());
      statuses[i] = server_.registrations().Register(TestServer::Context("").get(), req, &answers[i]);
    });
  }
  for (std::thread& t : threads) t.join();

  std::vector<int64_t> confirmed, waitlisted;
  for (int i = 0; i < kRacers; ++i) {
    ASSERT_TRUE(statuses[i].ok()) << i << ": " << statuses[i].error_message();
    const v1::Registration& reg = answers[i].registration();
    ASSERT_EQ(reg.session_choices_size(), 2);
    if (reg.status() == v1::Registration::CONFIRMED) {
      confirmed.push_back(IdOf(reg.name()));
      EXPECT_EQ(reg.session_choices(0).status(), v1::SessionChoice::CONFIRMED);
    } else {
      ASSERT_EQ(reg.status(), v1::Registration::WAITLISTED);
      waitlisted.push_back(IdOf(reg.name()));
      // A waitlisted registration waits for its breakouts too.
      EXPECT_EQ(reg.session_choices(0).status(), v1::SessionChoice::WAITLISTED);
      EXPECT_EQ(reg.session_choices(1).status(), v1::SessionChoice::WAITLISTED);
    }
  }
  EXPECT_EQ(confirmed.size(), static_cast<size_t>(kPlaces - kTakenBefore));
  EXPECT_EQ(waitlisted.size(), static_cast<size_t>(kRacers - (kPlaces - kTakenBefore)));
  // The order they got in: every confirmed registered before every waitlisted.
  EXPECT_LT(*std::max_element(confirmed.begin(), confirmed.end()),
            *std::min_element(waitlisted.begin(), waitlisted.end()));
  // The narrow room seated the first 5 confirmed racers and waitlisted the rest.
  EXPECT_EQ(Count("session_choices", absl::StrCat("session_id = ", IdOf(narrow_.name()),
                                                  " AND status = 1")),
            kTakenBefore + 5);
  ExpectCountersExact();

  // Cancellations promote exactly as many as they free, the earliest waiting first.
  std::sort(waitlisted.begin(), waitlisted.end());
  constexpr int kCanceled = 4;
  for (int i = 0; i < kCanceled; ++i) {
    v1::CancelRegistrationRequest req;
    req.set_name(absl::StrCat(event_.name(), "/registrations/", confirmed[i]));
    v1::Registration reg;
    ASSERT_TRUE(server_.registrations()
                    .CancelRegistration(server_.AdminContext().get(), req, &reg)
                    .ok());
  }
  EXPECT_EQ(Count("registrations", "status = 1"), kPlaces);
  EXPECT_EQ(Count("registrations", "status = 2"),
            static_cast<int64_t>(waitlisted.size()) - kCanceled);
  EXPECT_EQ(Count("registrations", absl::StrCat("status = 1 AND id <= ", waitlisted[kCanceled - 1],
                                                " AND id >= ", waitlisted[0])),
            kCanceled);
  // The promoted took the freed seats of the wide breakout; the narrow room stays full.
  EXPECT_EQ(Count("session_choices",
                  absl::StrCat("session_id = ", IdOf(wide_.name()), " AND status = 1")),
            kPlaces);
  EXPECT_EQ(Count("session_choices",
                  absl::StrCat("session_id = ", IdOf(narrow_.name()), " AND status = 1")),
            kTakenBefore + 5);
  ExpectCountersExact();

  // GetEvent reads the counters.
  v1::GetEventRequest get;
  get.set_name(event_.name());
  v1::Event now;
  ASSERT_TRUE(server_.events().GetEvent(server_.AdminContext().get(), get, &now).ok());
  EXPECT_EQ(now.confirmed_count(), kPlaces);
  EXPECT_EQ(now.waitlisted_count(), static_cast<int32_t>(waitlisted.size()) - kCanceled);
}

}  // namespace
}  // namespace turnout::testing
