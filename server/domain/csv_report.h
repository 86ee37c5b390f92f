// CSV for reports people open in spreadsheets (RFC 4180), safe against formula injection.
//
//   std::string line = CsvRow({"events/1/registrations/7", "Ana Flores", "CONFIRMED"});
//
// A cell that a spreadsheet would run as a formula (beginning with =, +, -, @, a tab or a carriage
// return) is neutralized with a leading apostrophe; cells with a comma, quote or line break are
// quoted, quotes doubled. Rows end with CRLF.
#ifndef TURNOUT_SERVER_DOMAIN_CSV_REPORT_H_
#define TURNOUT_SERVER_DOMAIN_CSV_REPORT_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace turnout::domain {

// One cell, neutralized and quoted as needed.
std::string CsvCell(absl::string_view value);

// One row: the cells, comma-separated, then CRLF.
std::string CsvRow(const std::vector<std::string>& cells);

}  // namespace turnout::domain

#endif  // TURNOUT_SERVER_DOMAIN_CSV_REPORT_H_
