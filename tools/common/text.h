// Text the tools write for other programs: UTF-8 decoding and JSON string literals, shared by
// turnout-scan's --json lines and turnout-dash's page data.
#ifndef TURNOUT_TOOLS_COMMON_TEXT_H_
#define TURNOUT_TOOLS_COMMON_TEXT_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace turnout::tools {

// Decodes one UTF-8 sequence at text[i]: its code point, and its length in *length, 0 when the
// bytes there are not valid UTF-8 (overlong, surrogate, truncated, past U+10FFFF).
uint32_t DecodeUtf8(absl::string_view text, size_t i, size_t* length);

// `text` as a JSON string literal, quotes included. Escapes '"', '\\', every C0 control, DEL, the
// C1 controls, U+2028/U+2029, and '<', '>', '&' (safe inside an HTML <script> element too);
// replaces invalid UTF-8 with U+FFFD. The output holds no control character at all, so no
// terminal escape can pass through a name.
std::string JsonQuote(absl::string_view text);

}  // namespace turnout::tools

#endif  // TURNOUT_TOOLS_COMMON_TEXT_H_
