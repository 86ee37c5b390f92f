// turnout-scan's input: lines cut from a wedge scanner's bytes, and what each line is.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/scan/input.h"

namespace turnout::tools::scan {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;

Line L(const std::string& text) { return Line{text, text.size()}; }

TEST(LineReaderTest, CutsAtNewlineCarriageReturnAndCrLf) {
  LineReader reader;
  std::vector<Line> lines = reader.Feed("ONE\nTWO\rTHREE\r\nFOUR");
  EXPECT_THAT(lines, ElementsAre(Field(&Line::text, "ONE"), Field(&Line::text, "TWO"),
                                 Field(&Line::text, "THREE")));
  std::optional<Line> last = reader.Finish();
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->text, "FOUR");
  EXPECT_FALSE(reader.Finish().has_value());
}

TEST(LineReaderTest, CrLfSplitAcrossReadsIsOneLineEnd) {
  LineReader reader;
  EXPECT_THAT(reader.Feed("CODE\r"), ElementsAre(Field(&Line::text, "CODE")));
  EXPECT_THAT(reader.Feed("\nNEXT\n"), ElementsAre(Field(&Line::text, "NEXT")));
}

TEST(LineReaderTest, TwoEnterPressesAreAnEmptyLine) {
  LineReader reader;
  EXPECT_THAT(reader.Feed("\n\n"), ElementsAre(Field(&Line::text, ""), Field(&Line::text, "")));
}

TEST(LineReaderTest, KeepsAtMostTheLimitOfALongLineButCountsAllOfIt) {
  LineReader reader;
  const std::string flood(10 * 1024, 'A');
  std::vector<Line> lines;
  // As a terminal delivers it: in pieces.
  for (size_t at = 0; at < flood.size(); at += 1000) {
    for (Line& line : reader.Feed(flood.substr(at, 1000))) lines.push_back(line);
  }
  for (Line& line : reader.Feed("\nAFTER\n")) lines.push_back(line);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].bytes, 10u * 1024);
  EXPECT_EQ(lines[0].text.size(), kMaxLineBytes);
  EXPECT_TRUE(lines[0].too_long());
  EXPECT_EQ(lines[1].text, "AFTER");
  EXPECT_FALSE(lines[1].too_long());
}

TEST(ClassifyLineTest, ACodeIsTrimmedOfSurroundingSpaces) {
  const Input input = ClassifyLine(L("  \tABCDEFGH234567  "));
  EXPECT_EQ(input.kind, Input::kCode);
  EXPECT_EQ(input.text, "ABCDEFGH234567");
}

TEST(ClassifyLineTest, EmptyAndBlankLinesAreEmpty) {
  EXPECT_EQ(ClassifyLine(L("")).kind, Input::kEmpty);
  EXPECT_EQ(ClassifyLine(L("   \t ")).kind, Input::kEmpty);
}

TEST(ClassifyLineTest, ALineOverTheLimitIsTooLongWhateverItHolds) {
  LineReader reader;
  std::vector<Line> lines = reader.Feed(std::string(10 * 1024, 'B') + "\n");
  ASSERT_EQ(lines.size(), 1u);
  const Input input = ClassifyLine(lines[0]);
  EXPECT_EQ(input.kind, Input::kTooLong);
  EXPECT_EQ(input.bytes, 10u * 1024);
  // Exactly at the limit is still a code (the server takes up to 512 bytes).
  EXPECT_EQ(ClassifyLine(L(std::string(kMaxLineBytes, 'C'))).kind, Input::kCode);
}

TEST(ClassifyLineTest, BinaryJunkIsNotACode) {
  for (const std::string& junk :
       {std::string("AB\0CD", 5), std::string("\x1b[A"), std::string("\x1bOP"),  // arrow, F1
        std::string("ABC\x7f"), std::string("\xff\xfe\x00\x01", 4),
        std::string("caf\xc3"),   // truncated UTF-8
        std::string("\xc0\xaf"),  // overlong '/'
        std::string("\xc2\x9b"
                    "31m"),              // C1 CSI
        std::string("\xed\xa0\x80")}) {  // a surrogate
    EXPECT_EQ(ClassifyLine(L(junk)).kind, Input::kBinary) << junk;
  }
  // Accents in a name typed for search are fine.
  EXPECT_EQ(ClassifyLine(L("/f José Nguyễn")).kind, Input::kCommand);
}

TEST(ClassifyLineTest, CommandsStartWithASlash) {
  Input input = ClassifyLine(L(" /F  Ana María "));
  EXPECT_EQ(input.kind, Input::kCommand);
  EXPECT_EQ(input.command, "f");
  EXPECT_EQ(input.text, "Ana María");

  input = ClassifyLine(L("/x"));
  EXPECT_EQ(input.command, "x");
  EXPECT_EQ(input.text, "");

  input = ClassifyLine(L("/12"));
  EXPECT_EQ(input.command, "12");

  input = ClassifyLine(L("/w Ana García; es; spanish_interpretation,dietary"));
  EXPECT_EQ(input.command, "w");
  EXPECT_EQ(input.text, "Ana García; es; spanish_interpretation,dietary");
}

TEST(ClassifyLineTest, DroppedImagePathsAreImages) {
  for (const auto& [line, path] : std::vector<std::pair<std::string, std::string>>{
           {"/home/vol/ticket.png", "/home/vol/ticket.png"},
           {"'/home/vol/My Tickets/ana.JPG' ", "/home/vol/My Tickets/ana.JPG"},
           {"\"photo.jpeg\"", "photo.jpeg"},
           {"file:///tmp/t.png", "/tmp/t.png"}}) {
    const Input input = ClassifyLine(L(line));
    EXPECT_EQ(input.kind, Input::kImagePath) << line;
    EXPECT_EQ(input.text, path);
  }
  EXPECT_EQ(ClassifyLine(L(".png")).kind, Input::kCode);
}

TEST(CodePointsTest, CountsCharactersNotBytes) {
  EXPECT_EQ(CodePoints("José"), 4u);
  EXPECT_EQ(CodePoints("ana"), 3u);
  EXPECT_EQ(CodePoints("Nguyễn"), 6u);
}

}  // namespace
}  // namespace turnout::tools::scan
