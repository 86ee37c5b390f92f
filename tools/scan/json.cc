// JSON lines; see json.h.
#include "tools/scan/json.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tools/common/text.h"

namespace turnout::tools::scan {

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
