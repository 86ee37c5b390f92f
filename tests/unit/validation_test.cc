// Tests of input validation: UTF-8, text limits at the boundary, control characters, contact
// fields, language tags, time zones, and the search normal form.
#include "server/domain/validation.h"

#include <atomic>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace turnout::domain {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// Strings with embedded NULs need an explicit length.
std::string Bytes(const char* s, size_t n) { return std::string(s, n); }

// An error must be InvalidArgument naming the field. (That it never echoes the value is checked
// separately, with values that cannot occur in a rule's wording.)
void ExpectRejected(const absl::Status& status, absl::string_view field, absl::string_view value) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument)
      << absl::CEscape(value) << ": " << status;
  EXPECT_THAT(std::string(status.message()), StartsWith(absl::StrCat(field, ": ")));
}

// --- UTF-8 ---

TEST(IsValidUtf8Test, AcceptsWellFormedText) {
  const std::string kValid[] = {
      "",
      "Ana",
      "Jos\xC3\xA9",       // é, 2 bytes
      "\xC2\x80",          // U+0080, smallest 2-byte
      "\xDF\xBF",          // U+07FF, largest 2-byte
      "\xE0\xA0\x80",      // U+0800, smallest 3-byte
      "\xE2\x82\xAC",      // €
      "\xED\x9F\xBF",      // U+D7FF, just below the surrogates
      "\xEE\x80\x80",      // U+E000, just above the surrogates
      "\xEF\xBF\xBF",      // U+FFFF
      "\xF0\x90\x80\x80",  // U+10000, smallest 4-byte
      "\xF0\x9F\x98\x80",  // 😀
      "\xF4\x8F\xBF\xBF",  // U+10FFFF, the largest code point
      Bytes("a\0b", 3),    // NUL is well-formed UTF-8 (CheckText rejects it as a control)
  };
  for (const std::string& s : kValid) {
    EXPECT_TRUE(IsValidUtf8(s)) << absl::CEscape(s);
  }
}

TEST(IsValidUtf8Test, RejectsMalformedText) {
  const std::string kInvalid[] = {
      // Overlong forms.
      "\xC0\xAF",          // '/' in 2 bytes
      "\xC1\xBF",          // U+007F in 2 bytes
      "\xE0\x80\xAF",      // '/' in 3 bytes
      "\xE0\x9F\xBF",      // U+07FF in 3 bytes
      "\xF0\x80\x80\xAF",  // '/' in 4 bytes
      "\xF0\x8F\xBF\xBF",  // U+FFFF in 4 bytes
      // UTF-16 surrogates.
      "\xED\xA0\x80",              // U+D800
      "\xED\xBF\xBF",              // U+DFFF
      "\xED\xA0\xBD\xED\xB8\x80",  // a CESU-8 surrogate pair
      // Beyond U+10FFFF, and bytes UTF-8 never uses.
      "\xF4\x90\x80\x80",  // U+110000
      "\xF5\x80\x80\x80",
      "\xF8\x88\x80\x80\x80",
      "\xFE",
      "\xFF",
      // Truncated sequences.
      "\xC3",
      "Jos\xC3",
      "\xE2\x82",
      "\xF0\x9F\x98",
      "\xE2\x82x",  // cut short by an ASCII byte
      "\xC3\x41",
      // Stray continuation bytes.
      "\x80",
      "a\xBF",
      "\xC3\xA9\xA9",
  };
  for (const std::string& s : kInvalid) {
    EXPECT_FALSE(IsValidUtf8(s)) << absl::CEscape(s);
  }
}

// --- CheckText ---

TEST(CheckTextTest, AcceptsNamesInAnyScript) {
  for (const char* name : {"Ana", "Jos\xC3\xA9 N\xC3\xBA\xC3\xB1\x65z", "Nguy\xE1\xBB\x85n",
                           "\xE6\x9D\x8E\xE5\xB0\x8F\xE9\xBE\x8D", "Ana\xC2\xA0Mar\xC3\xAD\x61",
                           "O'Brien-Smith", " leading and trailing "}) {
    EXPECT_TRUE(CheckText("display_name", name, kMaxNameBytes, true).ok()) << name;
  }
}

TEST(CheckTextTest, LimitIsInBytesAtTheBoundary) {
  EXPECT_TRUE(CheckText("display_name", std::string(kMaxNameBytes, 'a'), kMaxNameBytes, true).ok());
  ExpectRejected(
      CheckText("display_name", std::string(kMaxNameBytes + 1, 'a'), kMaxNameBytes, true),
      "display_name", "");
  // 100 × "é" is 100 characters but 200 bytes: at the limit. One more ASCII byte is over it.
  std::string accents;
  for (int i = 0; i < 100; ++i) accents += "\xC3\xA9";
  EXPECT_TRUE(CheckText("display_name", accents, kMaxNameBytes, true).ok());
  ExpectRejected(CheckText("display_name", accents + "a", kMaxNameBytes, true), "display_name", "");
  EXPECT_TRUE(CheckText("note", std::string(kMaxNoteBytes, 'x'), kMaxNoteBytes, false).ok());
  ExpectRejected(CheckText("note", std::string(kMaxNoteBytes + 1, 'x'), kMaxNoteBytes, false),
                 "note", "");
}

TEST(CheckTextTest, TooLongSaysTheLimit) {
  const absl::Status s =
      CheckText("title", std::string(kMaxTitleBytes + 1, 'a'), kMaxTitleBytes, true);
  EXPECT_EQ(s.message(), "title: must be at most 300 bytes of UTF-8");
}

TEST(CheckTextTest, RequiredRejectsEmptyAndBlank) {
  for (const std::string& blank :
       {std::string(""), std::string(" "), std::string("     "), std::string("\xC2\xA0"),
        std::string("\xE3\x80\x80"), std::string("\xE2\x80\x8B"), std::string(" \xEF\xBB\xBF ")}) {
    const absl::Status s = CheckText("display_name", blank, kMaxNameBytes, true);
    ExpectRejected(s, "display_name", "");
    EXPECT_THAT(std::string(s.message()), HasSubstr("required")) << absl::CEscape(blank);
  }
}

TEST(CheckTextTest, OptionalAcceptsEmpty) {
  EXPECT_TRUE(CheckText("note", "", kMaxNoteBytes, false).ok());
}

TEST(CheckTextTest, RejectsControlCharactersWithoutExceptions) {
  const std::string kControls[] = {
      Bytes("a\0b", 3), "a\tb", "a\nb", "a\rb", "a\x1b[31mb", "a\x7f", "a\xC2\x80",
      "a\xC2\x85",  // NEL
      "a\xC2\x9F",
  };
  for (const std::string& value : kControls) {
    for (bool required : {true, false}) {
      const absl::Status s = CheckText("note", value, kMaxNoteBytes, required);
      ExpectRejected(s, "note", value);
      EXPECT_THAT(std::string(s.message()), HasSubstr("control")) << absl::CEscape(value);
    }
  }
}

TEST(CheckTextTest, RejectsMalformedUtf8) {
  for (const char* value : {"Jos\xC3", "\xC0\xAF", "\xED\xA0\x80", "ab\xFF"}) {
    for (bool required : {true, false}) {
      const absl::Status s = CheckText("display_name", value, kMaxNameBytes, required);
      ExpectRejected(s, "display_name", value);
      EXPECT_THAT(std::string(s.message()), HasSubstr("UTF-8")) << absl::CEscape(value);
    }
  }
}

// Values may be personal data and error messages end up in logs: no rule may quote the value.
TEST(ValidationTest, MessagesNeverEchoTheValue) {
  const std::string secret = "Zorrilla";
  const absl::Status kErrors[] = {
      CheckText("display_name", secret + "\n", kMaxNameBytes, true),
      CheckText("display_name", secret + "\xC3", kMaxNameBytes, true),
      CheckText("display_name", secret + std::string(kMaxNameBytes, 'x'), kMaxNameBytes, true),
      CheckEmail("email", secret + "@@example.org"),
      CheckEmail("email", secret + " @example.org"),
      CheckEmail("email", secret + std::string(254, 'x') + "@example.org"),
      CheckPhone("phone", secret),
      CheckPhone("phone", "+1 510 555 0100 " + secret),
      CheckLanguage("preferred_language", secret),
      CheckTimeZone("time_zone", "America/" + secret),
      CheckTimeZone("time_zone", secret + ":00"),
  };
  for (const absl::Status& s : kErrors) {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_THAT(std::string(s.message()), Not(HasSubstr(secret)));
  }
}

// --- CheckEmail ---

TEST(CheckEmailTest, AcceptsAddressesAndEmpty) {
  for (const char* email : {"", "maria@example.org", "a@b", "first.last+door@sub.example.mx",
                            "jos\xC3\xA9@ejemplo.mx"}) {
    EXPECT_TRUE(CheckEmail("email", email).ok()) << email;
  }
  const std::string longest = std::string(64, 'a') + "@" + std::string(189, 'b');
  ASSERT_EQ(longest.size(), 254u);
  EXPECT_TRUE(CheckEmail("email", longest).ok());
}

TEST(CheckEmailTest, RejectsMalformed) {
  const std::string kInvalid[] = {
      "maria.example.org",
      "maria@@example.org",
      "maria@example@org",
      "@example.org",
      "maria@",
      "@",
      "maria @example.org",
      " maria@example.org",
      "maria@example.org\n",
      "maria\t@example.org",
      "maria\xC2\xA0@example.org",
      "mar\xC3@example.org",
      std::string(64, 'a') + "@" + std::string(190, 'b'),  // 255 bytes
  };
  for (const std::string& email : kInvalid) {
    ExpectRejected(CheckEmail("email", email), "email", email);
  }
}

// --- CheckPhone ---

TEST(CheckPhoneTest, AcceptsCommonFormatsAndEmpty) {
  for (const char* phone :
       {"", "+1 (510) 555-0100", "510.555.0100", "5105550100", "+52 55 1234 5678", "7"}) {
    EXPECT_TRUE(CheckPhone("phone", phone).ok()) << phone;
  }
  EXPECT_TRUE(CheckPhone("phone", std::string(32, '5')).ok());
}

TEST(CheckPhoneTest, RejectsOtherCharactersAndNoDigits) {
  const std::string kInvalid[] = {
      "555-CALL",
      "+52 55 1234 5678 ext 9",
      "510/555/0100",
      "#123",
      "510\n555",
      "\xD9\xA1\xD9\xA2\xD9\xA3",  // Arabic-Indic digits
      "+",
      "()",
      " ",
      "-.-",
      std::string(33, '5'),
  };
  for (const std::string& phone : kInvalid) {
    ExpectRejected(CheckPhone("phone", phone), "phone", phone);
  }
}

// --- CheckLanguage ---

TEST(CheckLanguageTest, AcceptsTags) {
  for (const char* tag : {"", "en", "es", "ES", "fil", "es-MX", "es-mx", "es-419", "zh-Hant",
                          "zh-Hant-TW", "sr-Latn-RS"}) {
    EXPECT_TRUE(CheckLanguage("preferred_language", tag).ok()) << tag;
  }
}

TEST(CheckLanguageTest, RejectsOtherShapes) {
  for (const std::string& tag :
       {std::string("e"), std::string("engl"), std::string("es_MX"), std::string("es-"),
        std::string("-es"), std::string("es--MX"), std::string("es-M"), std::string("es-MXX"),
        std::string("es-1234"), std::string("es-MX-Latn"), std::string("en-US-x-private"),
        std::string("es MX"), std::string("123"), std::string("\xC3\xA9s"), std::string("es\n"),
        std::string(36, 'a')}) {
    ExpectRejected(CheckLanguage("preferred_language", tag), "preferred_language", tag);
  }
}

// --- CheckTimeZone ---

TEST(CheckTimeZoneTest, AcceptsIanaNames) {
  for (const char* tz : {"America/Los_Angeles", "UTC", "Europe/Madrid", "America/Mexico_City",
                         "America/Argentina/Buenos_Aires", "America/Port-au-Prince", "Etc/GMT+5"}) {
    EXPECT_TRUE(CheckTimeZone("time_zone", tz).ok()) << tz;
  }
}

TEST(CheckTimeZoneTest, RejectsUnknownNamesPathsAndHostDependentZones) {
  for (const std::string& tz :
       {std::string("Mars/Olympus_Mons"), std::string("America"), std::string("America/"),
        std::string("America//Los_Angeles"), std::string("America/Los Angeles"),
        std::string("../../../etc/passwd"), std::string("/etc/localtime"),
        std::string("file:/etc/localtime"), std::string("localtime"), std::string("posixrules"),
        std::string("Fixed/UTC+05:00"), std::string("UTC "), std::string("+05:00"),
        std::string(65, 'A')}) {
    ExpectRejected(CheckTimeZone("time_zone", tz), "time_zone", tz);
  }
}

TEST(CheckTimeZoneTest, IsRequired) {
  const absl::Status s = CheckTimeZone("time_zone", "");
  ExpectRejected(s, "time_zone", "");
  EXPECT_THAT(std::string(s.message()), HasSubstr("required"));
}

// --- NormalizeForSearch ---

// Whether `query` matches `name` the way registration_search does: both normalized, the query a
// prefix of the whole name or of a word after a space.
bool Finds(absl::string_view name, absl::string_view query) {
  const std::string stored = NormalizeForSearch(name);
  const std::string q = NormalizeForSearch(query);
  return absl::StartsWith(stored, q) || absl::StrContains(stored, absl::StrCat(" ", q));
}

TEST(NormalizeForSearchTest, FoldsCaseAccentsAndWhitespace) {
  const std::pair<std::string, std::string> kCases[] = {
      {"Jos\xC3\xA9", "jose"},
      {"JOS\xC3\x89", "jose"},                                // É
      {"Jose\xCC\x81", "jose"},                               // e + combining acute
      {"N\xC3\xBA\xC3\xB1\x65z", "nunez"},                    // Núñez
      {"\xC3\x91\x61nd\xC3\xBA", "nandu"},                    // Ñandú
      {"M\xC3\xBCller", "muller"},                            // Müller
      {"Stra\xC3\x9F\x65", "strasse"},                        // Straße
      {"Fran\xC3\xA7ois", "francois"},                        // François
      {"\xC5\x81\xC3\xB3\x64\xC5\xBA", "lodz"},               // Łódź
      {"\xC3\x86r\xC3\xB8sk\xC3\xB8\x62ing", "aeroskobing"},  // Ærøskøbing
      {"\xC5\x92uvre", "oeuvre"},                             // Œuvre
      {"  Jos\xC3\xA9   N\xC3\xBA\xC3\xB1\x65z  ", "jose nunez"},
      {"Ana\tMar\xC3\xAD\x61\n", "ana maria"},
      {"Ana\xC2\xA0Mar\xC3\xAD\x61", "ana maria"},  // no-break space
      {"", ""},
      {" \t\n ", ""},
      // Punctuation separates words, like a space: "smith" is a word of the first name.
      {"O'Brien-Smith 3", "o brien smith 3"},
      {"Jean\xE2\x80\x93Luc St. Pierre", "jean luc st pierre"},  // en dash
      {"-- ", ""},
      {"\xE6\x9D\x8E", "\xE6\x9D\x8E"},  // 李: no case, no marks
      {"2\xC3\x97"
       "3",
       "2 3"},  // ×, spelled "*" in ASCII: punctuation
      // Malformed bytes are dropped so the result is valid UTF-8.
      {"ab\xFF"
       "c\xC3",
       "abc"},
  };
  for (const auto& [in, want] : kCases) {
    EXPECT_EQ(NormalizeForSearch(in), want) << absl::CEscape(in);
  }
}

// Case and accents fold in every script (ICU case folding, nonspacing marks removed), not only in
// Latin-1: the names of the outside client's report, and the scripts of the people this serves.
TEST(NormalizeForSearchTest, FoldsCaseAndAccentsInEveryScript) {
  const std::pair<std::string, std::string> kCases[] = {
      // Vietnamese: stacked marks (ễ is e with circumflex and tilde).
      {"Nguyễn Văn An", "nguyen van an"},
      {"NGUYỄN", "nguyen"},
      {"Đặng Thị Hồng", "dang thi hong"},
      // Pinyin with tone marks.
      {"Lǐ Huá", "li hua"},
      {"LǏ HUÁ", "li hua"},
      // Cyrillic.
      {"Анна Петрова", "анна петрова"},
      {"АННА", "анна"},
      {"Ёлкин", "елкин"},  // Ё is Е with a diaeresis
      // Greek: final sigma folds with sigma, tonos is a mark.
      {"Σωκράτης", "σωκρατησ"},
      {"ΣΩΚΡΆΤΗΣ", "σωκρατησ"},
      // German: ß and ẞ fold to ss.
      {"Weiß", "weiss"},
      {"WEISS", "weiss"},
      {"\xE1\xBA\x9E", "ss"},  // ẞ, capital sharp s
      // French: accents, ligatures and hyphenated names.
      {"Françoise Lefèvre-Dubois", "francoise lefevre dubois"},
      {"Cœur", "coeur"},
      {"\xEF\xAC\x81lomena", "filomena"},  // ﬁ ligature
      // Turkish: dotted capital İ and dotless ı both meet plain i.
      {"İlkay Işık", "ilkay isik"},
      {"ILKAY ISIK", "ilkay isik"},
      // Letters without a decomposition.
      {"Łukasz Søren Þór Ðorđe", "lukasz soren thor dorde"},
      // Fullwidth forms.
      {"\xEF\xBC\xA1\xEF\xBD\x8E\xEF\xBD\x81", "ana"},  // Ａｎａ
      // Arabic and Hebrew have no case: unchanged, except that vowel points are marks.
      {"محمد علي", "محمد علي"},
      {"مُحَمَّد", "محمد"},
      {"דוד לוי", "דוד לוי"},
      {"דָּוִד", "דוד"},
      // CJK and Hangul pass through; kana voicing marks are kept (か and が differ).
      {"王芳", "王芳"},
      {"김민준", "김민준"},
      {"がくと", "がくと"},
  };
  for (const auto& [in, want] : kCases) {
    SCOPED_TRACE(in);
    const std::string normalized = NormalizeForSearch(in);
    EXPECT_EQ(normalized, want);
    EXPECT_EQ(NormalizeForSearch(normalized), normalized) << "normalizing twice changes nothing";
  }
}

// The searches of the outside client's report, as registration_search runs them.
TEST(NormalizeForSearchTest, QueriesFindTheNamesOfTheReport) {
  const std::pair<std::string, std::string> kFinds[] = {
      {"Nguyễn Văn An", "nguyen"}, {"Nguyễn Văn An", "NGUYỄN"}, {"Nguyễn Văn An", "van an"},
      {"Lǐ Huá", "li hua"},        {"Lǐ Huá", "hua"},           {"Анна Петрова", "анна"},
      {"Анна Петрова", "АННА"},    {"Анна Петрова", "петр"},    {"Nguyen-An", "an"},
      {"Nguyen-An Tran", "an tr"}, {"O'Brien", "brien"},        {"Weiß", "WEISS"},
  };
  for (const auto& [name, query] : kFinds) {
    EXPECT_TRUE(Finds(name, query)) << query << " should find " << name;
  }
  EXPECT_FALSE(Finds("Nguyễn Văn An", "guyen"));  // a word prefix, not any substring
  EXPECT_FALSE(Finds("Анна Петрова", "анны"));
}

// Each thread has its own ICU transliterator: threads normalizing at once get the same answers as
// one thread alone.
TEST(NormalizeForSearchTest, ManyThreadsAtOnceGetTheSameForms) {
  const std::vector<std::string> names = {
      "Nguyễn Văn An",           "Lǐ Huá", "Анна Петрова", "Weiß", "İlkay Işık", "Σωκράτης",
      "Françoise Lefèvre-Dubois"};
  std::vector<std::string> expected;
  for (const std::string& n : names) expected.push_back(NormalizeForSearch(n));
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 200; ++round) {
        for (size_t i = 0; i < names.size(); ++i) {
          if (NormalizeForSearch(names[i]) != expected[i]) ++mismatches;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(NormalizeForSearchTest, FindsJoseByJose) {
  const std::string stored =
      NormalizeForSearch("Mar\xC3\xAD\x61 Jos\xC3\xA9 N\xC3\xBA\xC3\xB1\x65z");
  EXPECT_THAT(stored, HasSubstr(NormalizeForSearch("JOSE")));
  EXPECT_THAT(stored, HasSubstr(NormalizeForSearch("jos\xC3\xA9")));
  EXPECT_THAT(stored, HasSubstr(NormalizeForSearch("maria  jose")));
}

TEST(NormalizeForSearchTest, EveryLatinLetterFoldsToLowerCaseAscii) {
  for (char32_t cp = 0xC0; cp < 0x180; ++cp) {
    if (cp == 0xD7 || cp == 0xF7) continue;  // × and ÷
    std::string utf8 = {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
    const std::string folded = NormalizeForSearch(utf8);
    EXPECT_FALSE(folded.empty()) << std::hex << static_cast<uint32_t>(cp);
    for (char c : folded) {
      EXPECT_TRUE(c >= 'a' && c <= 'z')
          << std::hex << static_cast<uint32_t>(cp) << " -> " << folded;
    }
  }
}

TEST(NormalizeForSearchTest, OutputIsAlwaysValidUtf8) {
  for (const std::string& in : {std::string("\xC3\xA9\xFF\xED\xA0\x80z"), std::string("\xF0\x9F"),
                                std::string("\xE2\x82\xAC\xC3")}) {
    EXPECT_TRUE(IsValidUtf8(NormalizeForSearch(in))) << absl::CEscape(in);
  }
}

}  // namespace
}  // namespace turnout::domain
