// Pagination of every list RPC through the real server: ListEvents and ListRegistrations (in id
// order) and ListSessions (in start time order, then id). Rows created out of their sort order come
// back exactly once, in sort order, whatever the page size; a row inserted while a client pages is
// never returned twice and makes no existing row be skipped; and a page token is accepted only by
// the list that gave it. (ListCheckpoints, ListDeviceTokens and ListSigningKeys return everything
// in one answer and take no page token.)
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_server.h"

namespace turnout::testing {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

// One page of a list, reduced to what these tests compare.
struct Page {
  std::vector<std::string> rows;
  std::string next_page_token;
};

// One call of a list RPC: at most `page_size` rows from `page_token` (empty: the first page).
using FetchPage = std::function<Page(int page_size, const std::string& page_token)>;

// Every row a list returns, page after page, in the order returned. `between_pages` runs once,
// after the first page: a row inserted there is inserted while a client is paging.
std::vector<std::string> ListAll(const FetchPage& fetch, int page_size,
                                 const std::function<void()>& between_pages = nullptr) {
  std::vector<std::string> rows;
  std::string token;
  for (int page = 0; page < 50; ++page) {
    const Page p = fetch(page_size, token);
    EXPECT_LE(static_cast<int>(p.rows.size()), page_size);
    rows.insert(rows.end(), p.rows.begin(), p.rows.end());
    if (p.next_page_token.empty()) return rows;
    token = p.next_page_token;
    if (page == 0 && between_pages) between_pages();
  }
  ADD_FAILURE() << "the list did not end after 50 pages";
  return rows;
}

class ListTest : public ::testing::Test {
 protected:
  // Times are set from a fixed day, so that the order is the test's, not the clock's.
  static constexpr int64_t kDay = 1760515200;  // 2025-10-15T08:00:00Z

  v1::Event NewEvent(const std::string& title, absl::Time start) {
    v1::CreateEventRequest req;
    req.mutable_event()->set_title(title);
    req.mutable_event()->set_time_zone("America/Los_Angeles");
    *req.mutable_event()->mutable_start_time() = ToProtoTime(start);
    *req.mutable_event()->mutable_end_time() = ToProtoTime(start + absl::Hours(12));
    req.mutable_event()->set_state(v1::Event::PUBLISHED);
    v1::Event event;
    const grpc::Status status =
        server_.events().CreateEvent(server_.AdminContext().get(), req, &event);
    EXPECT_TRUE(status.ok()) << "CreateEvent: " << status.error_message();
    return event;
  }

  // A plenary titled `title` starting `hour` hours after 08:00 of the test's day.
  void NewSession(const v1::Event& event, const std::string& title, int hour) {
    v1::CreateSessionRequest req;
    req.set_parent(event.name());
    req.mutable_session()->set_title(title);
    req.mutable_session()->set_kind(v1::Session::PLENARY);
    const absl::Time start = absl::FromUnixSeconds(kDay) + absl::Hours(hour);
    *req.mutable_session()->mutable_start_time() = ToProtoTime(start);
    *req.mutable_session()->mutable_end_time() = ToProtoTime(start + absl::Minutes(45));
    v1::Session session;
    const grpc::Status status =
        server_.events().CreateSession(server_.AdminContext().get(), req, &session);
    EXPECT_TRUE(status.ok()) << "CreateSession: " << status.error_message();
  }

  // ListSessions of `event`, as session titles.
  FetchPage Sessions(const v1::Event& event) {
    return [this, event](int page_size, const std::string& page_token) {
      v1::ListSessionsRequest req;
      req.set_parent(event.name());
      req.set_page_size(page_size);
      req.set_page_token(page_token);
      v1::ListSessionsResponse resp;
      const grpc::Status status =
          server_.events().ListSessions(server_.AdminContext().get(), req, &resp);
      EXPECT_TRUE(status.ok()) << "ListSessions: " << status.error_message();
      Page page{{}, resp.next_page_token()};
      for (const v1::Session& s : resp.sessions()) page.rows.push_back(s.title());
      return page;
    };
  }

  // ListEvents, as event titles.
  FetchPage Events() {
    return [this](int page_size, const std::string& page_token) {
      v1::ListEventsRequest req;
      req.set_page_size(page_size);
      req.set_page_token(page_token);
      v1::ListEventsResponse resp;
      const grpc::Status status =
          server_.events().ListEvents(server_.AdminContext().get(), req, &resp);
      EXPECT_TRUE(status.ok()) << "ListEvents: " << status.error_message();
      Page page{{}, resp.next_page_token()};
      for (const v1::Event& e : resp.events()) page.rows.push_back(e.title());
      return page;
    };
  }

  // ListRegistrations of `event` with a name prefix, as display names.
  FetchPage Registrations(const v1::Event& event, const std::string& name_prefix = "") {
    return [this, event, name_prefix](int page_size, const std::string& page_token) {
      v1::ListRegistrationsRequest req;
      req.set_parent(event.name());
      req.set_page_size(page_size);
      req.set_page_token(page_token);
      req.set_name_prefix(name_prefix);
      v1::ListRegistrationsResponse resp;
      const grpc::Status status =
          server_.registrations().ListRegistrations(server_.AdminContext().get(), req, &resp);
      EXPECT_TRUE(status.ok()) << "ListRegistrations: " << status.error_message();
      Page page{{}, resp.next_page_token()};
      for (const v1::Registration& r : resp.registrations()) page.rows.push_back(r.display_name());
      return page;
    };
  }

  TestServer server_;
};

// The outside client's report: Afternoon, Morning, Midday created in that order, and paging by one
// returned only Morning and Midday.
TEST_F(ListTest, SessionsComeOnceEachInStartTimeOrderWhateverThePageSize) {
  const v1::Event event = NewEvent("Oakland", absl::FromUnixSeconds(kDay));
  NewSession(event, "Afternoon", 6);
  NewSession(event, "Morning", 1);
  NewSession(event, "Midday", 4);
  NewSession(event, "Morning coffee", 1);  // starts with Morning: the later id comes second
  NewSession(event, "Welcome", 0);
  ASSERT_FALSE(HasFailure());

  const std::vector<std::string> in_order = {"Welcome", "Morning", "Morning coffee", "Midday",
                                             "Afternoon"};
  for (int page_size : {1, 2, 3, 100}) {
    SCOPED_TRACE(absl::StrCat("page_size ", page_size));
    EXPECT_THAT(ListAll(Sessions(event), page_size), ElementsAreArray(in_order));
  }
}

// Keyset paging: a session created between pages shows up when it sorts after the rows already
// returned, and not at all (rather than twice, or in place of another) when it sorts before them.
TEST_F(ListTest, ASessionCreatedWhilePagingIsNotDuplicatedAndSkipsNothing) {
  std::vector<std::pair<int, v1::Event>> paged;  // page size, and an event of its own
  for (int page_size : {1, 2}) {
    const v1::Event event =
        NewEvent(absl::StrCat("Paged by ", page_size), absl::FromUnixSeconds(kDay));
    NewSession(event, "Midday", 4);
    NewSession(event, "Morning", 1);
    NewSession(event, "Evening", 10);
    NewSession(event, "Afternoon", 6);
    paged.emplace_back(page_size, event);
  }
  ASSERT_FALSE(HasFailure());

  for (const auto& [page_size, paged_event] : paged) {
    const v1::Event& event = paged_event;  // C++17 lambdas cannot capture a structured binding
    SCOPED_TRACE(absl::StrCat("page_size ", page_size));
    const std::vector<std::string> rows = ListAll(Sessions(event), page_size, [&] {
      NewSession(event, "Breakfast", 0);   // before every row returned so far
      NewSession(event, "Late lunch", 5);  // after them
    });
    EXPECT_THAT(rows,
                ElementsAreArray({"Morning", "Midday", "Late lunch", "Afternoon", "Evening"}));
    // And a fresh listing has every session, the new ones in their place.
    EXPECT_THAT(
        ListAll(Sessions(event), page_size),
        ElementsAreArray({"Breakfast", "Morning", "Midday", "Late lunch", "Afternoon", "Evening"}));
  }
}

// Events are listed in the order they were created (by id), whatever their dates.
TEST_F(ListTest, EventsComeOnceEachInCreationOrderWhateverThePageSize) {
  const absl::Time day = absl::FromUnixSeconds(kDay);
  NewEvent("Fresno, in a week", day + absl::Hours(24 * 7));
  NewEvent("Oakland, today", day);
  NewEvent("Los Angeles, in four days", day + absl::Hours(24 * 4));
  NewEvent("San Diego, yesterday", day - absl::Hours(24));
  ASSERT_FALSE(HasFailure());

  const std::vector<std::string> in_order = {"Fresno, in a week", "Oakland, today",
                                             "Los Angeles, in four days", "San Diego, yesterday"};
  for (int page_size : {1, 2, 3, 100}) {
    SCOPED_TRACE(absl::StrCat("page_size ", page_size));
    EXPECT_THAT(ListAll(Events(), page_size), ElementsAreArray(in_order));
  }
}

TEST_F(ListTest, AnEventCreatedWhilePagingComesOnceAtTheEnd) {
  const absl::Time day = absl::FromUnixSeconds(kDay);
  NewEvent("Fresno", day + absl::Hours(24 * 7));
  NewEvent("Oakland", day);
  NewEvent("Los Angeles", day + absl::Hours(24 * 4));
  ASSERT_FALSE(HasFailure());

  std::vector<std::string> expected = {"Fresno", "Oakland", "Los Angeles"};
  for (int page_size : {1, 2}) {
    SCOPED_TRACE(absl::StrCat("page_size ", page_size));
    const std::string added = absl::StrCat("Sacramento ", page_size);
    const std::vector<std::string> rows =
        ListAll(Events(), page_size, [&] { NewEvent(added, day - absl::Hours(24)); });
    expected.push_back(added);
    EXPECT_THAT(rows, ElementsAreArray(expected));
  }
}

// Registrations are listed in the order they were made (by id), with or without a name filter.
TEST_F(ListTest, RegistrationsComeOnceEachInRegistrationOrderWhateverThePageSize) {
  const v1::Event event = NewEvent("Oakland", absl::Now());
  for (const char* name : {"Zoe Park", "Ana Flores", "Mia Chen", "Ana Beltrán", "Ben Ortiz"}) {
    server_.Register(event.name(), name);
  }
  ASSERT_FALSE(HasFailure());

  for (int page_size : {1, 2, 3, 100}) {
    SCOPED_TRACE(absl::StrCat("page_size ", page_size));
    EXPECT_THAT(
        ListAll(Registrations(event), page_size),
        ElementsAreArray({"Zoe Park", "Ana Flores", "Mia Chen", "Ana Beltrán", "Ben Ortiz"}));
    EXPECT_THAT(ListAll(Registrations(event, "ana"), page_size),
                ElementsAreArray({"Ana Flores", "Ana Beltrán"}));
  }
}

TEST_F(ListTest, ARegistrationMadeWhilePagingComesOnceAtTheEnd) {
  const v1::Event event = NewEvent("Oakland", absl::Now());
  for (const char* name : {"Zoe Park", "Ana Flores", "Mia Chen"}) {
    server_.Register(event.name(), name);
  }
  ASSERT_FALSE(HasFailure());

  std::vector<std::string> expected = {"Zoe Park", "Ana Flores", "Mia Chen"};
  for (int page_size : {1, 2}) {
    SCOPED_TRACE(absl::StrCat("page_size ", page_size));
    const std::string added = absl::StrCat("Abel Ruiz ", page_size);
    const std::vector<std::string> rows =
        ListAll(Registrations(event), page_size, [&] { server_.Register(event.name(), added); });
    expected.push_back(added);
    EXPECT_THAT(rows, ElementsAreArray(expected));
  }
}

// A page token names the list it belongs to: given to another list (another event's sessions, the
// events, the registrations) it is refused, never read as a position in the wrong list.
TEST_F(ListTest, APageTokenOfAnotherListOrOfNoListIsInvalidArgument) {
  const v1::Event oakland = NewEvent("Oakland", absl::FromUnixSeconds(kDay));
  const v1::Event fresno = NewEvent("Fresno", absl::FromUnixSeconds(kDay));
  for (const v1::Event& e : {oakland, fresno}) {
    NewSession(e, "Morning", 1);
    NewSession(e, "Afternoon", 6);
    server_.Register(e.name(), "Ana Flores");
    server_.Register(e.name(), "Ben Ortiz");
  }
  ASSERT_FALSE(HasFailure());
  const std::string oakland_sessions = Sessions(oakland)(1, "").next_page_token;
  const std::string oakland_registrations = Registrations(oakland)(1, "").next_page_token;
  const std::string events = Events()(1, "").next_page_token;
  ASSERT_FALSE(oakland_sessions.empty());
  ASSERT_FALSE(oakland_registrations.empty());
  ASSERT_FALSE(events.empty());

  auto list_sessions = [&](const v1::Event& event, const std::string& token) {
    v1::ListSessionsRequest req;
    req.set_parent(event.name());
    req.set_page_size(1);
    req.set_page_token(token);
    v1::ListSessionsResponse resp;
    return server_.events().ListSessions(server_.AdminContext().get(), req, &resp);
  };
  auto list_registrations = [&](const v1::Event& event, const std::string& token) {
    v1::ListRegistrationsRequest req;
    req.set_parent(event.name());
    req.set_page_token(token);
    v1::ListRegistrationsResponse resp;
    return server_.registrations().ListRegistrations(server_.AdminContext().get(), req, &resp);
  };
  auto list_events = [&](const std::string& token) {
    v1::ListEventsRequest req;
    req.set_page_token(token);
    v1::ListEventsResponse resp;
    return server_.events().ListEvents(server_.AdminContext().get(), req, &resp);
  };
  ASSERT_TRUE(list_sessions(oakland, oakland_sessions).ok());
  ASSERT_TRUE(list_registrations(oakland, oakland_registrations).ok());
  ASSERT_TRUE(list_events(events).ok());

  const struct {
    std::string name;
    grpc::Status status;
  } kCases[] = {
      {"another event's sessions", list_sessions(fresno, oakland_sessions)},
      {"registrations' token for sessions", list_sessions(oakland, oakland_registrations)},
      {"events' token for sessions", list_sessions(oakland, events)},
      {"sessions' token for registrations", list_registrations(oakland, oakland_sessions)},
      {"another event's registrations", list_registrations(fresno, oakland_registrations)},
      {"sessions' token for events", list_events(oakland_sessions)},
      {"not base64", list_events("not a token!")},
      {"base64 of something else", list_events(absl::WebSafeBase64Escape("after:1"))},
      {"cut short", list_sessions(oakland, oakland_sessions.substr(0, 8))},
      {"too long", list_events(std::string(1000, 'A'))},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(c.status.error_message(), HasSubstr("page_token"));
    EXPECT_THAT(c.status.error_message(), HasSubstr("next_page_token"));
  }
}

}  // namespace
}  // namespace turnout::testing
