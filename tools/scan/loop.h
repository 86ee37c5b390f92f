// turnout-scan's input loop: reads the terminal (or a pipe) without blocking the rest, hands
// each line to the ScanApp, polls the watched folder and refreshes the status line about once a
// second, and follows the terminal's size.
//
//   LoopOptions loop;
//   loop.input_fd = STDIN_FILENO;
//   loop.interrupted = [] { return g_signalled.load(); };
//   RunLoop(app, loop);
#ifndef TURNOUT_TOOLS_SCAN_LOOP_H_
#define TURNOUT_TOOLS_SCAN_LOOP_H_

#include <functional>

#include "absl/time/time.h"
#include "tools/scan/scan_app.h"
#include "tools/scan/watch_dir.h"

namespace turnout::tools::scan {

struct LoopOptions {
  int input_fd = 0;
  // The terminal whose size the screen follows; -1 for none (a pipe, JSON mode).
  int terminal_fd = -1;
  // Polled every tick when set.
  WatchDir* watch = nullptr;
  absl::Duration tick = absl::Seconds(1);
  // Checked after every wake-up: true ends the loop (SIGINT, SIGTERM).
  std::function<bool()> interrupted = [] { return false; };
};

// Runs until /q, an interruption, or the end of input. At the end of input it goes on polling
// the watched folder, if there is one, until interrupted.
void RunLoop(ScanApp& app, const LoopOptions& options);

// The size of the terminal on `fd`, or false when it is not a terminal.
bool TerminalSize(int fd, int* width, int* height);

}  // namespace turnout::tools::scan

#endif  // TURNOUT_TOOLS_SCAN_LOOP_H_
