// CSV for rosters: an RFC 4180 reader, the escape helper for writers, and the conversion of a
// roster file into the rows of RegistrationService.ImportRegistrations.
//
// Roster files come from spreadsheets, so the reader takes what Excel, LibreOffice and Google
// Sheets write: quoted fields with commas, doubled quotes and line breaks, CRLF or LF line ends,
// and a UTF-8 byte order mark. Errors name the line and the column so an organizer can fix the
// file.
//
//   absl::StatusOr<std::vector<v1::ImportRegistrationsRequest>> rows =
//       RosterRowsFromCsv(file_contents, "events/1");
//   if (rows.ok()) client->ImportRegistrations(*rows);
#ifndef TURNOUT_CLIENT_LIB_CSV_H_
#define TURNOUT_CLIENT_LIB_CSV_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "turnout/v1/registration_service.pb.h"

namespace turnout::client {

// One record of a CSV file.
struct CsvRecord {
  // The 1-based line where the record starts; a quoted field may carry it over several lines.
  int line = 0;
  std::vector<std::string> fields;
};

// Parses RFC 4180 CSV: fields separated by ',', records by CRLF, LF or CR. A field in double quotes
// may hold commas, line breaks and doubled quotes ("" for "); spaces around a quoted field are
// ignored. A UTF-8 byte order mark at the start and blank lines are skipped. Returns
// InvalidArgument, naming the line and the column (field number), for a quote that is never closed,
// a quote inside an unquoted field, or text after a closing quote.
absl::StatusOr<std::vector<CsvRecord>> ParseCsv(absl::string_view text);

// `field` as a CSV writer must write it: in double quotes, with quotes doubled, when it holds a
// comma, a quote, CR or LF; unchanged otherwise.
std::string CsvEscape(absl::string_view field);

// The columns a roster file may have, in any order, named case-insensitively in its header row
// (spaces and '-' read as '_'). Only display_name is required.
//   display_name        the attendee's name
//   email, phone        optional contact fields
//   preferred_language  "en", "es", ...
//   attention_flags     ';'-separated: spanish_interpretation, english_interpretation,
//                       accessibility, childcare, dietary
//   sessions            ';'-separated session names of the event: "events/1/sessions/3"
//   request_id          optional id making the row idempotent across repeated imports
inline constexpr absl::string_view kRosterColumns[] = {
    "display_name",    "email",    "phone",     "preferred_language",
    "attention_flags", "sessions", "request_id"};

// Converts a roster file into ImportRegistrations rows for `event_name` ("events/{event}"): one row
// per record after the header, with `parent` and `line` set. Values are trimmed; rows whose fields
// are all empty are skipped. Returns InvalidArgument naming the line and column for a malformed
// file, an unknown or repeated column, a missing display_name, invalid UTF-8, an unknown flag, or a
// session of another event; and for a file with no rows. Everything else is checked by the server.
absl::StatusOr<std::vector<v1::ImportRegistrationsRequest>> RosterRowsFromCsv(
    absl::string_view csv, absl::string_view event_name);

}  // namespace turnout::client

#endif  // TURNOUT_CLIENT_LIB_CSV_H_
