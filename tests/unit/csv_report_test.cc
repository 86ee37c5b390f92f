// The report's CSV cells: quoting, and formulas a spreadsheet would run made inert.
#include "server/domain/csv_report.h"

#include "gtest/gtest.h"

namespace turnout::domain {
namespace {

TEST(CsvReportTest, PlainCellsStayAsTheyAre) {
  EXPECT_EQ(CsvCell("Ana Flores"), "Ana Flores");
  EXPECT_EQ(CsvCell(""), "");
  EXPECT_EQ(CsvCell("Nguyễn Văn An"), "Nguyễn Văn An");
  EXPECT_EQ(CsvCell("2015-10-15 08:31:02"), "2015-10-15 08:31:02");
}

TEST(CsvReportTest, CommasQuotesAndLineBreaksAreQuoted) {
  EXPECT_EQ(CsvCell("Flores, Ana"), "\"Flores, Ana\"");
  EXPECT_EQ(CsvCell("Ana \"La Flaca\" Flores"), "\"Ana \"\"La Flaca\"\" Flores\"");
  EXPECT_EQ(CsvCell("two\nlines"), "\"two\nlines\"");
}

TEST(CsvReportTest, FormulasAreNeutralized) {
  EXPECT_EQ(CsvCell("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
  EXPECT_EQ(CsvCell("+1 555"), "'+1 555");
  EXPECT_EQ(CsvCell("-2+3"), "'-2+3");
  EXPECT_EQ(CsvCell("@SUM(A1)"), "'@SUM(A1)");
  EXPECT_EQ(CsvCell("\tcmd"), "'\tcmd");
  EXPECT_EQ(CsvCell("a=b"), "a=b") << "only a leading sign makes a formula";
}

TEST(CsvReportTest, ARowEndsWithCrLf) {
  EXPECT_EQ(CsvRow({"a", "b,c", "=1"}), "a,\"b,c\",'=1\r\n");
  EXPECT_EQ(CsvRow({}), "\r\n");
}

}  // namespace
}  // namespace turnout::domain
