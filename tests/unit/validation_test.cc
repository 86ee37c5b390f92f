// Tests of input validation: UTF-8, text limits at the boundary, control characters, contact
// fields, language tags, time zones, and the search normal form.
#include "server/domain/validation.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
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
      {"O'Brien-Smith 3", "o'brien-smith 3"},
      // Outside Latin-1 and Latin Extended-A, characters pass through unchanged.
      {"\xCE\xA3\xCE\xBF\xCF\x86\xCE\xAF\xCE\xB1", "\xCE\xA3\xCE\xBF\xCF\x86\xCE\xAF\xCE\xB1"},
      {"\xE6\x9D\x8E", "\xE6\x9D\x8E"},
      {"2\xC3\x97"
       "3",
       "2\xC3\x97"
       "3"},  // × is not a letter
      // Malformed bytes are dropped so the result is valid UTF-8.
      {"ab\xFF"
       "c\xC3",
       "abc"},
  };
  for (const auto& [in, want] : kCases) {
    EXPECT_EQ(NormalizeForSearch(in), want) << absl::CEscape(in);
  }
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
