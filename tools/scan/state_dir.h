// Where turnout-scan keeps its local store (the door engine's queue and bundle) unless
// --state_dir says: $XDG_STATE_HOME/turnout-scan, else ~/.local/state/turnout-scan. Private to the
// user (0700): it holds scans not yet uploaded.
#ifndef TURNOUT_TOOLS_SCAN_STATE_DIR_H_
#define TURNOUT_TOOLS_SCAN_STATE_DIR_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace turnout::tools::scan {

// The default folder, from the environment as `getenv` reads it. FailedPrecondition when neither
// XDG_STATE_HOME (an absolute path) nor HOME is set.
absl::StatusOr<std::string> DefaultStateDir(const std::function<const char*(const char*)>& getenv);

// Creates `path` and its missing parents, mode 0700.
absl::Status MakeDirs(const std::string& path);

}  // namespace turnout::tools::scan

#endif  // TURNOUT_TOOLS_SCAN_STATE_DIR_H_
