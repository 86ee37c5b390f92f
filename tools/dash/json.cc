// JsonString; see json.h.
#include "tools/dash/json.h"

#include "absl/strings/str_format.h"

namespace turnout::dash {

std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '<':
      case '>':
      case '&':
        absl::StrAppendFormat(&out, "\\u%04x", u);
        break;
      default:
        if (u < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", u);
        } else {
          out += c;
        }
    }
  }
  out += "\"";
  return out;
}

}  // namespace turnout::dash
