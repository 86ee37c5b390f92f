// What turnout-scan reads from its terminal: lines from a USB keyboard-wedge scanner (the code,
// then Enter), typed codes and commands, and image paths dropped onto the terminal. LineReader
// cuts the byte stream into lines without ever holding more than kMaxLineBytes of one;
// ClassifyLine says what a line is. Neither trusts its input: junk is classified, not obeyed.
//
//   LineReader reader;
//   for (const Line& line : reader.Feed(bytes)) {
//     Input input = ClassifyLine(line);
//     if (input.kind == Input::kCode) door.Scan({.code = input.text});
//   }
//
// Commands start with '/' (a ticket code never does): /x, /f NAME, /1, /w NAME; LANG; FLAGS,
// /u, /c [N], /s, /?, /q. The README's "At the door" lists them.
#ifndef TURNOUT_TOOLS_SCAN_INPUT_H_
#define TURNOUT_TOOLS_SCAN_INPUT_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace turnout::tools::scan {

// A ticket code is at most 150 characters; the server takes at most 512 bytes of anything scanned.
// Longer lines are junk (a scanner stuck on repeat, a paste gone wrong) and are never sent.
inline constexpr size_t kMaxLineBytes = 512;

struct Line {
  std::string text;  // at most kMaxLineBytes, without the line end
  size_t bytes = 0;  // the whole line's length, as read
  bool too_long() const { return bytes > kMaxLineBytes; }
};

// Cuts bytes into lines. A line ends at '\n', '\r' or "\r\n" (scanners are set up to send
// either), so "\r\n" is one line end, not an empty line after one.
class LineReader {
 public:
  // The lines completed by `bytes`.
  std::vector<Line> Feed(absl::string_view bytes);
  // At end of input: the last line if it had no line end.
  std::optional<Line> Finish();

 private:
  Line current_;
  bool after_cr_ = false;
};

struct Input {
  enum Kind {
    kEmpty,      // nothing but spaces
    kTooLong,    // longer than kMaxLineBytes; `bytes` says how long
    kBinary,     // control characters or invalid UTF-8 (line noise, a function key's escape)
    kCode,       // anything else: a ticket code, trimmed, for the door to decide
    kImagePath,  // a path ending in .png, .jpg or .jpeg (a file dropped onto the terminal)
    kCommand,    // "/" then a command word; `command` and `text` (its argument, trimmed)
  };
  Kind kind = kEmpty;
  std::string text;
  std::string command;  // lower case, without the '/': "x", "f", "w", "3", ...
  size_t bytes = 0;
};

Input ClassifyLine(const Line& line);

// True when `text` is valid UTF-8 with no control characters (C0 but tab, DEL, C1).
bool IsPrintableUtf8(absl::string_view text);

// The number of code points in valid UTF-8 `text`.
size_t CodePoints(absl::string_view text);

}  // namespace turnout::tools::scan

#endif  // TURNOUT_TOOLS_SCAN_INPUT_H_
