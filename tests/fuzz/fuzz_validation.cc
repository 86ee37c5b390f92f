// Input validation (server/domain/validation.h): every check answers OK or INVALID_ARGUMENT naming
// the field, and what it lets through keeps its documented rules; the UTF-8 check agrees with
// ICU's decoder; and the search form of any bytes is valid UTF-8 that normalizes to itself.
#include <unicode/utf8.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "server/domain/validation.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace domain = turnout::domain;

// ICU's reading of `s`: false when it is not well-formed UTF-8 (surrogates included); `controls`
// is set when a code point is a C0 or C1 control character or DEL.
bool IcuDecodes(absl::string_view s, bool* controls) {
  *controls = false;
  const auto* bytes = reinterpret_cast<const uint8_t*>(s.data());
  const int32_t length = static_cast<int32_t>(s.size());
  for (int32_t i = 0; i < length;) {
    UChar32 c;
    U8_NEXT(bytes, i, length, c);
    if (c < 0) return false;
    if (c < 0x20 || (c >= 0x7F && c <= 0x9F)) *controls = true;
  }
  return true;
}

void CheckAnswer(const absl::Status& status, absl::string_view field) {
  if (status.ok()) return;
  FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument,
             "a validation error is not INVALID_ARGUMENT");
  FUZZ_CHECK(absl::StartsWith(status.message(), absl::StrCat(field, ": ")),
             "a validation error does not start with the field's name");
}

void CheckTextRules(absl::string_view value, bool valid_utf8, bool controls) {
  for (size_t max_bytes : {domain::kMaxShortTextBytes, domain::kMaxNoteBytes}) {
    for (bool required : {false, true}) {
      const absl::Status status = domain::CheckText("title", value, max_bytes, required);
      CheckAnswer(status, "title");
      if (!status.ok()) continue;
      FUZZ_CHECK(valid_utf8 && !controls, "text with bad UTF-8 or a control character passed");
      FUZZ_CHECK(value.size() <= max_bytes, "text over its byte limit passed");
      FUZZ_CHECK(!required || !absl::StripAsciiWhitespace(value).empty(),
                 "required text that is blank passed");
    }
  }
}

void CheckContactRules(absl::string_view value, bool valid_utf8, bool controls) {
  const absl::Status email = domain::CheckEmail("email", value);
  CheckAnswer(email, "email");
  if (email.ok() && !value.empty()) {
    const size_t at = value.find('@');
    FUZZ_CHECK(value.size() <= 254 && valid_utf8 && !controls, "a bad e-mail address passed");
    FUZZ_CHECK(at != absl::string_view::npos && at > 0 && at + 1 < value.size() &&
                   value.find('@', at + 1) == absl::string_view::npos,
               "an e-mail address without exactly one '@' between text passed");
    FUZZ_CHECK(absl::c_none_of(value, [](char c) { return absl::ascii_isspace(c); }),
               "an e-mail address with whitespace passed");
  }

  const absl::Status phone = domain::CheckPhone("phone", value);
  CheckAnswer(phone, "phone");
  if (phone.ok() && !value.empty()) {
    FUZZ_CHECK(value.size() <= 32, "a phone number over 32 bytes passed");
    FUZZ_CHECK(absl::c_all_of(value,
                              [](char c) {
                                return absl::ascii_isdigit(c) || absl::string_view(" +-().").find(
                                                                     c) != absl::string_view::npos;
                              }),
               "a phone number with other characters passed");
    FUZZ_CHECK(absl::c_any_of(value, [](char c) { return absl::ascii_isdigit(c); }),
               "a phone number without a digit passed");
  }

  const absl::Status language = domain::CheckLanguage("language", value);
  CheckAnswer(language, "language");
  if (language.ok()) {
    FUZZ_CHECK(value.size() <= 35 &&
                   absl::c_all_of(value, [](char c) { return absl::ascii_isalnum(c) || c == '-'; }),
               "a language tag of other characters passed");
  }
}

void CheckTimeZoneRules(absl::string_view value) {
  const absl::Status status = domain::CheckTimeZone("time_zone", value);
  CheckAnswer(status, "time_zone");
  if (!status.ok()) return;
  FUZZ_CHECK(!value.empty() && value.front() != '/' && !absl::StrContains(value, "..") &&
                 value != "localtime",
             "a time zone that is a path or depends on the host passed");
}

void CheckSearchForm(absl::string_view value) {
  const std::string once = domain::NormalizeForSearch(value);
  bool controls = false;
  FUZZ_CHECK(IcuDecodes(once, &controls), "a search form is not valid UTF-8");
  FUZZ_CHECK(domain::NormalizeForSearch(once) == once, "normalizing a search form changes it");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view value(reinterpret_cast<const char*>(data), size);
  bool controls = false;
  const bool valid_utf8 = IcuDecodes(value, &controls);
  FUZZ_CHECK(domain::IsValidUtf8(value) == valid_utf8, "IsValidUtf8 disagrees with ICU");
  CheckTextRules(value, valid_utf8, controls);
  CheckContactRules(value, valid_utf8, controls);
  CheckTimeZoneRules(value);
  CheckSearchForm(value);
  return 0;
}
