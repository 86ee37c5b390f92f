// Input validation; see validation.h. Error messages are built from the field name and the rule
// only, never from the value.
#include "server/domain/validation.h"

#include <unicode/normalizer2.h>
#include <unicode/translit.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf16.h>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"

namespace turnout::domain {
namespace {

// Decodes the code point starting at s[pos] into *cp. Returns its length in bytes, or 0 when the
// bytes there are not well-formed UTF-8 (Unicode Table 3-7): an overlong form, a surrogate, a value
// above U+10FFFF, a stray continuation byte, or a sequence cut short.
size_t DecodeUtf8(absl::string_view s, size_t pos, char32_t* cp) {
  const auto lead = static_cast<uint8_t>(s[pos]);
  if (lead < 0x80) {
    *cp = lead;
    return 1;
  }
  size_t len;
  char32_t min;  // the smallest code point that needs `len` bytes; anything below is overlong
  if ((lead & 0xE0) == 0xC0) {
    len = 2;
    min = 0x80;
    *cp = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    len = 3;
    min = 0x800;
    *cp = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    len = 4;
    min = 0x10000;
    *cp = lead & 0x07;
  } else {
    return 0;  // a continuation byte, or 0xF8..0xFF which UTF-8 never uses
  }
  if (s.size() - pos < len) return 0;
  for (size_t i = 1; i < len; ++i) {
    const auto b = static_cast<uint8_t>(s[pos + i]);
    if ((b & 0xC0) != 0x80) return 0;
    *cp = (*cp << 6) | (b & 0x3F);
  }
  if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) return 0;
  return len;
}

// C0 controls, DEL and C1 controls (Unicode general category Cc).
bool IsControl(char32_t cp) { return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F); }

// Unicode White_Space characters.
bool IsSpace(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

// Characters that show nothing: a required name made only of these would be blank on the door
// screen, so it counts as empty.
bool IsInvisible(char32_t cp) {
  return IsSpace(cp) || (cp >= 0x200B && cp <= 0x200D) || cp == 0x2060 || cp == 0xFEFF;
}

// The search form's rules after case folding: marks off (NFD, nonspacing marks removed, NFC), then
// ICU's Latin-ASCII for Latin letters that have no decomposition (ł, ø, đ, ı, æ, þ, ...). The kana
// voicing marks stay: か and が are different syllables, not an accent.
constexpr char kSearchTransform[] =
    "NFD; [[:Nonspacing Mark:] - [\\u3099\\u309A]] Remove; NFC; Latin-ASCII";

[[noreturn]] void IcuFailed(absl::string_view what, UErrorCode status) {
  std::cerr << "turnout: ICU cannot " << what << ": " << u_errorName(status)
            << " (is the ICU data of libicu installed?)\n";
  std::abort();
}

// NFKC with full case folding (Unicode's NFKC_Casefold): Σ, σ and ς alike, ß→ss, ﬁ→fi, fullwidth
// letters to ASCII, and default-ignorable characters (soft hyphen, zero-width joiners) removed.
// ICU's Normalizer2 instances are shared, immutable and safe to use from any thread.
const icu::Normalizer2& CaseFold() {
  static const icu::Normalizer2* const fold = [] {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* n = icu::Normalizer2::getNFKCCasefoldInstance(status);
    if (U_FAILURE(status)) IcuFailed("load NFKC_Casefold", status);
    return n;
  }();
  return *fold;
}

// A Transliterator must not be used by two threads at once, so each thread makes its own on first
// use (the worker pool has a fixed set of threads; the cost is paid once per thread).
const icu::Transliterator& SearchTransliterator() {
  thread_local const std::unique_ptr<icu::Transliterator> transliterator = [] {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::Transliterator> t(icu::Transliterator::createInstance(
        icu::UnicodeString::fromUTF8(kSearchTransform), UTRANS_FORWARD, status));
    if (U_FAILURE(status) || t == nullptr) IcuFailed("create the search transliterator", status);
    return t;
  }();
  return *transliterator;
}

absl::Status Invalid(absl::string_view field, absl::string_view rule) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", rule));
}

absl::Status TooLong(absl::string_view field, size_t max_bytes) {
  return Invalid(field, absl::StrCat("must be at most ", max_bytes, " bytes of UTF-8"));
}

bool IsAsciiAlpha(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isalpha(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool IsAsciiDigits(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool IsLanguageTag(absl::string_view value) {
  std::vector<absl::string_view> parts = absl::StrSplit(value, '-');
  size_t i = 0;
  if (parts[i].size() < 2 || parts[i].size() > 3 || !IsAsciiAlpha(parts[i])) return false;
  ++i;
  if (i < parts.size() && parts[i].size() == 4 && IsAsciiAlpha(parts[i])) ++i;  // script
  if (i < parts.size() && ((parts[i].size() == 2 && IsAsciiAlpha(parts[i])) ||
                           (parts[i].size() == 3 && IsAsciiDigits(parts[i])))) {
    ++i;  // region
  }
  return i == parts.size();
}

constexpr size_t kMaxEmailBytes = 254;  // RFC 5321's limit on a forward path
constexpr size_t kMaxPhoneBytes = 32;
constexpr size_t kMaxLanguageBytes = 35;  // RFC 5646's suggested buffer size
constexpr size_t kMaxTimeZoneBytes = 64;  // the longest IANA name is about half that

}  // namespace

bool IsValidUtf8(absl::string_view s) {
  for (size_t i = 0; i < s.size();) {
    char32_t cp;
    const size_t n = DecodeUtf8(s, i, &cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

absl::Status CheckText(absl::string_view field, absl::string_view value, size_t max_bytes,
                       bool required) {
  if (value.size() > max_bytes) return TooLong(field, max_bytes);
  bool blank = true;
  for (size_t i = 0; i < value.size();) {
    char32_t cp;
    const size_t n = DecodeUtf8(value, i, &cp);
    if (n == 0) return Invalid(field, "must be valid UTF-8");
    if (IsControl(cp)) return Invalid(field, "must not contain control characters");
    if (!IsInvisible(cp)) blank = false;
    i += n;
  }
  if (required && blank) return Invalid(field, "is required and must not be blank");
  return absl::OkStatus();
}

absl::Status CheckEmail(absl::string_view field, absl::string_view value) {
  if (value.empty()) return absl::OkStatus();
  if (value.size() > kMaxEmailBytes) return TooLong(field, kMaxEmailBytes);
  for (size_t i = 0; i < value.size();) {
    char32_t cp;
    const size_t n = DecodeUtf8(value, i, &cp);
    if (n == 0) return Invalid(field, "must be valid UTF-8");
    if (IsControl(cp) || IsInvisible(cp)) {
      return Invalid(field, "must not contain spaces or control characters");
    }
    i += n;
  }
  const size_t at = value.find('@');
  if (at == absl::string_view::npos || at == 0 || at + 1 == value.size() ||
      value.find('@', at + 1) != absl::string_view::npos) {
    return Invalid(field, "must be an address with exactly one '@' and text on both sides");
  }
  return absl::OkStatus();
}

absl::Status CheckPhone(absl::string_view field, absl::string_view value) {
  if (value.empty()) return absl::OkStatus();
  if (value.size() > kMaxPhoneBytes) return TooLong(field, kMaxPhoneBytes);
  bool has_digit = false;
  for (char c : value) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      has_digit = true;
    } else if (absl::string_view(" +-().").find(c) == absl::string_view::npos) {
      return Invalid(field, "may contain only digits, spaces and + - ( ) .");
    }
  }
  if (!has_digit) return Invalid(field, "must contain at least one digit");
  return absl::OkStatus();
}

absl::Status CheckLanguage(absl::string_view field, absl::string_view value) {
  if (value.empty()) return absl::OkStatus();
  if (value.size() > kMaxLanguageBytes) return TooLong(field, kMaxLanguageBytes);
  if (!IsLanguageTag(value)) {
    return Invalid(field, "must be a language tag like \"en\", \"es\" or \"es-MX\"");
  }
  return absl::OkStatus();
}

absl::Status CheckTimeZone(absl::string_view field, absl::string_view value) {
  if (value.empty()) return Invalid(field, "is required");
  if (value.size() > kMaxTimeZoneBytes) return TooLong(field, kMaxTimeZoneBytes);
  const absl::Status not_a_zone =
      Invalid(field, "must be an IANA time zone name like \"America/Los_Angeles\"");
  // IANA names use only these characters. Excluding '.' and ':' rules out "..", "file:" and the
  // like before the name reaches the zoneinfo loader, which would open it as a path.
  for (char c : value) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) &&
        absl::string_view("/_+-").find(c) == absl::string_view::npos) {
      return not_a_zone;
    }
  }
  if (value.front() == '/' || value.back() == '/' || value.find("//") != absl::string_view::npos) {
    return not_a_zone;
  }
  // These load whatever the host is configured with, so an event's times would vary by server.
  if (value == "localtime" || value == "posixrules") return not_a_zone;
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(std::string(value), &tz)) return not_a_zone;
  return absl::OkStatus();
}

std::string NormalizeForSearch(absl::string_view s) {
  std::string valid;  // ICU would turn malformed bytes into U+FFFD; they are dropped instead
  valid.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    char32_t cp;
    const size_t n = DecodeUtf8(s, i, &cp);
    if (n == 0) {
      ++i;
      continue;
    }
    valid.append(s.data() + i, n);
    i += n;
  }
  UErrorCode status = U_ZERO_ERROR;
  icu::UnicodeString text = CaseFold().normalize(icu::UnicodeString::fromUTF8(valid), status);
  SearchTransliterator().transliterate(text);
  // Latin-ASCII can give capitals (© → "(C)"), so fold once more; folding is idempotent.
  text = CaseFold().normalize(text, status);
  if (U_FAILURE(status)) IcuFailed("fold the case of a name", status);

  // Punctuation (hyphens, apostrophes, dots) separates words like whitespace: "Nguyen-An" has the
  // words "nguyen" and "an". Runs of separators become one space; leading and trailing ones go.
  icu::UnicodeString words;
  bool pending_space = false;
  for (int32_t i = 0; i < text.length();) {
    const UChar32 c = text.char32At(i);
    i += U16_LENGTH(c);
    if (u_isUWhiteSpace(c) || (U_GET_GC_MASK(c) & (U_GC_P_MASK | U_GC_CC_MASK)) != 0) {
      pending_space = !words.isEmpty();
      continue;
    }
    if (pending_space) {
      words.append(static_cast<UChar>(' '));
      pending_space = false;
    }
    words.append(c);
  }
  std::string out;
  words.toUTF8String(out);
  return out;
}

}  // namespace turnout::domain
