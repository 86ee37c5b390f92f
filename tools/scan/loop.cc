// The input loop; see loop.h.
#include "tools/scan/loop.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include "tools/scan/input.h"

namespace turnout::tools::scan {

bool TerminalSize(int fd, int* width, int* height) {
  winsize size{};
  if (fd < 0 || ioctl(fd, TIOCGWINSZ, &size) != 0 || size.ws_col == 0 || size.ws_row == 0) {
    return false;
  }
  *width = size.ws_col;
  *height = size.ws_row;
  return true;
}

void RunLoop(ScanApp& app, const LoopOptions& options) {
  LineReader reader;
  bool input_open = true;
  int width = 0, height = 0;
  TerminalSize(options.terminal_fd, &width, &height);
  absl::Time next_tick = absl::Now() + options.tick;
  while (!app.quit() && !options.interrupted()) {
    if (!input_open && options.watch == nullptr) return;
    pollfd fd{options.input_fd, POLLIN, 0};
    const int wait_ms =
        static_cast<int>(std::max<int64_t>(0, absl::ToInt64Milliseconds(next_tick - absl::Now())));
    const int ready = input_open ? poll(&fd, 1, wait_ms) : poll(nullptr, 0, wait_ms);
    if (ready < 0 && errno != EINTR) return;
    if (ready > 0) {
      char buffer[4096];
      const ssize_t n = read(options.input_fd, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        input_open = false;
        if (std::optional<Line> last = reader.Finish()) app.OnLine(*last);
        continue;
      }
      for (const Line& line : reader.Feed(absl::string_view(buffer, static_cast<size_t>(n)))) {
        app.OnLine(line);
        if (app.quit()) return;
      }
    }
    if (absl::Now() < next_tick) continue;
    next_tick = absl::Now() + options.tick;
    if (options.watch != nullptr) {
      for (const std::string& path : options.watch->Poll()) {
        app.OnImageFile(path);
        options.watch->Done(path);
      }
    }
    int w, h;
    if (TerminalSize(options.terminal_fd, &w, &h) && (w != width || h != height)) {
      width = w, height = h;
      app.Resize(w, h);
    }
    app.Tick();
  }
}

}  // namespace turnout::tools::scan
