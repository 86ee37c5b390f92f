// RFC 4180 CSV reading and roster conversion; see csv.h.
#include "client-lib/csv.h"

#include <cstdint>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client-lib/names.h"

namespace turnout::client {
namespace {

constexpr absl::string_view kByteOrderMark = "\xEF\xBB\xBF";

absl::Status SyntaxError(int line, size_t column, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("line ", line, ", column ", column, ": ", what));
}

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// Well-formed UTF-8: no overlong forms, surrogates, code points above U+10FFFF or truncated
// sequences. Spreadsheets on Windows often save Latin-1, which would garble "José" on every screen.
bool IsValidUtf8(absl::string_view s) {
  static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  for (size_t i = 0; i < s.size();) {
    const auto lead = static_cast<unsigned char>(s[i]);
    size_t length;
    uint32_t code_point;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2, code_point = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3, code_point = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4, code_point = lead & 0x07;
    } else {
      return false;
    }
    if (i + length > s.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(s[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (next & 0x3F);
    }
    if (code_point < kMinForLength[length] || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

// The ';'-separated, trimmed, non-empty items of a list cell.
std::vector<absl::string_view> ListItems(absl::string_view cell) {
  std::vector<absl::string_view> items;
  for (absl::string_view item : absl::StrSplit(cell, ';')) {
    item = absl::StripAsciiWhitespace(item);
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

// Fills the field of `row` that `column` names from the trimmed `value`.
absl::Status SetRosterField(absl::string_view column, absl::string_view value,
                            absl::string_view event_name, v1::ImportRegistrationsRequest& row) {
  v1::Registration& registration = *row.mutable_registration();
  if (column == "display_name") {
    if (value.empty()) return absl::InvalidArgumentError("a display name is required");
    registration.set_display_name(std::string(value));
  } else if (column == "email") {
    registration.set_email(std::string(value));
  } else if (column == "phone") {
    registration.set_phone(std::string(value));
  } else if (column == "preferred_language") {
    registration.set_preferred_language(std::string(value));
  } else if (column == "attention_flags") {
    for (absl::string_view item : ListItems(value)) {
      absl::StatusOr<v1::AttentionFlag> flag =
          EnumFromShortName<v1::AttentionFlag>(item, "ATTENTION_FLAG_");
      if (!flag.ok()) return flag.status();
      if (!absl::c_linear_search(registration.attention_flags(), *flag)) {
        registration.add_attention_flags(*flag);
      }
    }
  } else if (column == "sessions") {
    for (absl::string_view item : ListItems(value)) {
      absl::StatusOr<ResourceName> session = ParseResourceName(item);
      if (!session.ok()) return session.status();
      if (session->collection != "sessions" || session->Event() != event_name) {
        return absl::InvalidArgumentError(
            absl::StrCat("\"", item, "\" is not a session of ", event_name));
      }
      registration.add_session_choices()->set_session(std::string(item));
    }
  } else if (column == "request_id") {
    row.set_request_id(std::string(value));
  }
  return absl::OkStatus();
}

// Maps each header field to its roster column.
absl::StatusOr<std::vector<std::string>> RosterHeader(const CsvRecord& header) {
  std::vector<std::string> columns;
  for (const std::string& field : header.fields) {
    std::string column = absl::AsciiStrToLower(absl::StripAsciiWhitespace(field));
    absl::StrReplaceAll({{" ", "_"}, {"-", "_"}}, &column);
    const size_t number = columns.size() + 1;
    if (!absl::c_linear_search(kRosterColumns, column)) {
      return SyntaxError(header.line, number,
                         absl::StrCat("unknown column \"", field, "\"; the columns are ",
                                      absl::StrJoin(kRosterColumns, ", ")));
    }
    if (absl::c_linear_search(columns, column)) {
      return SyntaxError(header.line, number, absl::StrCat("column ", column, " appears twice"));
    }
    columns.push_back(std::move(column));
  }
  if (!absl::c_linear_search(columns, "display_name")) {
    return SyntaxError(header.line, 1, "the header row has no display_name column");
  }
  return columns;
}

}  // namespace

absl::StatusOr<std::vector<CsvRecord>> ParseCsv(absl::string_view text) {
  absl::ConsumePrefix(&text, kByteOrderMark);
  std::vector<CsvRecord> records;
  const size_t n = text.size();
  size_t i = 0;
  int line = 1;
  auto at_field_end = [&] {
    return i >= n || text[i] == ',' || text[i] == '\n' || text[i] == '\r';
  };
  while (i < n) {
    CsvRecord record;
    record.line = line;
    bool any_quoted = false;
    while (true) {
      const size_t column = record.fields.size() + 1;
      std::string field;
      size_t quote = i;
      while (quote < n && IsBlank(text[quote])) ++quote;
      if (quote < n && text[quote] == '"') {
        any_quoted = true;
        const int open_line = line;
        i = quote + 1;
        while (true) {
          if (i >= n) return SyntaxError(open_line, column, "a quoted field is never closed");
          const char c = text[i++];
          if (c == '"') {
            if (i < n && text[i] == '"') {
              field += '"';
              ++i;
              continue;
            }
            break;
          }
          if (c == '\n' || (c == '\r' && (i >= n || text[i] != '\n'))) ++line;
          field += c;
        }
        while (i < n && IsBlank(text[i])) ++i;
        if (!at_field_end()) return SyntaxError(line, column, "text after a closing quote");
      } else {
        for (; !at_field_end(); ++i) {
          if (text[i] == '"') {
            return SyntaxError(line, column,
                               "a quote inside an unquoted field (quote the whole field and "
                               "double the quote)");
          }
          field += text[i];
        }
      }
      record.fields.push_back(std::move(field));
      if (i < n && text[i] == ',') {
        ++i;
        continue;
      }
      if (i < n && text[i] == '\r') ++i;
      if (i < n && text[i] == '\n') ++i;
      ++line;
      break;
    }
    const bool blank_line = record.fields.size() == 1 && record.fields[0].empty() && !any_quoted;
    if (!blank_line) records.push_back(std::move(record));
  }
  return records;
}

std::string CsvEscape(absl::string_view field) {
  if (field.find_first_of(",\"\r\n") == absl::string_view::npos) return std::string(field);
  return absl::StrCat("\"", absl::StrReplaceAll(field, {{"\"", "\"\""}}), "\"");
}

absl::StatusOr<std::vector<v1::ImportRegistrationsRequest>> RosterRowsFromCsv(
    absl::string_view csv, absl::string_view event_name) {
  absl::StatusOr<ResourceName> event = ParseResourceName(event_name);
  if (!event.ok()) return event.status();
  if (event->collection != "events") {
    return absl::InvalidArgumentError(absl::StrCat("\"", event_name, "\" is not an event name"));
  }
  absl::StatusOr<std::vector<CsvRecord>> records = ParseCsv(csv);
  if (!records.ok()) return records.status();
  if (records->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the file is empty; its first line must be a header such as ",
                     absl::StrJoin(kRosterColumns, ",")));
  }
  absl::StatusOr<std::vector<std::string>> columns = RosterHeader(records->front());
  if (!columns.ok()) return columns.status();

  std::vector<v1::ImportRegistrationsRequest> rows;
  for (size_t r = 1; r < records->size(); ++r) {
    const CsvRecord& record = (*records)[r];
    if (absl::c_all_of(record.fields, [](const std::string& field) {
          return absl::StripAsciiWhitespace(field).empty();
        })) {
      continue;
    }
    if (record.fields.size() != columns->size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", record.line, ": ", record.fields.size(),
                       " columns, but the header has ", columns->size()));
    }
    v1::ImportRegistrationsRequest row;
    row.set_parent(std::string(event_name));
    row.set_line(record.line);
    for (size_t c = 0; c < columns->size(); ++c) {
      const std::string& column = (*columns)[c];
      absl::string_view value = absl::StripAsciiWhitespace(record.fields[c]);
      absl::Status status =
          IsValidUtf8(value)
              ? SetRosterField(column, value, event_name, row)
              : absl::InvalidArgumentError("not valid UTF-8 (save the file as \"CSV UTF-8\")");
      if (!status.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("line ", record.line, ", column ", c + 1,
                                                       " (", column, "): ", status.message()));
      }
    }
    rows.push_back(std::move(row));
  }
  if (rows.empty()) return absl::InvalidArgumentError("the file has a header but no rows");
  return rows;
}

}  // namespace turnout::client
