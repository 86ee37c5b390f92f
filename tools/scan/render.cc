// The door screen; see render.h.
#include "tools/scan/render.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tools/scan/big_letters.h"
#include "tools/scan/input.h"

namespace turnout::tools::scan {
namespace {

constexpr char kClear[] = "\x1b[H\x1b[2J";
constexpr char kReset[] = "\x1b[0m";
constexpr char kBold[] = "\x1b[1m";
constexpr char kReverse[] = "\x1b[7m";
constexpr char kFlagColour[] = "\x1b[1;33m";  // bold yellow on the default background

// Background and foreground of the banner: white on green, black on amber, white on red.
const char* BannerColour(Tone tone) {
  switch (tone) {
    case Tone::kGo:
      return "\x1b[1;97;42m";
    case Tone::kCaution:
      return "\x1b[1;30;48;5;214m";
    case Tone::kStop:
      return "\x1b[1;97;41m";
    case Tone::kNeutral:
      break;
  }
  return "\x1b[1;97;44m";
}

// `text` centred in `width` columns, padded on both sides.
std::string Centre(const std::string& text, int width) {
  const int length = static_cast<int>(CodePoints(text));
  if (length >= width) return text;
  const int left = (width - length) / 2;
  return std::string(left, ' ') + text + std::string(width - length - left, ' ');
}

// At most `width` code points of `text`.
std::string Clip(const std::string& text, int width) {
  size_t points = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 &&
        points++ == static_cast<size_t>(width)) {
      return text.substr(0, i);
    }
  }
  return text;
}

// "A D M I T T E D": for headlines too wide for block letters.
std::string Spaced(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    out += text[i];
    if (i + 1 < text.size() && (static_cast<unsigned char>(text[i + 1]) & 0xC0) != 0x80) out += ' ';
  }
  return out;
}

std::vector<std::string> BannerRows(const View& view, int width) {
  std::vector<std::string> rows;
  if (view.headline.empty()) return rows;
  if (BigLettersWidth(view.headline) + 4 <= width) {
    rows.push_back("");
    for (const std::string& row : BigLetters(view.headline)) rows.push_back(row);
    rows.push_back("");
  } else {
    rows = {"", Spaced(view.headline), ""};
  }
  return rows;
}

// The status line's parts (" · " between them) packed into lines of at most `width` columns.
std::vector<std::string> WrapStatus(const std::string& status, int width) {
  std::vector<std::string> lines;
  for (absl::string_view part : absl::StrSplit(status, " · ")) {
    const std::string piece(part);
    if (!lines.empty() &&
        CodePoints(lines.back()) + 3 + CodePoints(piece) <= static_cast<size_t>(width)) {
      absl::StrAppend(&lines.back(), " · ", piece);
    } else {
      lines.push_back(Clip(piece, width));
    }
  }
  return lines;
}

}  // namespace

std::string Printable(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\t') {
      out += ' ';
    } else if (c < 0x20 || c == 0x7f) {
      continue;
    } else if (c == 0xC2 && i + 1 < text.size() &&
               static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      ++i;  // a C1 control, U+0080..U+009F
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string Render(const View& view, const RenderOptions& options) {
  const int width = std::max(options.width, 20);
  std::vector<std::string> banner = BannerRows(view, width);
  for (std::string& row : banner) row = Centre(row, width);
  if (!view.subtitle.empty()) banner.push_back(Centre(Printable(view.subtitle), width));
  if (!banner.empty()) banner.push_back(std::string(width, ' '));

  // The body: the name in bold, flags in yellow, then details and the list.
  std::vector<std::pair<const char*, std::string>> body;  // (colour, text)
  if (!view.name.empty()) body.push_back({kBold, "  " + Printable(view.name)});
  for (const std::string& flag : view.flags)
    body.push_back({kFlagColour, "  ⚑ " + Printable(flag)});
  for (const std::string& detail : view.details) body.push_back({"", "  " + Printable(detail)});
  if (!view.list.empty() && !body.empty()) body.push_back({"", ""});
  for (const std::string& item : view.list) {
    for (absl::string_view line : absl::StrSplit(item, '\n')) {
      body.push_back({"", "  " + Printable(std::string(line))});
    }
  }

  std::string out;
  if (!options.colour) {
    const std::string rule(width, '=');
    absl::StrAppend(&out, rule, "\n");
    for (const std::string& row : banner) absl::StrAppend(&out, row, "\n");
    for (const auto& [colour, text] : body) absl::StrAppend(&out, Clip(text, width), "\n");
    absl::StrAppend(&out, std::string(width, '-'), "\n");
    for (const std::string& line : WrapStatus(Printable(view.status), width)) {
      absl::StrAppend(&out, line, "\n");
    }
    absl::StrAppend(&out, view.prompt);
    return out;
  }

  if (view.bell) out += '\a';
  out += kClear;
  const char* colour = BannerColour(view.tone);
  for (const std::string& row : banner) absl::StrAppend(&out, colour, row, kReset, "\n");
  // The status line (one or two rows) and the prompt take the last rows.
  const std::vector<std::string> status = WrapStatus(" " + Printable(view.status), width);
  const int reserved = static_cast<int>(status.size()) + 2;
  const int room = std::max(options.height - static_cast<int>(banner.size()) - reserved, 0);
  int row = static_cast<int>(banner.size());
  for (int i = 0; i < static_cast<int>(body.size()) && i < room; ++i, ++row) {
    absl::StrAppend(&out, body[i].first, Clip(body[i].second, width), kReset, "\n");
  }
  const int status_row = std::max(options.height - static_cast<int>(status.size()), row + 2);
  absl::StrAppend(&out, "\x1b[", status_row, ";1H");
  for (const std::string& line : status) {
    absl::StrAppend(&out, kReverse, line,
                    std::string(width - std::min<int>(CodePoints(line), width), ' '), kReset,
                    "\r\n");
  }
  out += view.prompt;
  return out;
}

}  // namespace turnout::tools::scan
