// The little JSON turnout-dash writes: a string literal, escaped so that it is also safe inside an
// HTML <script> element.
#ifndef TURNOUT_TOOLS_DASH_JSON_H_
#define TURNOUT_TOOLS_DASH_JSON_H_

#include <string>

#include "absl/strings/string_view.h"

namespace turnout::dash {

// `text` (UTF-8) as a quoted JSON string. Quotes, backslashes and control characters are escaped,
// and so are '<', '>' and '&', so that "</script>" in a room's title cannot end a script.
std::string JsonString(absl::string_view text);

}  // namespace turnout::dash

#endif  // TURNOUT_TOOLS_DASH_JSON_H_
