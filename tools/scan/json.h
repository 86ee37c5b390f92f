// One JSON object on one line, for `turnout-scan --json`: scripts read a line per scan. Strings are
// escaped so that the output holds no control character at all (no terminal escape can pass
// through a name), and invalid UTF-8 becomes U+FFFD.
//
//   JsonLine line;
//   line.Add("status", "ADMITTED").Add("offline", false).AddStrings("flags", {"dietary"});
//   std::cout << line.Finish() << "\n";  // {"status":"ADMITTED","offline":false,"flags":[...]}
#ifndef TURNOUT_TOOLS_SCAN_JSON_H_
#define TURNOUT_TOOLS_SCAN_JSON_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "tools/common/text.h"

namespace turnout::tools::scan {

class JsonLine {
 public:
  JsonLine& Add(absl::string_view key, absl::string_view value);
  JsonLine& Add(absl::string_view key, const char* value) {
    return Add(key, absl::string_view(value));
  }
  JsonLine& Add(absl::string_view key, int64_t value);
  JsonLine& Add(absl::string_view key, bool value);
  JsonLine& AddStrings(absl::string_view key, const std::vector<std::string>& values);
  // `json` must already be valid JSON (an array of objects made with JsonLine, say).
  JsonLine& AddRaw(absl::string_view key, absl::string_view json);
  // The object, without a line end.
  std::string Finish() const { return "{" + body_ + "}"; }

 private:
  void Key(absl::string_view key);
  std::string body_;
};

// `objects` (each from JsonLine::Finish) as a JSON array.
std::string JsonArray(const std::vector<std::string>& objects);

}  // namespace turnout::tools::scan

#endif  // TURNOUT_TOOLS_SCAN_JSON_H_
