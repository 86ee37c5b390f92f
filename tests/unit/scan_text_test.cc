// turnout-scan's words, block letters, JSON lines and screen rendering: pure functions.
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tools/scan/big_letters.h"
#include "tools/scan/i18n.h"
#include "tools/scan/input.h"
#include "tools/scan/json.h"
#include "tools/scan/render.h"

namespace turnout::tools::scan {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The "$0", "$1", ... a pattern uses.
std::set<std::string> Placeholders(absl::string_view pattern) {
  std::set<std::string> found;
  for (size_t at = pattern.find('$'); at != absl::string_view::npos;
       at = pattern.find('$', at + 1)) {
    if (at + 1 < pattern.size()) found.insert(std::string(pattern.substr(at, 2)));
  }
  return found;
}

TEST(I18nTest, EveryMessageExistsInBothLanguagesWithTheSameValues) {
  for (int i = 0; i < static_cast<int>(Msg::kCount); ++i) {
    const absl::string_view en = Text(static_cast<Msg>(i), Language::kEnglish);
    const absl::string_view es = Text(static_cast<Msg>(i), Language::kSpanish);
    EXPECT_FALSE(en.empty()) << i;
    EXPECT_FALSE(es.empty()) << i;
    EXPECT_EQ(Placeholders(en), Placeholders(es)) << en << " / " << es;
  }
}

TEST(I18nTest, FlagsAreSpelledOutInEnglishAndSpanish) {
  EXPECT_EQ(FlagText(v1::ATTENTION_FLAG_SPANISH_INTERPRETATION, Language::kEnglish),
            "Needs a Spanish interpretation headset");
  EXPECT_EQ(FlagText(v1::ATTENTION_FLAG_SPANISH_INTERPRETATION, Language::kSpanish),
            "Necesita audífonos de interpretación al español");
  for (int flag = 1; flag < v1::AttentionFlag_ARRAYSIZE; ++flag) {
    const auto f = static_cast<v1::AttentionFlag>(flag);
    EXPECT_NE(FlagText(f, Language::kEnglish), FlagText(f, Language::kSpanish)) << flag;
  }
  // A flag from a newer server is still shown, not skipped.
  EXPECT_EQ(FlagText(static_cast<v1::AttentionFlag>(99), Language::kEnglish), "Needs attention");
}

TEST(I18nTest, EveryStatusHasAHeadlineThatFitsEightyColumnsInBothLanguages) {
  for (int s = 1; s < v1::ScanResult::Status_ARRAYSIZE; ++s) {
    const auto status = static_cast<v1::ScanResult::Status>(s);
    for (Language language : {Language::kEnglish, Language::kSpanish}) {
      const absl::string_view headline = Headline(status, language);
      EXPECT_LE(BigLettersWidth(headline) + 4, 80) << headline;
      EXPECT_FALSE(StatusText(status, language).empty());
    }
    EXPECT_NE(StatusText(status, Language::kEnglish), StatusText(status, Language::kSpanish));
  }
  EXPECT_EQ(Headline(v1::ScanResult::ADMITTED, Language::kSpanish), "ADMITIDO");
  EXPECT_EQ(StatusText(v1::ScanResult::ALREADY_CHECKED_IN, Language::kEnglish),
            "Already checked in");
}

TEST(I18nTest, ParsesLanguageTags) {
  EXPECT_EQ(ParseLanguage("es"), Language::kSpanish);
  EXPECT_EQ(ParseLanguage("ES-mx"), Language::kSpanish);
  EXPECT_EQ(ParseLanguage("en_US"), Language::kEnglish);
  EXPECT_EQ(ParseLanguage("fr"), std::nullopt);
  EXPECT_EQ(ParseLanguage(""), std::nullopt);
}

TEST(BigLettersTest, FiveRowsOfEqualWidth) {
  const std::vector<std::string> rows = BigLetters("ADMITTED");
  ASSERT_EQ(rows.size(), 5u);
  for (const std::string& row : rows) {
    EXPECT_EQ(static_cast<int>(CodePoints(row)), BigLettersWidth("ADMITTED"));
  }
  EXPECT_EQ(BigLettersWidth("ADMITTED"), 8 * 6 - 1);
  EXPECT_THAT(rows[0], HasSubstr("█"));
}

TEST(BigLettersTest, AccentedCapitalsAreDrawnAsTheirLetter) {
  EXPECT_EQ(BigLetters("YA ENTRÓ"), BigLetters("YA ENTRO"));
  EXPECT_EQ(BigLettersWidth("INVÁLIDO"), BigLettersWidth("INVALIDO"));
  EXPECT_EQ(BigLetters("~"), BigLetters("?"));
}

TEST(JsonTest, EscapesQuotesBackslashesAndEveryControlCharacter) {
  EXPECT_EQ(JsonQuote("Ana \"La Jefa\" García"), "\"Ana \\\"La Jefa\\\" García\"");
  EXPECT_EQ(JsonQuote("a\\b"), "\"a\\\\b\"");
  EXPECT_EQ(JsonQuote("line\nbreak\ttab\r"), "\"line\\nbreak\\ttab\\r\"");
  EXPECT_EQ(JsonQuote("\x1b[2Jboo\a"), "\"\\u001b[2Jboo\\u0007\"");
  EXPECT_EQ(JsonQuote(std::string("nul\0!", 5)), "\"nul\\u0000!\"");
  EXPECT_EQ(JsonQuote("del\x7f"), "\"del\\u007f\"");
  EXPECT_EQ(JsonQuote("c1\xc2\x9b"), "\"c1\\u009b\"");
  EXPECT_EQ(JsonQuote("ls\xe2\x80\xa8"), "\"ls\\u2028\"");
  EXPECT_EQ(JsonQuote("bad\xff\xc3"), "\"bad\\ufffd\\ufffd\"");
  EXPECT_EQ(JsonQuote("Nguyễn 日本 🎉"), "\"Nguyễn 日本 🎉\"");
}

TEST(JsonTest, ALineIsOneValidObjectWithNoControlCharacters) {
  const std::string line =
      JsonLine()
          .Add("status", "ADMITTED")
          .Add("display_name", "Ana \x1b[31m\"García\"\n")
          .Add("offline", true)
          .Add("queued", int64_t{3})
          .AddStrings("flags", {"spanish_interpretation", "dietary"})
          .AddRaw("breakouts", JsonArray({JsonLine().Add("round", int64_t{1}).Finish()}))
          .Finish();
  for (char c : line) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << line;
  google::protobuf::Struct parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &parsed).ok()) << line;
  EXPECT_EQ(parsed.fields().at("display_name").string_value(), "Ana \x1b[31m\"García\"\n");
  EXPECT_TRUE(parsed.fields().at("offline").bool_value());
  EXPECT_EQ(parsed.fields().at("queued").number_value(), 3);
  EXPECT_EQ(parsed.fields().at("flags").list_value().values(1).string_value(), "dietary");
  EXPECT_EQ(parsed.fields()
                .at("breakouts")
                .list_value()
                .values(0)
                .struct_value()
                .fields()
                .at("round")
                .number_value(),
            1);
}

View Admitted() {
  View view;
  view.tone = Tone::kGo;
  view.headline = "ADMITTED";
  view.subtitle = "Admitted";
  view.name = "Ana García";
  view.flags = {"Needs a Spanish interpretation headset"};
  view.details = {"Round 1: Legislative advocacy — Ginn House"};
  view.status = "[ENTRY] · Entrance · online · 0 queued";
  view.prompt = "scan or type> ";
  return view;
}

TEST(RenderTest, WithoutColourThereIsNoEscapeAndEverythingIsThere) {
  const std::string screen = Render(Admitted(), {.colour = false, .width = 80, .height = 24});
  for (char c : screen) {
    EXPECT_TRUE(c == '\n' || static_cast<unsigned char>(c) >= 0x20) << static_cast<int>(c);
  }
  for (const char* part :
       {"Ana García", "Needs a Spanish interpretation headset",
        "Round 1: Legislative advocacy — Ginn House", "0 queued", "scan or type> ", "█"}) {
    EXPECT_THAT(screen, HasSubstr(part));
  }
}

TEST(RenderTest, WithColourTheBannerIsGreenAmberOrRedAndRefusalsRing) {
  View view = Admitted();
  std::string screen = Render(view, {.colour = true, .width = 80, .height = 24});
  EXPECT_TRUE(absl::StartsWith(screen, "\x1b[H\x1b[2J")) << "clears the screen";
  EXPECT_THAT(screen, HasSubstr("42m"));  // green background
  EXPECT_THAT(screen, Not(HasSubstr("\a")));

  view.tone = Tone::kCaution;
  EXPECT_THAT(Render(view, {.colour = true}), HasSubstr("48;5;214m"));  // amber

  view.tone = Tone::kStop;
  view.bell = true;
  screen = Render(view, {.colour = true});
  EXPECT_THAT(screen, HasSubstr("41m"));  // red
  EXPECT_TRUE(absl::StartsWith(screen, "\a"));
  EXPECT_THAT(screen, HasSubstr("\x1b[23;1H")) << "the status line sits on the last rows";
}

TEST(RenderTest, HeadlinesTooWideForBlockLettersBecomeASpacedBanner) {
  View view = Admitted();
  const std::string narrow = Render(view, {.colour = false, .width = 40, .height = 24});
  EXPECT_THAT(narrow, Not(HasSubstr("█")));
  EXPECT_THAT(narrow, HasSubstr("A D M I T T E D"));
}

TEST(RenderTest, NamesCannotCarryTerminalEscapes) {
  View view = Admitted();
  view.name =
      "Eve\x1b[2J\x1b]0;pwned\a\xc2\x9b"
      "31m";
  for (bool colour : {false, true}) {
    const std::string screen = Render(view, {.colour = colour});
    EXPECT_THAT(screen, Not(HasSubstr("\x1b[2JEve")));
    EXPECT_THAT(screen, HasSubstr("Eve[2J]0;pwned31m"));
  }
}

}  // namespace
}  // namespace turnout::tools::scan
