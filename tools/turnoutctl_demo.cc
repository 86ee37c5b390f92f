// The demo data of docs/design.md ("The reference scenario") and the practice training of the
// day; see turnoutctl_demo.h.
#include "tools/turnoutctl_demo.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/util/time_util.h"

namespace turnout::tools {
namespace {

using ::google::protobuf::util::TimeUtil;

struct City {
  const char* slug;  // in request ids
  const char* name;
  const char* date;
  const char* venue;
  const char* hall;      // the plenaries
  const char* rooms[5];  // one per track
};

constexpr City kCities[] = {
    {"oakland",
     "Oakland",
     "2015-10-15",
     "Preservation Park, 1233 Preservation Park Way, Oakland",
     "Nile Hall",
     {"Ginn House", "Pardee House", "Remillard House", "Hunter House", "Bishop House"}},
    {"los-angeles",
     "Los Angeles",
     "2015-10-19",
     "California Endowment Center for Healthy Communities, 1000 N Alameda St, Los Angeles",
     "Yosemite Hall",
     {"Redwood Room", "Sequoia Room", "Cypress Room", "Oak Room", "Sycamore Room"}},
};

struct Track {
  const char* slug;
  const char* title;
};

constexpr Track kTracks[] = {
    {"legislative", "Legislative advocacy"},
    {"detention", "Ending unjust detentions and deportations"},
    {"health", "Health and public benefits"},
    {"media", "Communications and media"},
    {"workers", "Workers' rights"},
};

constexpr int kEventCapacity = 300;
constexpr int kBreakoutCapacity = 40;
constexpr int kPracticeCapacity = 50;

// Both days fall in Pacific Daylight Time (UTC-7, until 2015-11-01): a fixed offset keeps the demo
// independent of the machine's time zone database.
google::protobuf::Timestamp At(const City& city, absl::string_view hh_mm) {
  absl::Time time;
  std::string error;
  absl::ParseTime(absl::RFC3339_full, absl::StrCat(city.date, "T", hh_mm, ":00-07:00"), &time,
                  &error);
  return TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(time));
}

v1::Session Plenary(const City& city, absl::string_view title, absl::string_view start,
                    absl::string_view end) {
  v1::Session session;
  session.set_title(std::string(title));
  session.set_kind(v1::Session::PLENARY);
  session.set_room(city.hall);
  session.set_capacity(kEventCapacity);
  session.set_requires_selection(false);
  session.set_allow_reentry(true);
  *session.mutable_start_time() = At(city, start);
  *session.mutable_end_time() = At(city, end);
  return session;
}

v1::Session Breakout(const City& city, int track, int round) {
  v1::Session session;
  session.set_title(kTracks[track].title);
  session.set_kind(v1::Session::BREAKOUT);
  session.set_track(kTracks[track].title);
  session.set_room(city.rooms[track]);
  session.set_round(round);
  session.set_capacity(kBreakoutCapacity);
  session.set_requires_selection(true);
  session.set_allow_reentry(true);
  *session.mutable_start_time() = At(city, round == 1 ? "10:45" : "13:00");
  *session.mutable_end_time() = At(city, round == 1 ? "12:00" : "14:15");
  return session;
}

google::protobuf::Timestamp Proto(absl::Time time) {
  return TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(time));
}

DemoEvent CityEvent(const City& city) {
  DemoEvent demo;
  const std::string id = absl::StrCat("demo-", city.slug, "-2015");
  demo.event.set_request_id(id);
  v1::Event& draft = *demo.event.mutable_event();
  draft.set_title(absl::StrCat(
      "Unlocking Our Power: Moving Pro-Immigrant Policies — 2015 Regional Training, ", city.name));
  draft.set_venue(city.venue);
  draft.set_time_zone("America/Los_Angeles");
  *draft.mutable_doors_open_time() = At(city, "08:00");  // registration and breakfast
  *draft.mutable_start_time() = At(city, "08:00");
  *draft.mutable_end_time() = At(city, "16:30");
  draft.set_capacity(kEventCapacity);
  draft.set_allow_reentry(true);  // people step out at lunch

  demo.sessions.push_back({id + "-morning-plenary",
                           Plenary(city, "Morning plenary with guest speakers", "09:00", "10:30")});
  for (int round = 1; round <= 2; ++round) {
    for (int track = 0; track < 5; ++track) {
      demo.sessions.push_back(
          {absl::StrCat(id, "-r", round, "-", kTracks[track].slug), Breakout(city, track, round)});
    }
  }
  // Lunch, 12:00-13:00, is not a session: nobody is scanned into it.
  demo.sessions.push_back(
      {id + "-afternoon-plenary", Plenary(city, "Afternoon plenary", "14:30", "16:00")});
  return demo;
}

// Creates (or finds) the event and its sessions, then publishes the event.
absl::StatusOr<v1::Event> Load(const client::Client& client, const DemoEvent& demo) {
  absl::StatusOr<v1::Event> event = client.CreateEvent(demo.event);
  if (!event.ok()) return event.status();
  for (const auto& [request_id, session] : demo.sessions) {
    v1::CreateSessionRequest request;
    request.set_parent(event->name());
    request.set_request_id(request_id);
    *request.mutable_session() = session;
    if (absl::Status s = client.CreateSession(request).status(); !s.ok()) return s;
  }
  if (event->state() == v1::Event::PUBLISHED) return event;

  v1::UpdateEventRequest publish;
  publish.mutable_event()->set_name(event->name());
  publish.mutable_event()->set_state(v1::Event::PUBLISHED);
  publish.mutable_update_mask()->add_paths("state");
  return client.UpdateEvent(publish);
}

}  // namespace

DemoEvent PracticeEvent(absl::Time now, const std::string& time_zone) {
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(time_zone, &zone)) zone = absl::UTCTimeZone();
  const std::string day = absl::FormatTime("%Y-%m-%d", now, zone);
  const absl::Time doors_open =
      absl::Floor(now - absl::UnixEpoch(), absl::Minutes(1)) + absl::UnixEpoch();
  // Sessions start half an hour after the doors open, so their rooms (open 30 minutes before a
  // session) take scans from the start too.
  const absl::Time sessions_start = doors_open + absl::Minutes(30);

  DemoEvent demo;
  const std::string id = absl::StrCat("demo-practice-", day);
  demo.event.set_request_id(id);
  v1::Event& draft = *demo.event.mutable_event();
  draft.set_title(absl::StrCat("Door practice ", day, " (not a real training)"));
  draft.set_venue("Wherever you are practising");
  draft.set_time_zone(time_zone);
  *draft.mutable_doors_open_time() = Proto(doors_open);
  *draft.mutable_start_time() = Proto(doors_open);
  *draft.mutable_end_time() = Proto(doors_open + absl::Hours(8));
  draft.set_capacity(kPracticeCapacity);
  draft.set_allow_reentry(true);

  v1::Session plenary;
  plenary.set_title("Practice plenary");
  plenary.set_kind(v1::Session::PLENARY);
  plenary.set_room("Main hall");
  plenary.set_capacity(kPracticeCapacity);
  plenary.set_allow_reentry(true);
  *plenary.mutable_start_time() = Proto(sessions_start);
  *plenary.mutable_end_time() = Proto(sessions_start + absl::Hours(3));
  demo.sessions.push_back({id + "-plenary", plenary});
  for (int track = 0; track < 2; ++track) {
    v1::Session breakout;
    breakout.set_title(absl::StrCat("Practice breakout: ", kTracks[track].title));
    breakout.set_kind(v1::Session::BREAKOUT);
    breakout.set_track(kTracks[track].title);
    breakout.set_room(track == 0 ? "Room A" : "Room B");
    breakout.set_round(1);
    breakout.set_capacity(kBreakoutCapacity);
    breakout.set_requires_selection(true);
    breakout.set_allow_reentry(true);
    *breakout.mutable_start_time() = Proto(sessions_start);
    *breakout.mutable_end_time() = Proto(sessions_start + absl::Hours(2));
    demo.sessions.push_back({absl::StrCat(id, "-r1-", kTracks[track].slug), breakout});
  }
  return demo;
}

absl::StatusOr<std::vector<v1::Event>> LoadDemo(const client::Client& client, absl::Time now,
                                                const std::string& time_zone) {
  std::vector<DemoEvent> demos;
  for (const City& city : kCities) demos.push_back(CityEvent(city));
  demos.push_back(PracticeEvent(now, time_zone));
  std::vector<v1::Event> events;
  for (const DemoEvent& demo : demos) {
    absl::StatusOr<v1::Event> event = Load(client, demo);
    if (!event.ok()) return event.status();
    events.push_back(*std::move(event));
  }
  return events;
}

}  // namespace turnout::tools
