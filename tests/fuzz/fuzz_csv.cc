// CSV, both directions: the roster reader (client-lib/csv.h) and the server's report writer
// (server/domain/csv_report.h). Any text parses or gets INVALID_ARGUMENT naming a line; what parses
// reads back the same after it is written again with CsvEscape; a roster that converts has rows
// that name the event and a display name; and any cells the server writes into a report read back
// as those cells (formula-like ones with the apostrophe that neutralizes them).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "client-lib/csv.h"
#include "server/domain/csv_report.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using turnout::client::CsvRecord;

constexpr absl::string_view kByteOrderMark = "\xEF\xBB\xBF";
constexpr absl::string_view kEvent = "events/1";

std::vector<std::vector<std::string>> FieldsOf(const std::vector<CsvRecord>& records) {
  std::vector<std::vector<std::string>> fields;
  for (const CsvRecord& record : records) fields.push_back(record.fields);
  return fields;
}

// Writes records as a spreadsheet would: a byte order mark (so a first field that itself begins
// with one keeps it), CRLF line ends, and a record of one empty field as "" (an empty line would
// be a blank line, which readers skip).
std::string WriteCsv(const std::vector<std::vector<std::string>>& records) {
  std::string out(kByteOrderMark);
  for (const std::vector<std::string>& fields : records) {
    if (fields.size() == 1 && fields[0].empty()) {
      out += "\"\"\r\n";
      continue;
    }
    std::vector<std::string> escaped;
    for (const std::string& field : fields) escaped.push_back(turnout::client::CsvEscape(field));
    absl::StrAppend(&out, absl::StrJoin(escaped, ","), "\r\n");
  }
  return out;
}

void CheckReader(absl::string_view text) {
  absl::StatusOr<std::vector<CsvRecord>> records = turnout::client::ParseCsv(text);
  if (!records.ok()) {
    FUZZ_CHECK(records.status().code() == absl::StatusCode::kInvalidArgument,
               "a CSV syntax error is not INVALID_ARGUMENT");
    FUZZ_CHECK(absl::StartsWith(records.status().message(), "line "),
               "a CSV syntax error does not name the line");
    return;
  }
  int previous_line = 0;
  for (const CsvRecord& record : *records) {
    FUZZ_CHECK(record.line > previous_line, "record lines do not increase");
    FUZZ_CHECK(!record.fields.empty(), "a record without fields");
    previous_line = record.line;
  }
  const std::vector<std::vector<std::string>> fields = FieldsOf(*records);
  absl::StatusOr<std::vector<CsvRecord>> again = turnout::client::ParseCsv(WriteCsv(fields));
  FUZZ_CHECK(again.ok(), "CSV written with CsvEscape does not parse");
  FUZZ_CHECK(FieldsOf(*again) == fields, "CSV does not read back the same after writing");
}

void CheckRoster(absl::string_view text) {
  absl::StatusOr<std::vector<turnout::v1::ImportRegistrationsRequest>> rows =
      turnout::client::RosterRowsFromCsv(text, kEvent);
  if (!rows.ok()) {
    FUZZ_CHECK(rows.status().code() == absl::StatusCode::kInvalidArgument,
               "a roster error is not INVALID_ARGUMENT");
    return;
  }
  FUZZ_CHECK(!rows->empty(), "a roster converted to no rows");
  for (const turnout::v1::ImportRegistrationsRequest& row : *rows) {
    FUZZ_CHECK(row.parent() == kEvent, "a roster row for another event");
    FUZZ_CHECK(row.line() >= 2, "a roster row on the header line");
    FUZZ_CHECK(!row.registration().display_name().empty(), "a roster row without a name");
    for (const turnout::v1::SessionChoice& choice : row.registration().session_choices()) {
      FUZZ_CHECK(absl::StartsWith(choice.session(), absl::StrCat(kEvent, "/sessions/")),
                 "a roster row chose a session of another event");
    }
  }
}

// Cells are the input split at the ASCII record separator, so they may hold commas, quotes and
// line breaks.
void CheckReportWriter(absl::string_view text) {
  const std::vector<std::string> cells = absl::StrSplit(text, '\x1e');
  const std::string row = turnout::domain::CsvRow(cells);
  FUZZ_CHECK(absl::EndsWith(row, "\r\n"), "a report row does not end with CRLF");
  absl::StatusOr<std::vector<CsvRecord>> read =
      turnout::client::ParseCsv(absl::StrCat(kByteOrderMark, row));
  FUZZ_CHECK(read.ok(), "a report row does not parse as CSV");
  if (cells.size() == 1 && cells[0].empty()) {
    FUZZ_CHECK(read->empty(), "an empty report row read as a record");
    return;
  }
  FUZZ_CHECK(read->size() == 1, "a report row did not read as one record");
  const std::vector<std::string>& fields = (*read)[0].fields;
  FUZZ_CHECK(fields.size() == cells.size(), "a report row read with another number of cells");
  for (size_t i = 0; i < cells.size(); ++i) {
    const bool neutralized = fields[i] == absl::StrCat("'", cells[i]);
    FUZZ_CHECK(fields[i] == cells[i] || neutralized, "a report cell did not read back");
    // The apostrophe is for cells a spreadsheet would run as a formula, and they always get it.
    const bool formula_like =
        !cells[i].empty() &&
        absl::string_view("=+-@\t\r").find(cells[i][0]) != absl::string_view::npos;
    FUZZ_CHECK(neutralized == formula_like, "a report cell neutralized wrongly");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  CheckReader(text);
  CheckRoster(text);
  CheckReportWriter(text);
  return 0;
}
