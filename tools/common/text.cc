#include "tools/common/text.h"

#include "absl/strings/str_format.h"

namespace turnout::tools {

uint32_t DecodeUtf8(absl::string_view text, size_t i, size_t* length) {
  const unsigned char c = static_cast<unsigned char>(text[i]);
  *length = 0;
  size_t n;
  uint32_t cp;
  if (c < 0x80) {
    *length = 1;
    return c;
  } else if ((c & 0xE0) == 0xC0) {
    n = 2, cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const unsigned char d = static_cast<unsigned char>(text[i + k]);
    if ((d & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (d & 0x3F);
  }
  // Overlong forms, surrogates and code points past Unicode are not UTF-8.
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  *length = n;
  return cp;
}

std::string JsonQuote(absl::string_view text) {
  std::string out = "\"";
  for (size_t i = 0; i < text.size();) {
    size_t length;
    const uint32_t cp = DecodeUtf8(text, i, &length);
    if (length == 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    switch (cp) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      case '<':
      case '>':
      case '&':  // so that "</script>" in a name cannot end a page's script element
        absl::StrAppendFormat(&out, "\\u%04x", cp);
        break;
      default:
        if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029) {
          absl::StrAppendFormat(&out, "\\u%04x", cp);
        } else {
          out.append(text.data() + i, length);
        }
    }
    i += length;
  }
  out += "\"";
  return out;
}

}  // namespace turnout::tools
