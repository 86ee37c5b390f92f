// Input validation shared by every API: text, contact fields, language tags, time zones, and the
// size limits, in one place.
//
// The gRPC layer calls these before anything changes, so bad input of every kind gets a precise
// InvalidArgument and nothing is written. Error messages name the field and the rule and never
// echo the value: values may be personal data, and error messages end up in logs.
//
//   if (absl::Status s = CheckText("display_name", req.display_name(), kMaxNameBytes, true);
//       !s.ok()) return s;
#ifndef TURNOUT_SERVER_DOMAIN_VALIDATION_H_
#define TURNOUT_SERVER_DOMAIN_VALIDATION_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace turnout::domain {

// Limits used across the API. Byte limits, not character limits: storage and wire sizes are in
// bytes, and a byte limit cannot be dodged with combining characters.
inline constexpr size_t kMaxNameBytes = 200;       // display names
inline constexpr size_t kMaxTitleBytes = 300;      // event and session titles, venues
inline constexpr size_t kMaxShortTextBytes = 100;  // rooms, tracks, device labels
inline constexpr size_t kMaxRequestIdBytes = 128;  // client_scan_id, request ids
inline constexpr size_t kMaxCodeBytes = 512;       // a scanned ticket code
inline constexpr size_t kMaxNoteBytes = 2000;      // free-text notes

// True when `s` is well-formed UTF-8: no overlong forms, no surrogates (U+D800..U+DFFF), nothing
// above U+10FFFF, no truncated or stray continuation bytes. The empty string is valid.
bool IsValidUtf8(absl::string_view s);

// Text of at most `max_bytes` bytes of valid UTF-8 with no control characters (C0, DEL, C1; no
// exceptions, not even tab or newline). When `required`, empty or whitespace-only text is rejected;
// when optional, empty is fine. Returns OK or InvalidArgument, e.g.
// "display_name: must be at most 200 bytes of UTF-8".
absl::Status CheckText(absl::string_view field, absl::string_view value, size_t max_bytes,
                       bool required);

// Optional e-mail address. When set: at most 254 bytes of valid UTF-8, exactly one '@' with text on
// both sides, no whitespace or control characters. Deliverability is not checked.
absl::Status CheckEmail(absl::string_view field, absl::string_view value);

// Optional phone number. When set: at most 32 bytes of digits, spaces and "+-().", with at least
// one digit. Formats differ by country, so nothing more is assumed.
absl::Status CheckPhone(absl::string_view field, absl::string_view value);

// Optional BCP-47-style language tag, at most 35 bytes: a 2-3 letter language, then optionally a
// 4-letter script and/or a region (2 letters or 3 digits), separated by '-'. Case-insensitive:
// "en", "es-MX", "es-419", "zh-Hant-TW".
absl::Status CheckLanguage(absl::string_view field, absl::string_view value);

// Required IANA time zone name ("America/Los_Angeles", "UTC") that absl::LoadTimeZone can load.
// Names that are paths ("/etc/...", "..") or depend on the host's configuration ("localtime") are
// rejected, so a request cannot make the server read arbitrary files or vary by machine.
absl::Status CheckTimeZone(absl::string_view field, absl::string_view value);

// The form names are compared in for search, the same in every script: case folded (NFKC_Casefold:
// "АННА" and "анна", "Σ", "σ" and "ς", "ß" and "ss", "ﬁ" and "fi" compare equal), accents and
// other nonspacing marks removed ("Nguyễn" → "nguyen", "Lǐ" → "li", Hebrew and Arabic vowel
// points), Latin letters without a decomposition spelled in ASCII ("Łódź" → "lodz", "Işık" →
// "isik", "Æ" → "ae"), punctuation taken as a space ("Nguyen-An" → "nguyen an", so "an" is a word
// of it), runs of whitespace collapsed to one space and trimmed. Scripts without case or marks pass
// through ("王芳"). Bytes that are not valid UTF-8 are dropped so the result is always valid UTF-8.
// Idempotent and thread-safe; built on ICU.
std::string NormalizeForSearch(absl::string_view s);

// The version of NormalizeForSearch's rules. Each stored search form records the version that
// computed it, and the server recomputes older ones at start-up (store/search_names.h); raise it
// whenever the rules change. 1: Latin-1 and Latin Extended-A only, before ICU.
inline constexpr int kSearchNormalizationVersion = 2;

}  // namespace turnout::domain

#endif  // TURNOUT_SERVER_DOMAIN_VALIDATION_H_
