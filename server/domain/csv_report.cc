#include "server/domain/csv_report.h"

#include "absl/strings/str_join.h"

namespace turnout::domain {

std::string CsvCell(absl::string_view value) {
  std::string cell;
  if (!value.empty() && (value[0] == '=' || value[0] == '+' || value[0] == '-' ||
                         value[0] == '@' || value[0] == '\t' || value[0] == '\r')) {
    cell.push_back('\'');
  }
  cell.append(value.data(), value.size());
  if (cell.find_first_of(",\"\r\n") == std::string::npos) return cell;
  std::string quoted = "\"";
  for (char c : cell) {
    if (c == '"') quoted.push_back('"');
    quoted.push_back(c);
  }
  quoted.push_back('"');
  return quoted;
}

std::string CsvRow(const std::vector<std::string>& cells) {
  std::string row;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) row.push_back(',');
    row += CsvCell(cells[i]);
  }
  row += "\r\n";
  return row;
}

}  // namespace turnout::domain
