// turnout-scan's behaviour, apart from its terminal: each input (a line, an image file) becomes a
// call on the DoorEngine and a new screen (or, with --json, one JSON line). main.cc wires it to
// the real engine and the terminal (loop.h); tests drive it with a fake engine and read what it
// writes.
//
//   ScanApp app(engine, options, std::cout);
//   app.Start();                      // the READY screen
//   app.OnLine({.text = code, .bytes = code.size()});
//   app.Tick();                       // redraws when the status line changed
//
// Not thread-safe: one thread (the input loop) calls it.
#ifndef TURNOUT_TOOLS_SCAN_SCAN_APP_H_
#define TURNOUT_TOOLS_SCAN_SCAN_APP_H_

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "client-lib/door_engine.h"
#include "tools/scan/i18n.h"
#include "tools/scan/input.h"
#include "tools/scan/render.h"

namespace turnout::tools::scan {

struct ScanAppOptions {
  Language language = Language::kEnglish;
  // One JSON line per input instead of the screen.
  bool json = false;
  RenderOptions render;
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

class ScanApp {
 public:
  ScanApp(client::DoorEngine& engine, ScanAppOptions options, std::ostream& out);

  // Draws the first screen (nothing in JSON mode).
  void Start();
  // One line from the terminal: a code, a command, an image path, or junk.
  void OnLine(const Line& line);
  // A PNG or JPEG file holding a ticket's QR code.
  void OnImageFile(const std::string& path);
  // Called every second or so: redraws when the status line changed (online/offline, queue).
  void Tick();
  void Resize(int width, int height);
  // After /q.
  bool quit() const { return quit_; }

 private:
  // Where a scan came from, for the JSON line.
  enum class Source { kCode, kImage, kSearch, kWalkIn };

  void OnCommand(const Input& input);
  void Scan(const client::DoorScan& scan, Source source, const std::string& file);
  void Search(const std::string& query);
  void Pick(size_t number);
  void WalkIn(const std::string& argument);
  void Checkpoint(const std::string& argument);
  void ShowAnswer(const client::DoorAnswer& answer, Source source, const std::string& file);

  // A message that is not a verdict (help, a mode change): neutral, no bell.
  void ShowInfo(const std::string& headline, const std::string& message,
                std::vector<std::string> list, const std::string& json);
  // Input that is not a ticket or a call that failed: red, bell, and an error JSON line.
  void ShowProblem(const std::string& error, const std::string& message, int64_t bytes = -1);
  void ShowEngineError(const absl::Status& status);

  std::string StatusLine(const client::DoorState& state) const;
  std::string CheckpointTitle(const v1::Checkpoint& checkpoint) const;
  std::string FormatClock(absl::Time time, const char* format) const;
  absl::string_view T(Msg msg) const { return Text(msg, options_.language); }
  void Draw();
  void Emit(const std::string& json_line);

  client::DoorEngine& engine_;
  const ScanAppOptions options_;
  RenderOptions render_;
  std::ostream& out_;
  View view_;
  std::string drawn_status_;
  v1::ScanDirection direction_ = v1::SCAN_DIRECTION_ENTRY;
  std::vector<v1::AttendeeMatch> matches_;
  bool quit_ = false;
};

}  // namespace turnout::tools::scan

#endif  // TURNOUT_TOOLS_SCAN_SCAN_APP_H_
