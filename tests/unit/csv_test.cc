// The roster CSV reader: RFC 4180 parsing as spreadsheets write it, and the conversion of a roster
// file into ImportRegistrations rows with errors an organizer can act on.
#include "client-lib/csv.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace turnout::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::vector<std::string>> Fields(absl::string_view text) {
  absl::StatusOr<std::vector<CsvRecord>> records = ParseCsv(text);
  EXPECT_TRUE(records.ok()) << records.status();
  std::vector<std::vector<std::string>> fields;
  if (records.ok()) {
    for (const CsvRecord& record : *records) fields.push_back(record.fields);
  }
  return fields;
}

std::string ErrorOf(absl::string_view text) {
  absl::StatusOr<std::vector<CsvRecord>> records = ParseCsv(text);
  EXPECT_EQ(records.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(records.status().message());
}

TEST(ParseCsvTest, SplitsPlainFieldsAndRecords) {
  EXPECT_THAT(Fields("a,b,c\n1,,3\n"),
              ElementsAre(ElementsAre("a", "b", "c"), ElementsAre("1", "", "3")));
}

TEST(ParseCsvTest, LastRecordNeedsNoLineEnd) {
  EXPECT_THAT(Fields("a,b\nc,d"), ElementsAre(ElementsAre("a", "b"), ElementsAre("c", "d")));
}

TEST(ParseCsvTest, QuotedFieldsHoldCommasQuotesAndLineBreaks) {
  EXPECT_THAT(Fields("\"López, María\",\"say \"\"hola\"\"\",\"two\r\nlines\"\r\n"),
              ElementsAre(ElementsAre("López, María", "say \"hola\"", "two\r\nlines")));
}

TEST(ParseCsvTest, AcceptsCrLfLfAndCrLineEnds) {
  EXPECT_THAT(Fields("a\r\nb\nc\rd"),
              ElementsAre(ElementsAre("a"), ElementsAre("b"), ElementsAre("c"), ElementsAre("d")));
}

TEST(ParseCsvTest, SkipsByteOrderMarkAndBlankLines) {
  EXPECT_THAT(Fields("\xEF\xBB\xBFname\r\n\r\nAna\r\n\r\n"),
              ElementsAre(ElementsAre("name"), ElementsAre("Ana")));
}

TEST(ParseCsvTest, KeepsAQuotedEmptyField) {
  EXPECT_THAT(Fields("\"\"\n"), ElementsAre(ElementsAre("")));
}

TEST(ParseCsvTest, IgnoresSpacesAroundQuotedFields) {
  EXPECT_THAT(Fields("a,  \"b, c\"  ,d\n"), ElementsAre(ElementsAre("a", "b, c", "d")));
  EXPECT_THAT(Fields(" a , b\n"), ElementsAre(ElementsAre(" a ", " b")));
}

TEST(ParseCsvTest, RecordsTheLineEachRecordStartsOn) {
  absl::StatusOr<std::vector<CsvRecord>> records = ParseCsv("h\n\"x\ny\"\r\n\nz\n");
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 3);
  EXPECT_EQ((*records)[0].line, 1);
  EXPECT_EQ((*records)[1].line, 2);
  EXPECT_EQ((*records)[2].line, 5);
}

TEST(ParseCsvTest, UnclosedQuoteNamesWhereItOpened) {
  EXPECT_THAT(ErrorOf("a,b\nc,\"open\nmore\n"), HasSubstr("line 2, column 2"));
  EXPECT_THAT(ErrorOf("a,b\nc,\"open\nmore\n"), HasSubstr("never closed"));
}

TEST(ParseCsvTest, RejectsAQuoteInsideAnUnquotedField) {
  EXPECT_THAT(ErrorOf("a,b\nc,5\"6\n"), HasSubstr("line 2, column 2"));
}

TEST(ParseCsvTest, RejectsTextAfterAClosingQuote) {
  EXPECT_THAT(ErrorOf("\"a\"b,c\n"), HasSubstr("line 1, column 1: text after a closing quote"));
}

TEST(CsvEscapeTest, QuotesOnlyWhenNeeded) {
  EXPECT_EQ(CsvEscape("plain text"), "plain text");
  EXPECT_EQ(CsvEscape("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvEscape("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvEscape("two\nlines"), "\"two\nlines\"");
}

TEST(CsvEscapeTest, RoundTripsThroughTheReader) {
  const std::vector<std::string> fields = {"x", "a,b", "\"q\"", "l1\r\nl2", ""};
  std::string line;
  for (const std::string& field : fields) line += (line.empty() ? "" : ",") + CsvEscape(field);
  absl::StatusOr<std::vector<CsvRecord>> records = ParseCsv(",," + line + "\n");
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 1);
  std::vector<std::string> expected = {"", ""};
  expected.insert(expected.end(), fields.begin(), fields.end());
  EXPECT_EQ((*records)[0].fields, expected);
}

absl::Status RosterError(absl::string_view csv) {
  return RosterRowsFromCsv(csv, "events/1").status();
}

TEST(RosterRowsFromCsvTest, ReadsColumnsInAnyOrderAndCase) {
  absl::StatusOr<std::vector<v1::ImportRegistrationsRequest>> rows = RosterRowsFromCsv(
      "\xEF\xBB\xBFSessions,Display Name,EMAIL,phone,preferred_language,attention_flags,"
      "request_id\r\n"
      "events/1/sessions/3;events/1/sessions/8,María López,maria@example.org,+1 510 555 0100,es,"
      "Spanish_Interpretation; dietary,row-1\r\n"
      ",Sam Lee,,,,,\r\n",
      "events/1");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2);

  const v1::ImportRegistrationsRequest& maria = (*rows)[0];
  EXPECT_EQ(maria.parent(), "events/1");
  EXPECT_EQ(maria.line(), 2);
  EXPECT_EQ(maria.request_id(), "row-1");
  EXPECT_EQ(maria.registration().display_name(), "María López");
  EXPECT_EQ(maria.registration().email(), "maria@example.org");
  EXPECT_EQ(maria.registration().phone(), "+1 510 555 0100");
  EXPECT_EQ(maria.registration().preferred_language(), "es");
  EXPECT_THAT(maria.registration().attention_flags(),
              ElementsAre(v1::ATTENTION_FLAG_SPANISH_INTERPRETATION, v1::ATTENTION_FLAG_DIETARY));
  ASSERT_EQ(maria.registration().session_choices_size(), 2);
  EXPECT_EQ(maria.registration().session_choices(0).session(), "events/1/sessions/3");
  EXPECT_EQ(maria.registration().session_choices(1).session(), "events/1/sessions/8");

  const v1::ImportRegistrationsRequest& sam = (*rows)[1];
  EXPECT_EQ(sam.line(), 3);
  EXPECT_EQ(sam.registration().display_name(), "Sam Lee");
  EXPECT_TRUE(sam.registration().email().empty());
  EXPECT_TRUE(sam.registration().attention_flags().empty());
  EXPECT_TRUE(sam.request_id().empty());
}

TEST(RosterRowsFromCsvTest, LinesCountLineBreaksInsideQuotesAndSkipEmptyRows) {
  absl::StatusOr<std::vector<v1::ImportRegistrationsRequest>> rows =
      RosterRowsFromCsv("display_name,email\n\"Ana\nPérez\",\n,\n  ,  \nBo,\n", "events/1");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2);
  EXPECT_EQ((*rows)[0].registration().display_name(), "Ana\nPérez");
  EXPECT_EQ((*rows)[0].line(), 2);
  EXPECT_EQ((*rows)[1].registration().display_name(), "Bo");
  EXPECT_EQ((*rows)[1].line(), 6);
}

TEST(RosterRowsFromCsvTest, TrimsValues) {
  absl::StatusOr<std::vector<v1::ImportRegistrationsRequest>> rows =
      RosterRowsFromCsv("display_name , email\n  Ana  , ana@example.org \n", "events/1");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ((*rows)[0].registration().display_name(), "Ana");
  EXPECT_EQ((*rows)[0].registration().email(), "ana@example.org");
}

TEST(RosterRowsFromCsvTest, RequiresTheDisplayNameColumnAndValue) {
  EXPECT_THAT(RosterError("email\nana@example.org\n").message(), HasSubstr("no display_name"));
  absl::Status missing = RosterError("email,display_name\nana@example.org,\n");
  EXPECT_EQ(missing.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.message(), HasSubstr("line 2, column 2 (display_name)"));
}

TEST(RosterRowsFromCsvTest, RejectsUnknownAndRepeatedColumns) {
  EXPECT_THAT(RosterError("display_name,emial\nAna,a@example.org\n").message(),
              HasSubstr("line 1, column 2: unknown column \"emial\""));
  EXPECT_THAT(RosterError("display_name,Email,email\nAna,a,b\n").message(),
              HasSubstr("line 1, column 3: column email appears twice"));
}

TEST(RosterRowsFromCsvTest, RejectsUnknownFlagNamingLineAndColumn) {
  absl::Status status =
      RosterError("display_name,attention_flags\nAna,childcare\nBo,accessibility;vip\n");
  EXPECT_THAT(status.message(), HasSubstr("line 3, column 2 (attention_flags)"));
  EXPECT_THAT(status.message(), HasSubstr("\"vip\""));
  EXPECT_THAT(status.message(), HasSubstr("spanish_interpretation"));
}

TEST(RosterRowsFromCsvTest, RejectsSessionsOfAnotherEventOrMalformed) {
  EXPECT_THAT(RosterError("display_name,sessions\nAna,events/2/sessions/3\n").message(),
              HasSubstr("line 2, column 2 (sessions)"));
  EXPECT_THAT(RosterError("display_name,sessions\nAna,Legislative advocacy\n").message(),
              HasSubstr("line 2, column 2 (sessions)"));
  EXPECT_THAT(RosterError("display_name,sessions\nAna,events/1/checkpoints/3\n").message(),
              HasSubstr("not a session of events/1"));
}

TEST(RosterRowsFromCsvTest, RejectsRowsWithTheWrongNumberOfFields) {
  EXPECT_THAT(RosterError("display_name,email\nAna\n").message(),
              HasSubstr("line 2: 1 columns, but the header has 2"));
}

TEST(RosterRowsFromCsvTest, RejectsLatin1Text) {
  absl::Status status = RosterError("display_name\nJos\xE9\n");  // "José" saved as Latin-1
  EXPECT_THAT(status.message(), HasSubstr("line 2, column 1 (display_name): not valid UTF-8"));
}

TEST(RosterRowsFromCsvTest, RejectsEmptyFilesAndBadEventNames) {
  EXPECT_THAT(RosterError("").message(), HasSubstr("empty"));
  EXPECT_THAT(RosterError("display_name\r\n").message(), HasSubstr("no rows"));
  EXPECT_EQ(RosterRowsFromCsv("display_name\nAna\n", "1").status().code(),
            absl::StatusCode::kInvalidArgument);
  // A child collection named "events" is no event (found by tests/fuzz/fuzz_names).
  EXPECT_EQ(RosterRowsFromCsv("display_name\nAna\n", "events/1/events/2").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RosterRowsFromCsvTest, PassesSyntaxErrorsThrough) {
  EXPECT_THAT(RosterError("display_name\n\"Ana\n").message(), HasSubstr("line 2, column 1"));
}

}  // namespace
}  // namespace turnout::client
