// turnout-scan: the door volunteer's tool on a laptop at the door. Reads ticket codes from a USB
// keyboard-wedge scanner (or typed), and PNG/JPEG images given as arguments or dropped into
// --watch_dir; shows each verdict full-screen; keeps working offline through the DoorEngine.
//
//   turnout-scan --server=door.example.org:7443 --token_file=door.token --event=events/1
//   turnout-scan --json --event=events/1 ticket.png < /dev/null
//
// This file only wires flags, the engine and the terminal; the behaviour is in scan_app.h.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "client-lib/door_engine.h"
#include "client-lib/names.h"
#include "tools/common/connection.h"
#include "tools/scan/loop.h"
#include "tools/scan/scan_app.h"
#include "tools/scan/state_dir.h"

ABSL_FLAG(std::string, event, "", "the event scanned for, e.g. events/1 (required)");
ABSL_FLAG(std::string, checkpoint, "",
          "checkpoint, e.g. events/1/checkpoints/3 or 3; default: the entrance");
ABSL_FLAG(std::string, state_dir, "",
          "local store of scans and the offline bundle; default: "
          "$XDG_STATE_HOME/turnout-scan, else ~/.local/state/turnout-scan");
ABSL_FLAG(std::string, language, "en", "language of the screen and the answers: en or es");
ABSL_FLAG(bool, json, false, "write one JSON line per input instead of the screen");
ABSL_FLAG(std::string, watch_dir, "", "scan PNG/JPEG files dropped into this folder");
ABSL_FLAG(bool, colour, true, "colours and full-screen drawing when stdout is a terminal");

namespace turnout::tools::scan {
namespace {

std::atomic<bool> g_interrupted{false};

void OnSignal(int) { g_interrupted = true; }

int Fail(const std::string& message) {
  std::cerr << "turnout-scan: " << message << "\n";
  return 1;
}

int Run(const std::vector<std::string>& images) {
  const std::string event = client::Qualify("", "events", absl::GetFlag(FLAGS_event));
  if (absl::GetFlag(FLAGS_event).empty()) return Fail("--event is required, e.g. --event=events/1");
  const std::optional<Language> language = ParseLanguage(absl::GetFlag(FLAGS_language));
  if (!language) return Fail("--language must be en or es");

  absl::StatusOr<client::ClientOptions> connection = ClientOptionsFromFlags();
  if (!connection.ok()) return Fail(std::string(connection.status().message()));
  if (connection->token.empty()) {
    return Fail("a DOOR token is needed: --token_file=FILE, or $TURNOUT_TOKEN");
  }
  std::string state_dir = absl::GetFlag(FLAGS_state_dir);
  if (state_dir.empty()) {
    absl::StatusOr<std::string> dir =
        DefaultStateDir([](const char* name) { return std::getenv(name); });
    if (!dir.ok()) return Fail(std::string(dir.status().message()));
    state_dir = *dir;
  }
  if (absl::Status s = MakeDirs(state_dir); !s.ok()) return Fail(std::string(s.message()));

  client::DoorOptions door;
  door.client = *connection;
  door.event = event;
  if (const std::string checkpoint = absl::GetFlag(FLAGS_checkpoint); !checkpoint.empty()) {
    door.checkpoint = client::Qualify(event, "checkpoints", checkpoint);
  }
  door.language = std::string(LanguageTag(*language));
  door.state_dir = state_dir;
  absl::StatusOr<std::unique_ptr<client::DoorEngine>> engine = client::DoorEngine::Open(door);
  if (!engine.ok()) {
    return Fail(absl::StrCat("cannot open the door for ", event, ": ", engine.status().message()));
  }

  std::unique_ptr<WatchDir> watch;
  if (const std::string dir = absl::GetFlag(FLAGS_watch_dir); !dir.empty()) {
    watch = std::make_unique<WatchDir>(dir);
    if (absl::Status s = watch->Init(); !s.ok()) return Fail(std::string(s.message()));
  }

  const bool json = absl::GetFlag(FLAGS_json);
  const bool terminal = isatty(STDOUT_FILENO) == 1;
  const char* term = std::getenv("TERM");
  ScanAppOptions options;
  options.language = *language;
  options.json = json;
  options.render.colour = absl::GetFlag(FLAGS_colour) && terminal &&
                          std::getenv("NO_COLOR") == nullptr &&
                          !(term != nullptr && std::string(term) == "dumb");
  TerminalSize(STDOUT_FILENO, &options.render.width, &options.render.height);
  ScanApp app(**engine, options, std::cout);

  struct sigaction action {};
  action.sa_handler = OnSignal;  // no SA_RESTART: poll() wakes up with EINTR
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  app.Start();
  for (const std::string& image : images) app.OnImageFile(image);
  LoopOptions loop;
  loop.input_fd = STDIN_FILENO;
  loop.terminal_fd = json || !terminal ? -1 : STDOUT_FILENO;
  loop.watch = watch.get();
  loop.interrupted = [] { return g_interrupted.load(); };
  RunLoop(app, loop);
  if (!json && options.render.colour) std::cout << "\x1b[0m\n";
  return 0;
}

}  // namespace
}  // namespace turnout::tools::scan

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "the door volunteer's scanner.\n\nusage: turnout-scan --server=HOST:PORT "
      "--token_file=FILE --event=events/N [--checkpoint=] [--language=es] [--json] "
      "[--watch_dir=DIR] [IMAGE.png ...]\n\nType /? in it for the keys.");
  std::vector<char*> parsed = absl::ParseCommandLine(argc, argv);
  return turnout::tools::scan::Run(std::vector<std::string>(parsed.begin() + 1, parsed.end()));
}
