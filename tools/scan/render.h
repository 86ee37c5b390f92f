// The door screen as text: a verdict banner in block letters (green, amber or red), the
// attendee's name, attention flags and breakouts, a list (search results, checkpoints, help) and
// a status line. Render is a pure function of a View, so tests read the screen from a string.
//
//   View view;
//   view.tone = Tone::kGo;
//   view.headline = "ADMITTED";
//   std::cout << Render(view, {.colour = true, .width = 80, .height = 24});
//
// With colour it draws a full screen with ANSI escapes (clear, colours, the status line on the
// last rows) and rings the bell when the view asks; without colour it prints the same content as
// plain lines with no control character but '\n', for a terminal that cannot take escapes.
#ifndef TURNOUT_TOOLS_SCAN_RENDER_H_
#define TURNOUT_TOOLS_SCAN_RENDER_H_

#include <string>
#include <vector>

namespace turnout::tools::scan {

enum class Tone {
  kNeutral,  // ready, help, lists
  kGo,       // green: admitted, exit recorded
  kCaution,  // amber: already checked in
  kStop,     // red: refused, or input that was not a ticket
};

struct View {
  Tone tone = Tone::kNeutral;
  std::string headline;              // in block letters when they fit, else as a wide banner
  std::string subtitle;              // the verdict in words, under the banner
  std::string name;                  // the attendee's display name
  std::vector<std::string> flags;    // attention flags, spelled out
  std::vector<std::string> details;  // breakouts, first entry, the server's message, ...
  std::vector<std::string> list;     // search results, checkpoints or the help
  std::string status;                // the status line
  std::string prompt;
  bool bell = false;
};

struct RenderOptions {
  bool colour = true;
  int width = 80;
  int height = 24;
};

std::string Render(const View& view, const RenderOptions& options);

// `text` without control characters (C0, DEL, C1), so that nothing taken from the network or a
// file can move the cursor or change the terminal. Tabs become spaces.
std::string Printable(const std::string& text);

}  // namespace turnout::tools::scan

#endif  // TURNOUT_TOOLS_SCAN_RENDER_H_
