// JSON lines; see json.h.
#include "tools/scan/json.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tools/scan/input.h"

namespace turnout::tools::scan {

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

void JsonLine::Key(absl::string_view key) {
  if (!body_.empty()) body_ += ",";
  absl::StrAppend(&body_, JsonQuote(key), ":");
}

JsonLine& JsonLine::Add(absl::string_view key, absl::string_view value) {
  Key(key);
  body_ += JsonQuote(value);
  return *this;
}

JsonLine& JsonLine::Add(absl::string_view key, int64_t value) {
  Key(key);
  absl::StrAppend(&body_, value);
  return *this;
}

JsonLine& JsonLine::Add(absl::string_view key, bool value) {
  Key(key);
  body_ += value ? "true" : "false";
  return *this;
}

JsonLine& JsonLine::AddStrings(absl::string_view key, const std::vector<std::string>& values) {
  Key(key);
  absl::StrAppend(
      &body_, "[",
      absl::StrJoin(values, ",",
                    [](std::string* out, const std::string& v) { out->append(JsonQuote(v)); }),
      "]");
  return *this;
}

JsonLine& JsonLine::AddRaw(absl::string_view key, absl::string_view json) {
  Key(key);
  body_.append(json.data(), json.size());
  return *this;
}

std::string JsonArray(const std::vector<std::string>& objects) {
  return absl::StrCat("[", absl::StrJoin(objects, ","), "]");
}

}  // namespace turnout::tools::scan
