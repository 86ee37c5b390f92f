// Lines and what they are; see input.h.
#include "tools/scan/input.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "tools/common/text.h"

namespace turnout::tools::scan {
namespace {

// The length of the UTF-8 sequence starting at text[i] if it is valid and printable, else 0.
size_t PrintableSequence(absl::string_view text, size_t i) {
  size_t n = 0;
  const uint32_t cp = DecodeUtf8(text, i, &n);
  if (n == 0) return 0;
  if (cp == '\t') return 1;
  if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9F)) return 0;  // C0 and C1 controls
  return n;
}

bool HasImageExtension(absl::string_view path) {
  for (absl::string_view ext : {".png", ".jpg", ".jpeg"}) {
    if (absl::EndsWithIgnoreCase(path, ext) && path.size() > ext.size()) return true;
  }
  return false;
}

// A path as terminals paste a dropped file: maybe quoted, maybe a file:// URI.
absl::string_view UnquotePath(absl::string_view text) {
  if (text.size() >= 2 && (text.front() == '\'' || text.front() == '"') &&
      text.back() == text.front()) {
    text = text.substr(1, text.size() - 2);
  }
  absl::ConsumePrefix(&text, "file://");
  return text;
}

}  // namespace

bool IsPrintableUtf8(absl::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const size_t n = PrintableSequence(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

size_t CodePoints(absl::string_view text) {
  size_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::vector<Line> LineReader::Feed(absl::string_view bytes) {
  std::vector<Line> lines;
  for (char c : bytes) {
    if (c == '\n' && after_cr_) {
      after_cr_ = false;
      continue;
    }
    after_cr_ = c == '\r';
    if (c == '\n' || c == '\r') {
      lines.push_back(std::move(current_));
      current_ = Line();
      continue;
    }
    if (current_.text.size() < kMaxLineBytes) current_.text.push_back(c);
    ++current_.bytes;
  }
  return lines;
}

std::optional<Line> LineReader::Finish() {
  if (current_.bytes == 0) return std::nullopt;
  Line last = std::move(current_);
  current_ = Line();
  return last;
}

Input ClassifyLine(const Line& line) {
  Input input;
  input.bytes = line.bytes;
  if (line.too_long()) {
    input.kind = Input::kTooLong;
    return input;
  }
  if (!IsPrintableUtf8(line.text)) {
    input.kind = Input::kBinary;
    return input;
  }
  const absl::string_view text = absl::StripAsciiWhitespace(line.text);
  if (text.empty()) {
    input.kind = Input::kEmpty;
    return input;
  }
  if (const absl::string_view path = UnquotePath(text); HasImageExtension(path)) {
    input.kind = Input::kImagePath;
    input.text = std::string(path);
    return input;
  }
  if (text.front() == '/') {
    input.kind = Input::kCommand;
    absl::string_view rest = text.substr(1);
    const size_t space = rest.find_first_of(" \t");
    input.command = absl::AsciiStrToLower(rest.substr(0, space));
    if (space != absl::string_view::npos) {
      input.text = std::string(absl::StripAsciiWhitespace(rest.substr(space)));
    }
    return input;
  }
  input.kind = Input::kCode;
  input.text = std::string(text);
  return input;
}

}  // namespace turnout::tools::scan
