// turnoutctl: the organizer's command line for Turnout. Sets up events and sessions, registers and
// imports attendees, prints tickets, scans once, shows counts, manages device tokens and signing
// keys, and loads the demo data. Each subcommand is a small function over client-lib, listed in
// kCommands, which also makes the usage text.
//
//   turnoutctl demo
//   turnoutctl --token_file=./data/admin.token registrations events/1 --status=waitlisted
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "client-lib/attendance_watcher.h"
#include "client-lib/client.h"
#include "client-lib/csv.h"
#include "client-lib/names.h"
#include "google/protobuf/util/time_util.h"
#include "tools/common/connection.h"
#include "tools/common/time_format.h"
#include "tools/turnoutctl_demo.h"
#include "tools/turnoutctl_print.h"

// Connection flags (--server, --token, --token_file, --tls, ...) are in tools/common/connection.h.
ABSL_FLAG(std::string, language, "",
          "language of scan answers, and a registrant's preferred language (en, es, ...)");
// Events and sessions.
ABSL_FLAG(std::string, title, "", "event or session title");
ABSL_FLAG(std::string, venue, "", "event venue");
ABSL_FLAG(std::string, time_zone, "", "event time zone, e.g. America/Los_Angeles");
ABSL_FLAG(std::string, start, "", "start time, RFC 3339");
ABSL_FLAG(std::string, end, "", "end time, RFC 3339");
ABSL_FLAG(std::string, doors_open, "", "when doors open for check-in, RFC 3339");
ABSL_FLAG(int32_t, capacity, 0, "event or room capacity; 0 means unlimited");
ABSL_FLAG(bool, allow_reentry, true,
          "allow entering again after an exit; --noallow_reentry admits each ticket once");
ABSL_FLAG(std::string, kind, "", "session kind: plenary|breakout|other");
ABSL_FLAG(std::string, track, "", "session track");
ABSL_FLAG(std::string, room, "", "session room");
ABSL_FLAG(int32_t, round, 0, "breakout round (1, 2, ...); 0 for plenaries");
ABSL_FLAG(bool, requires_selection, false, "only attendees who chose the session may enter");
// Registrations.
ABSL_FLAG(std::string, name, "", "display name of a registrant or walk-in");
ABSL_FLAG(std::string, email, "", "email of a registrant");
ABSL_FLAG(std::string, phone, "", "phone of a registrant");
ABSL_FLAG(std::vector<std::string>, flags, {},
          "attention flags: spanish_interpretation,english_interpretation,accessibility,"
          "childcare,dietary");
ABSL_FLAG(std::vector<std::string>, sessions, {}, "breakouts chosen, one per round");
ABSL_FLAG(std::string, status, "",
          "only registrations with this status: confirmed|waitlisted|canceled");
ABSL_FLAG(std::string, prefix, "", "only registrations whose display name starts with this");
ABSL_FLAG(std::string, manage_secret, "",
          "the attendee's manage secret (from the confirmation), to act as the attendee without a "
          "token: cancel, choose, ticket");
ABSL_FLAG(std::string, png, "", "write the ticket's QR code as PNG to this file");
ABSL_FLAG(std::string, svg, "", "write the ticket's QR code as SVG to this file");
// The door.
ABSL_FLAG(std::string, checkpoint, "", "checkpoint; default: the event's entrance");
ABSL_FLAG(bool, exit, false, "record an exit instead of an entry");
ABSL_FLAG(std::string, at, "", "the scan's time, RFC 3339; default: now");
// Administration.
ABSL_FLAG(std::string, role, "", "token role: door|dashboard|organizer|admin");
ABSL_FLAG(std::string, event, "", "event a token is limited to");
ABSL_FLAG(std::string, label, "", "token label, e.g. \"Oakland door 2\"");
ABSL_FLAG(bool, yes, false, "confirm an irreversible command");
ABSL_FLAG(bool, force, false, "purge: even before the event has ended (its check-in closes)");

namespace turnout::tools {
namespace {

using client::Client;
using client::EnumFromShortName;
using client::EnumShortName;
using client::Qualify;
using ::google::protobuf::util::TimeUtil;
using Args = std::vector<std::string>;

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitNotAdmitted = 3;

// Printed after the commands by --help and after a usage error.
constexpr char kUsageNotes[] = R"(
EVENT is "events/1" or just "1"; sessions and checkpoints may be given by id within their event
(S1 = 3 for events/1/sessions/3); FILE.csv may be '-' for stdin.
REG is a full name, "events/1/registrations/7". Times are RFC 3339: 2015-10-15T08:00:00-07:00.
The token is --token, else $TURNOUT_TOKEN, else the contents of --token_file (./data/admin.token).
Exit status: 0 done; 1 error; 2 usage error; 3 a scan or walk-in that was not admitted.)";

// A mistake in the command line: reported with the usage text and exit status 2.
constexpr char kUsagePayload[] = "turnoutctl/usage";

absl::Status UsageError(absl::string_view message) {
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kUsagePayload, absl::Cord());
  return status;
}

bool IsUsageError(const absl::Status& status) {
  return status.GetPayload(kUsagePayload).has_value();
}

// Files.

absl::Status WriteFile(const std::string& path, absl::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  out.close();
  if (!out) return absl::ErrnoToStatus(errno, absl::StrCat("cannot write ", path));
  std::cerr << "wrote " << path << "\n";
  return absl::OkStatus();
}

// Command-line values.

std::string EventArg(absl::string_view arg) { return Qualify("", "events", arg); }

// The event a child resource name belongs to, for qualifying sibling names typed as bare ids.
absl::StatusOr<std::string> EventOf(absl::string_view name) {
  absl::StatusOr<client::ResourceName> parsed = client::ParseResourceName(name);
  if (!parsed.ok()) return UsageError(parsed.status().message());
  return parsed->Event();
}

// Sets `out` from the RFC 3339 time flag `flag` when `value` is set.
absl::Status SetTime(absl::string_view flag, const std::string& value,
                     google::protobuf::Timestamp& out) {
  if (value.empty()) return absl::OkStatus();
  absl::Time time;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, value, &time, &error)) {
    return UsageError(absl::StrCat("--", flag, ": ", error,
                                   " (expected RFC 3339, e.g. 2015-10-15T08:00:00-07:00)"));
  }
  out = TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(time));
  return absl::OkStatus();
}

absl::Status RequireFlag(absl::string_view flag, const std::string& value) {
  return value.empty() ? UsageError(absl::StrCat("--", flag, " is required")) : absl::OkStatus();
}

template <typename Enum>
absl::StatusOr<Enum> EnumFlag(absl::string_view flag, const std::string& value,
                              absl::string_view prefix) {
  absl::StatusOr<Enum> parsed = EnumFromShortName<Enum>(value, prefix);
  if (!parsed.ok()) return UsageError(absl::StrCat("--", flag, ": ", parsed.status().message()));
  return parsed;
}

// Fills the registration fields given by --name, --email, --phone, --language and --flags.
absl::Status RegistrationFromFlags(v1::Registration& registration) {
  if (absl::Status s = RequireFlag("name", absl::GetFlag(FLAGS_name)); !s.ok()) return s;
  registration.set_display_name(absl::GetFlag(FLAGS_name));
  registration.set_email(absl::GetFlag(FLAGS_email));
  registration.set_phone(absl::GetFlag(FLAGS_phone));
  registration.set_preferred_language(absl::GetFlag(FLAGS_language));
  for (const std::string& name : absl::GetFlag(FLAGS_flags)) {
    absl::StatusOr<v1::AttentionFlag> flag =
        EnumFlag<v1::AttentionFlag>("flags", name, "ATTENTION_FLAG_");
    if (!flag.ok()) return flag.status();
    registration.add_attention_flags(*flag);
  }
  return absl::OkStatus();
}

// Calls `list(request)` page after page, handing each page to `on_page`.
template <typename Request, typename List, typename OnPage>
absl::Status ForEachPage(Request request, List list, OnPage on_page) {
  do {
    auto page = list(request);
    if (!page.ok()) return page.status();
    on_page(*page);
    request.set_page_token(page->next_page_token());
  } while (!request.page_token().empty());
  return absl::OkStatus();
}

int ScanExitCode(const v1::ScanResult& result) {
  return result.status() == v1::ScanResult::ADMITTED ||
                 result.status() == v1::ScanResult::EXIT_RECORDED
             ? kExitOk
             : kExitNotAdmitted;
}

// Subcommands. Each gets its positional arguments after the command words.

absl::StatusOr<int> EventsList(const Client& client, const Args&) {
  Table rows = {{"NAME", "STATE", "START", "CAPACITY", "CONFIRMED", "TITLE"}};
  v1::ListEventsRequest request;
  request.set_page_size(100);
  absl::Status status = ForEachPage(
      request, [&](const auto& r) { return client.ListEvents(r); },
      [&](const v1::ListEventsResponse& page) {
        for (const v1::Event& e : page.events()) {
          rows.push_back({e.name(), v1::Event::State_Name(e.state()),
                          FormatTime(e.start_time(), Zone(e.time_zone())), Capacity(e.capacity()),
                          absl::StrCat(e.confirmed_count()), e.title()});
        }
      });
  if (!status.ok()) return status;
  PrintTable(rows);
  return kExitOk;
}

absl::StatusOr<int> EventsGet(const Client& client, const Args& args) {
  v1::GetEventRequest request;
  request.set_name(EventArg(args[0]));
  absl::StatusOr<v1::Event> event = client.GetEvent(request);
  if (!event.ok()) return event.status();
  PrintEvent(*event);
  return kExitOk;
}

absl::StatusOr<int> EventsCreate(const Client& client, const Args&) {
  for (absl::Status s : {RequireFlag("title", absl::GetFlag(FLAGS_title)),
                         RequireFlag("time_zone", absl::GetFlag(FLAGS_time_zone)),
                         RequireFlag("start", absl::GetFlag(FLAGS_start)),
                         RequireFlag("end", absl::GetFlag(FLAGS_end))}) {
    if (!s.ok()) return s;
  }
  v1::CreateEventRequest request;
  request.set_request_id(client::NewRequestId());
  v1::Event& event = *request.mutable_event();
  event.set_title(absl::GetFlag(FLAGS_title));
  event.set_venue(absl::GetFlag(FLAGS_venue));
  event.set_time_zone(absl::GetFlag(FLAGS_time_zone));
  event.set_capacity(absl::GetFlag(FLAGS_capacity));
  event.set_allow_reentry(absl::GetFlag(FLAGS_allow_reentry));
  for (absl::Status s :
       {SetTime("start", absl::GetFlag(FLAGS_start), *event.mutable_start_time()),
        SetTime("end", absl::GetFlag(FLAGS_end), *event.mutable_end_time()),
        SetTime("doors_open", absl::GetFlag(FLAGS_doors_open), *event.mutable_doors_open_time())}) {
    if (!s.ok()) return s;
  }
  absl::StatusOr<v1::Event> created = client.CreateEvent(request);
  if (!created.ok()) return created.status();
  PrintEvent(*created);
  return kExitOk;
}

absl::StatusOr<int> EventsPublish(const Client& client, const Args& args) {
  v1::UpdateEventRequest request;
  request.mutable_event()->set_name(EventArg(args[0]));
  request.mutable_event()->set_state(v1::Event::PUBLISHED);
  request.mutable_update_mask()->add_paths("state");
  absl::StatusOr<v1::Event> event = client.UpdateEvent(request);
  if (!event.ok()) return event.status();
  std::cout << event->name() << " " << v1::Event::State_Name(event->state()) << "\n";
  return kExitOk;
}

absl::StatusOr<int> SessionsList(const Client& client, const Args& args) {
  v1::GetEventRequest get;
  get.set_name(EventArg(args[0]));
  absl::StatusOr<v1::Event> event = client.GetEvent(get);
  if (!event.ok()) return event.status();
  const absl::TimeZone zone = Zone(event->time_zone());
  Table rows = {
      {"NAME", "KIND", "ROUND", "START", "END", "ROOM", "CAPACITY", "CHOSEN", "ENTRY", "TITLE"}};
  v1::ListSessionsRequest request;
  request.set_parent(event->name());
  request.set_page_size(100);
  absl::Status status = ForEachPage(
      request, [&](const auto& r) { return client.ListSessions(r); },
      [&](const v1::ListSessionsResponse& page) {
        for (const v1::Session& s : page.sessions()) {
          rows.push_back({s.name(), EnumShortName(s.kind(), ""), absl::StrCat(s.round()),
                          FormatTime(s.start_time(), zone), FormatTime(s.end_time(), zone, "%H:%M"),
                          s.room(), Capacity(s.capacity()),
                          absl::StrCat(s.confirmed_count(), "+", s.waitlisted_count()),
                          s.requires_selection() ? "chosen" : "open", s.title()});
        }
      });
  if (!status.ok()) return status;
  PrintTable(rows);
  return kExitOk;
}

absl::StatusOr<int> SessionsCreate(const Client& client, const Args& args) {
  if (absl::Status s = RequireFlag("title", absl::GetFlag(FLAGS_title)); !s.ok()) return s;
  v1::CreateSessionRequest request;
  request.set_parent(EventArg(args[0]));
  request.set_request_id(client::NewRequestId());
  v1::Session& session = *request.mutable_session();
  session.set_title(absl::GetFlag(FLAGS_title));
  if (!absl::GetFlag(FLAGS_kind).empty()) {
    absl::StatusOr<v1::Session::Kind> kind =
        EnumFlag<v1::Session::Kind>("kind", absl::GetFlag(FLAGS_kind), "");
    if (!kind.ok()) return kind.status();
    session.set_kind(*kind);
  }
  session.set_track(absl::GetFlag(FLAGS_track));
  session.set_room(absl::GetFlag(FLAGS_room));
  session.set_round(absl::GetFlag(FLAGS_round));
  session.set_capacity(absl::GetFlag(FLAGS_capacity));
  session.set_requires_selection(absl::GetFlag(FLAGS_requires_selection));
  session.set_allow_reentry(absl::GetFlag(FLAGS_allow_reentry));
  for (absl::Status s :
       {SetTime("start", absl::GetFlag(FLAGS_start), *session.mutable_start_time()),
        SetTime("end", absl::GetFlag(FLAGS_end), *session.mutable_end_time())}) {
    if (!s.ok()) return s;
  }
  absl::StatusOr<v1::Session> created = client.CreateSession(request);
  if (!created.ok()) return created.status();
  std::cout << created->name() << "\n";
  return kExitOk;
}

absl::StatusOr<int> Checkpoints(const Client& client, const Args& args) {
  v1::GetEventRequest get;
  get.set_name(EventArg(args[0]));
  absl::StatusOr<v1::Event> event = client.GetEvent(get);
  if (!event.ok()) return event.status();
  v1::ListCheckpointsRequest request;
  request.set_parent(event->name());
  absl::StatusOr<v1::ListCheckpointsResponse> list = client.ListCheckpoints(request);
  if (!list.ok()) return list.status();
  const absl::TimeZone zone = Zone(event->time_zone());
  Table rows = {{"NAME", "OPEN", "CLOSE", "CAPACITY", "ENTRY", "RE-ENTRY", "TITLE"}};
  for (const v1::Checkpoint& c : list->checkpoints()) {
    rows.push_back({c.name(), FormatTime(c.open_time(), zone), FormatTime(c.close_time(), zone),
                    Capacity(c.capacity()), c.requires_selection() ? "chosen" : "open",
                    c.allow_reentry() ? "yes" : "no", c.title()});
  }
  PrintTable(rows);
  return kExitOk;
}

absl::StatusOr<int> Register(const Client& client, const Args& args) {
  v1::RegisterRequest request;
  request.set_parent(EventArg(args[0]));
  request.set_request_id(client::NewRequestId());
  if (absl::Status s = RegistrationFromFlags(*request.mutable_registration()); !s.ok()) return s;
  for (const std::string& session : absl::GetFlag(FLAGS_sessions)) {
    request.mutable_registration()->add_session_choices()->set_session(
        Qualify(request.parent(), "sessions", session));
  }
  absl::StatusOr<v1::RegisterResponse> response = client.Register(request);
  if (!response.ok()) return response.status();
  PrintTable(ConfirmationRows(*response));
  return kExitOk;
}

absl::StatusOr<int> Registrations(const Client& client, const Args& args) {
  v1::ListRegistrationsRequest request;
  request.set_parent(EventArg(args[0]));
  request.set_page_size(500);
  request.set_name_prefix(absl::GetFlag(FLAGS_prefix));
  if (!absl::GetFlag(FLAGS_status).empty()) {
    absl::StatusOr<v1::Registration::Status> status =
        EnumFlag<v1::Registration::Status>("status", absl::GetFlag(FLAGS_status), "");
    if (!status.ok()) return status.status();
    request.set_status(*status);
  }
  Table rows = {{"NAME", "STATUS", "SOURCE", "LANG", "FLAGS", "DISPLAY NAME", "BREAKOUTS"}};
  absl::Status status = ForEachPage(
      request, [&](const auto& r) { return client.ListRegistrations(r); },
      [&](const v1::ListRegistrationsResponse& page) {
        for (const v1::Registration& r : page.registrations()) {
          rows.push_back({r.name(), EnumShortName(r.status(), ""), EnumShortName(r.source(), ""),
                          r.preferred_language(), FlagNames(r.attention_flags()), r.display_name(),
                          Choices(r.session_choices())});
        }
      });
  if (!status.ok()) return status;
  PrintTable(rows);
  std::cout << rows.size() - 1 << " registrations\n";
  return kExitOk;
}

absl::StatusOr<int> Cancel(const Client& client, const Args& args) {
  v1::CancelRegistrationRequest request;
  request.set_name(args[0]);
  request.set_manage_secret(absl::GetFlag(FLAGS_manage_secret));
  absl::StatusOr<v1::Registration> registration = client.CancelRegistration(request);
  if (!registration.ok()) return registration.status();
  std::cout << registration->name() << " " << v1::Registration::Status_Name(registration->status())
            << "\n";
  return kExitOk;
}

absl::StatusOr<int> Choose(const Client& client, const Args& args) {
  absl::StatusOr<std::string> event = EventOf(args[0]);
  if (!event.ok()) return event.status();
  v1::UpdateSessionChoicesRequest request;
  request.set_name(args[0]);
  request.set_manage_secret(absl::GetFlag(FLAGS_manage_secret));
  if (args.size() > 1) {
    for (absl::string_view session : absl::StrSplit(args[1], ',', absl::SkipWhitespace())) {
      request.add_sessions(Qualify(*event, "sessions", absl::StripAsciiWhitespace(session)));
    }
  }
  absl::StatusOr<v1::Registration> registration = client.UpdateSessionChoices(request);
  if (!registration.ok()) return registration.status();
  std::cout << registration->name() << ": " << Choices(registration->session_choices()) << "\n";
  return kExitOk;
}

absl::StatusOr<int> Import(const Client& client, const Args& args) {
  absl::StatusOr<std::string> csv = ReadFile(args[1]);
  if (!csv.ok()) return csv.status();
  absl::StatusOr<std::vector<v1::ImportRegistrationsRequest>> rows =
      client::RosterRowsFromCsv(*csv, EventArg(args[0]));
  if (!rows.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(args[1] == "-" ? "stdin" : args[1], ": ", rows.status().message()));
  }
  absl::StatusOr<v1::ImportRegistrationsResponse> response = client.ImportRegistrations(*rows);
  if (!response.ok()) return response.status();
  std::cout << "imported " << response->imported() << ", already imported "
            << response->already_imported() << ", waitlisted " << response->waitlisted() << "\n";
  return kExitOk;
}

absl::StatusOr<int> Ticket(const Client& client, const Args& args) {
  v1::GetTicketRequest request;
  request.set_name(args[0]);
  request.set_manage_secret(absl::GetFlag(FLAGS_manage_secret));
  absl::StatusOr<v1::Ticket> ticket = client.GetTicket(request);
  if (!ticket.ok()) return ticket.status();
  std::cout << ticket->code() << "\n";
  if (const std::string png = absl::GetFlag(FLAGS_png); !png.empty()) {
    if (absl::Status s = WriteFile(png, ticket->qr_png()); !s.ok()) return s;
  }
  if (const std::string svg = absl::GetFlag(FLAGS_svg); !svg.empty()) {
    if (absl::Status s = WriteFile(svg, ticket->qr_svg()); !s.ok()) return s;
  }
  return kExitOk;
}

absl::StatusOr<int> Reissue(const Client& client, const Args& args) {
  v1::ReissueTicketRequest request;
  request.set_name(args[0]);
  absl::StatusOr<v1::Ticket> ticket = client.ReissueTicket(request);
  if (!ticket.ok()) return ticket.status();
  std::cout << ticket->code() << "\n";
  return kExitOk;
}

absl::StatusOr<int> ManageSecret(const Client& client, const Args& args) {
  v1::IssueManageSecretRequest request;
  request.set_name(args[0]);
  absl::StatusOr<v1::IssueManageSecretResponse> issued = client.IssueManageSecret(request);
  if (!issued.ok()) return issued.status();
  std::cout << issued->manage_secret() << "\n";
  return kExitOk;
}

// The time zone of the event named on the command line, in which its times are shown.
absl::StatusOr<absl::TimeZone> EventZone(const Client& client, const std::string& event) {
  v1::GetEventRequest get;
  get.set_name(event);
  absl::StatusOr<v1::Event> got = client.GetEvent(get);
  if (!got.ok()) return got.status();
  return Zone(got->time_zone());
}

absl::StatusOr<int> Scan(const Client& client, const Args& args) {
  v1::ScanRequest request;
  request.set_event(EventArg(args[0]));
  absl::StatusOr<absl::TimeZone> zone = EventZone(client, request.event());
  if (!zone.ok()) return zone.status();
  request.set_code(args[1]);
  request.set_client_scan_id(client::NewRequestId());
  request.set_language(absl::GetFlag(FLAGS_language));
  request.set_direction(absl::GetFlag(FLAGS_exit) ? v1::SCAN_DIRECTION_EXIT
                                                  : v1::SCAN_DIRECTION_ENTRY);
  if (const std::string checkpoint = absl::GetFlag(FLAGS_checkpoint); !checkpoint.empty()) {
    request.set_checkpoint(Qualify(request.event(), "checkpoints", checkpoint));
  }
  // Without --at the scan is made now, by the server's clock: scan_time stays unset (an empty
  // one would read as 1970).
  if (const std::string at = absl::GetFlag(FLAGS_at); !at.empty()) {
    if (absl::Status s = SetTime("at", at, *request.mutable_scan_time()); !s.ok()) return s;
  }
  absl::StatusOr<v1::ScanResult> result = client.Scan(request);
  if (!result.ok()) return result.status();
  PrintTable(ScanResultRows(*result, *zone));
  return ScanExitCode(*result);
}

absl::StatusOr<int> Search(const Client& client, const Args& args) {
  v1::SearchAttendeesRequest request;
  request.set_event(EventArg(args[0]));
  request.set_query(args[1]);
  absl::StatusOr<v1::SearchAttendeesResponse> response = client.SearchAttendees(request);
  if (!response.ok()) return response.status();
  Table rows = {{"REGISTRATION", "STATUS", "CHECKED IN", "FLAGS", "DISPLAY NAME"}};
  for (const v1::AttendeeMatch& a : response->attendees()) {
    rows.push_back({a.registration(), EnumShortName(a.status(), ""), a.checked_in() ? "yes" : "no",
                    FlagNames(a.attention_flags()), a.display_name()});
  }
  PrintTable(rows);
  return kExitOk;
}

absl::StatusOr<int> WalkIn(const Client& client, const Args& args) {
  v1::CheckInWalkInRequest request;
  request.set_event(EventArg(args[0]));
  absl::StatusOr<absl::TimeZone> zone = EventZone(client, request.event());
  if (!zone.ok()) return zone.status();
  request.set_client_scan_id(client::NewRequestId());
  request.set_language(absl::GetFlag(FLAGS_language));
  if (const std::string checkpoint = absl::GetFlag(FLAGS_checkpoint); !checkpoint.empty()) {
    request.set_checkpoint(Qualify(request.event(), "checkpoints", checkpoint));
  }
  if (absl::Status s = RegistrationFromFlags(*request.mutable_registration()); !s.ok()) return s;
  absl::StatusOr<v1::CheckInWalkInResponse> response = client.CheckInWalkIn(request);
  if (!response.ok()) return response.status();
  Table rows = {{"registration:", response->registration().name()},
                {"ticket:", response->ticket().code()}};
  for (auto& row : ScanResultRows(response->result(), *zone)) rows.push_back(std::move(row));
  PrintTable(rows);
  return ScanExitCode(response->result());
}

absl::StatusOr<int> Counts(const Client& client, const Args& args) {
  v1::GetAttendanceRequest request;
  request.set_event(EventArg(args[0]));
  absl::StatusOr<v1::Attendance> attendance = client.GetAttendance(request);
  if (!attendance.ok()) return attendance.status();
  PrintAttendance(*attendance);
  return kExitOk;
}

// The counts, redrawn in place on a terminal (frames one after another when piped), until Ctrl-C.
// A heartbeat redraws only the "heard" time; a dropped stream keeps the last counts on screen under
// "reconnecting…" until the watcher's next snapshot replaces them.
absl::StatusOr<int> Watch(const Client& client, const Args& args) {
  const std::string event = EventArg(args[0]);
  const bool terminal = isatty(STDOUT_FILENO) != 0;
  // Touched by the watcher's thread only (its callbacks run one at a time), until `failed`.
  std::optional<v1::AttendanceUpdate> latest;
  client::WatchState state = client::WatchState::kConnecting;
  absl::Status why;
  absl::Time heard = absl::InfinitePast();
  absl::Notification failed;
  auto draw = [&] {
    std::cout << (terminal ? "\x1b[H\x1b[2J" : "\n") << event << "  ";
    if (state == client::WatchState::kLive) {
      std::cout << "live";
    } else {
      std::cout << (state == client::WatchState::kReconnecting ? "reconnecting…"
                    : state == client::WatchState::kFailed     ? "stopped"
                                                               : "connecting…");
      if (!why.ok()) std::cout << " (" << why.ToString() << ")";
    }
    if (latest.has_value()) {
      std::cout << "  counts as of "
                << FormatTime(latest->attendance().as_of(), absl::LocalTimeZone(), "%H:%M:%S")
                << ", sequence " << latest->sequence() << ", heard "
                << absl::FormatTime("%H:%M:%S", heard, absl::LocalTimeZone()) << "\n\n";
      PrintAttendance(latest->attendance());
    } else {
      std::cout << "\n";
    }
    std::cout.flush();
  };
  client::AttendanceWatcher watcher(
      client, event, client::WatcherOptions{},
      [&](const v1::AttendanceUpdate& update) {
        heard = absl::Now();
        // A heartbeat repeats the counts; keep the sequence of the update they came with.
        if (!update.heartbeat() || !latest.has_value()) latest = update;
        draw();
      },
      [&](client::WatchState new_state, const absl::Status& new_why) {
        state = new_state;
        why = new_why;
        draw();
        if (state == client::WatchState::kFailed) failed.Notify();
      });
  failed.WaitForNotification();
  return why;
}

absl::StatusOr<int> Export(const Client& client, const Args& args) {
  v1::ExportAttendanceRequest request;
  request.set_event(EventArg(args[0]));
  absl::StatusOr<std::string> csv = client.ExportAttendance(request);
  if (!csv.ok()) return csv.status();
  if (args.size() > 1) {
    if (absl::Status s = WriteFile(args[1], *csv); !s.ok()) return s;
  } else {
    std::cout << *csv;
  }
  return kExitOk;
}

absl::StatusOr<int> Purge(const Client& client, const Args& args) {
  if (!absl::GetFlag(FLAGS_yes)) {
    return UsageError("purge erases names and contact data for good; add --yes to confirm");
  }
  v1::PurgePersonalDataRequest request;
  request.set_event(EventArg(args[0]));
  request.set_force(absl::GetFlag(FLAGS_force));
  absl::StatusOr<v1::PurgePersonalDataResponse> response = client.PurgePersonalData(request);
  if (!response.ok()) return response.status();
  std::cout << "purged " << response->registrations_purged() << " registrations of "
            << request.event() << "; purged at "
            << FormatTime(response->purge_time(), absl::LocalTimeZone()) << "\n";
  if (!response->vacuumed()) {
    std::cout << "the tables were not rewritten yet (busy); run the purge again later\n";
  }
  return kExitOk;
}

absl::StatusOr<int> Audit(const Client& client, const Args&) {
  std::vector<v1::AuditEntry> entries;
  v1::ListAuditEntriesRequest request;
  request.set_page_size(1000);
  absl::Status status = ForEachPage(
      request, [&](const auto& r) { return client.ListAuditEntries(r); },
      [&](const v1::ListAuditEntriesResponse& page) {
        entries.insert(entries.end(), page.entries().begin(), page.entries().end());
      });
  if (!status.ok()) return status;
  PrintAuditEntries(entries);
  return kExitOk;
}

absl::StatusOr<int> TokensCreate(const Client& client, const Args&) {
  absl::StatusOr<v1::Role> role = EnumFlag<v1::Role>("role", absl::GetFlag(FLAGS_role), "ROLE_");
  if (!role.ok()) return role.status();
  v1::CreateDeviceTokenRequest request;
  request.set_role(*role);
  if (const std::string event = absl::GetFlag(FLAGS_event); !event.empty()) {
    request.set_event(EventArg(event));
  }
  request.set_label(absl::GetFlag(FLAGS_label));
  absl::StatusOr<v1::CreateDeviceTokenResponse> response = client.CreateDeviceToken(request);
  if (!response.ok()) return response.status();
  // The name goes to stderr and the secret alone to stdout, so `$(turnoutctl tokens create ...)`
  // captures just the secret.
  std::cerr << "created " << response->token().name() << "; its secret is shown only this once:\n";
  std::cout << response->secret() << "\n";
  return kExitOk;
}

absl::StatusOr<int> TokensList(const Client& client, const Args&) {
  v1::ListDeviceTokensRequest request;
  if (const std::string event = absl::GetFlag(FLAGS_event); !event.empty()) {
    request.set_event(EventArg(event));
  }
  absl::StatusOr<v1::ListDeviceTokensResponse> response = client.ListDeviceTokens(request);
  if (!response.ok()) return response.status();
  Table rows = {{"NAME", "ROLE", "EVENT", "CREATED", "REVOKED", "LABEL"}};
  for (const v1::DeviceToken& t : response->tokens()) {
    rows.push_back({t.name(), EnumShortName(t.role(), "ROLE_"),
                    t.event().empty() ? "all" : t.event(),
                    FormatTime(t.create_time(), absl::LocalTimeZone()),
                    FormatTime(t.revoke_time(), absl::LocalTimeZone()), t.label()});
  }
  PrintTable(rows);
  return kExitOk;
}

absl::StatusOr<int> TokensRevoke(const Client& client, const Args& args) {
  v1::RevokeDeviceTokenRequest request;
  request.set_name(Qualify("", "tokens", args[0]));
  absl::StatusOr<v1::DeviceToken> token = client.RevokeDeviceToken(request);
  if (!token.ok()) return token.status();
  std::cout << token->name() << " revoked\n";
  return kExitOk;
}

absl::StatusOr<int> KeysRotate(const Client& client, const Args&) {
  absl::StatusOr<v1::SigningKeyInfo> key = client.RotateSigningKey({});
  if (!key.ok()) return key.status();
  PrintKeys({*key});
  return kExitOk;
}

absl::StatusOr<int> KeysList(const Client& client, const Args&) {
  absl::StatusOr<v1::ListSigningKeysResponse> response = client.ListSigningKeys({});
  if (!response.ok()) return response.status();
  PrintKeys({response->keys().begin(), response->keys().end()});
  return kExitOk;
}

absl::StatusOr<int> KeysRevoke(const Client& client, const Args& args) {
  v1::RevokeSigningKeyRequest request;
  uint32_t key_id;
  if (!absl::SimpleAtoi(args[0], &key_id)) return UsageError("KEY_ID must be a number");
  request.set_key_id(key_id);
  absl::StatusOr<v1::SigningKeyInfo> key = client.RevokeSigningKey(request);
  if (!key.ok()) return key.status();
  PrintKeys({*key});
  std::cout << key->tickets_reissued() << " tickets signed by key " << key->key_id()
            << " were reissued under the active key; their old codes now scan REVOKED\n";
  return kExitOk;
}

absl::StatusOr<int> Demo(const Client& client, const Args&) {
  absl::StatusOr<std::vector<v1::Event>> events = LoadDemo(client, absl::Now(), LocalZoneName());
  if (!events.ok()) return events.status();
  for (const v1::Event& event : *events) std::cout << event.name() << "\t" << event.title() << "\n";
  return kExitOk;
}

struct Command {
  const char* group;     // heading in the usage text, on the first command of a group
  const char* words;     // "events list"
  const char* synopsis;  // the arguments and flags after the words
  const char* note;      // a second line in the usage text, or ""
  size_t min_args;
  size_t max_args;
  absl::StatusOr<int> (*run)(const Client&, const Args&);
};

constexpr Command kCommands[] = {
    {"Events and program", "events list", "", "", 0, 0, EventsList},
    {"", "events get", "EVENT", "", 1, 1, EventsGet},
    {"", "events create", "--title= --venue= --time_zone= --start= --end= [--doors_open=]",
     "[--capacity=] [--noallow_reentry]", 0, 0, EventsCreate},
    {"", "events publish", "EVENT", "", 1, 1, EventsPublish},
    {"", "sessions list", "EVENT", "", 1, 1, SessionsList},
    {"", "sessions create", "EVENT --title= --kind=plenary|breakout --start= --end=",
     "[--track= --room= --round= --capacity= --requires_selection --noallow_reentry]", 1, 1,
     SessionsCreate},
    {"", "checkpoints", "EVENT", "", 1, 1, Checkpoints},
    {"", "demo", "",
     "loads the 2015 Oakland and Los Angeles trainings, and a practice open now (idempotent)", 0, 0,
     Demo},
    {"Registrations and tickets", "register", "EVENT --name= [--email= --phone= --language=]",
     "[--flags=spanish_interpretation,accessibility,... --sessions=S1,S2]", 1, 1, Register},
    {"", "registrations", "EVENT [--status=confirmed|waitlisted|canceled] [--prefix=]", "", 1, 1,
     Registrations},
    {"", "cancel", "REG [--manage_secret=]", "", 1, 1, Cancel},
    {"", "choose", "REG [S1,S2] [--manage_secret=]",
     "replaces the breakout choices; none clears them", 1, 2, Choose},
    {"", "import", "EVENT FILE.csv",
     "columns: display_name,email,phone,preferred_language,attention_flags,sessions,request_id", 2,
     2, Import},
    {"", "ticket", "REG [--png=FILE] [--svg=FILE] [--manage_secret=]", "", 1, 1, Ticket},
    {"", "reissue", "REG", "a new ticket code; the old one scans REVOKED", 1, 1, Reissue},
    {"", "manage-secret", "REG",
     "a new manage secret for the attendee, printed once; the old one stops working", 1, 1,
     ManageSecret},
    {"The door and the counts", "scan",
     "EVENT CODE [--checkpoint=] [--exit] [--at=TIME] [--language=]", "", 2, 2, Scan},
    {"", "search", "EVENT QUERY", "", 2, 2, Search},
    {"", "walkin", "EVENT --name= [--checkpoint=] [--language= --flags=a,b]", "", 1, 1, WalkIn},
    {"", "counts", "EVENT", "", 1, 1, Counts},
    {"", "watch", "EVENT", "live counts, redrawn in place, until interrupted; reconnects by itself",
     1, 1, Watch},
    {"", "export", "EVENT [FILE.csv]", "the attendance report", 1, 2, Export},
    {"Administration", "tokens create",
     "--role=door|dashboard|organizer|admin [--event=] [--label=]", "", 0, 0, TokensCreate},
    {"", "tokens list", "[--event=]", "", 0, 0, TokensList},
    {"", "tokens revoke", "TOKEN", "", 1, 1, TokensRevoke},
    {"", "keys rotate", "", "", 0, 0, KeysRotate},
    {"", "keys list", "", "", 0, 0, KeysList},
    {"", "keys revoke", "KEY_ID", "", 1, 1, KeysRevoke},
    {"", "purge", "EVENT --yes [--force]",
     "irreversibly erases the event's personal data, keeping its counts (--force: before its end)",
     1, 1, Purge},
    {"", "audit", "", "the administrative actions: who did what, when (ADMIN)", 0, 0, Audit},
};

// "events create --title= ..." and, indented on the next line, the note.
std::string CommandUsage(const Command& command) {
  std::string usage = command.words;
  if (*command.synopsis != '\0') absl::StrAppend(&usage, " ", command.synopsis);
  if (*command.note != '\0') absl::StrAppend(&usage, "\n      ", command.note);
  return usage;
}

std::string Usage() {
  std::string usage = "turnoutctl [flags] COMMAND [ARGS]\n";
  for (const Command& command : kCommands) {
    if (*command.group != '\0') absl::StrAppend(&usage, "\n", command.group, ":\n");
    absl::StrAppend(&usage, "  ", CommandUsage(command), "\n");
  }
  return absl::StrCat(usage, kUsageNotes);
}

// The command whose words begin `positional`, and the arguments after them.
const Command* FindCommand(const Args& positional, Args& args) {
  for (const Command& command : kCommands) {
    std::vector<std::string> words = absl::StrSplit(command.words, ' ');
    if (positional.size() < words.size() ||
        !std::equal(words.begin(), words.end(), positional.begin())) {
      continue;
    }
    args.assign(positional.begin() + words.size(), positional.end());
    return &command;
  }
  return nullptr;
}

absl::StatusOr<std::unique_ptr<Client>> ConnectFromFlags() {
  absl::StatusOr<client::ClientOptions> options = ClientOptionsFromFlags();
  if (!options.ok()) return options.status();
  return Client::Connect(*options);
}

int Run(const Args& positional) {
  Args args;
  const Command* command = FindCommand(positional, args);
  absl::Status status;
  if (command == nullptr) {
    status = UsageError(positional.empty() ? "no command given"
                                           : absl::StrCat("unknown command \"",
                                                          absl::StrJoin(positional, " "), "\""));
  } else if (args.size() < command->min_args || args.size() > command->max_args) {
    status = UsageError(absl::StrCat("wrong number of arguments for \"", command->words, "\""));
  } else if (absl::StatusOr<std::unique_ptr<Client>> client = ConnectFromFlags(); !client.ok()) {
    status = client.status();
  } else if (absl::StatusOr<int> exit_code = command->run(**client, args); !exit_code.ok()) {
    status = exit_code.status();
  } else {
    return *exit_code;
  }
  if (IsUsageError(status)) {
    const std::string usage =
        command == nullptr ? Usage() : absl::StrCat("turnoutctl ", CommandUsage(*command));
    std::cerr << "turnoutctl: " << status.message() << "\n\nusage: " << usage << "\n";
    return kExitUsage;
  }
  std::cerr << "turnoutctl: " << absl::StatusCodeToString(status.code()) << ": " << status.message()
            << "\n";
  if (absl::IsUnauthenticated(status)) {
    std::cerr << "(the token is --token, else $TURNOUT_TOKEN, else the contents of --token_file)\n";
  }
  return kExitError;
}

}  // namespace
}  // namespace turnout::tools

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(absl::StrCat("the organizer's command line for Turnout.\n\nusage: ",
                                            turnout::tools::Usage()));
  std::vector<char*> parsed = absl::ParseCommandLine(argc, argv);
  return turnout::tools::Run(turnout::tools::Args(parsed.begin() + 1, parsed.end()));
}
