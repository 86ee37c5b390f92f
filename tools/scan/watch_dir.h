// The folder a phone or a screenshot tool drops ticket images into (`turnout-scan --watch_dir`).
// Polled, not watched with inotify: a second's delay is fine at a door, and polling works on any
// file system, a shared folder included.
//
//   WatchDir watch(dir);
//   for (const std::string& path : watch.Poll()) app.OnImageFile(path), watch.Done(path);
//
// A file is handed out once its size has stayed the same between two polls (so a copy in
// progress is not read half-written), and Done moves it into `scanned/` inside the folder, so it
// is never scanned twice, even after a restart.
#ifndef TURNOUT_TOOLS_SCAN_WATCH_DIR_H_
#define TURNOUT_TOOLS_SCAN_WATCH_DIR_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"

namespace turnout::tools::scan {

class WatchDir {
 public:
  explicit WatchDir(std::string dir);

  // Creates the folder and its scanned/ subfolder if missing.
  absl::Status Init();

  // Paths of .png, .jpg and .jpeg files that are ready, oldest name first.
  std::vector<std::string> Poll();

  // Moves a file Poll returned into scanned/ (or, if it cannot, remembers not to return it again).
  void Done(const std::string& path);

  const std::string& dir() const { return dir_; }

 private:
  const std::string dir_;
  absl::flat_hash_map<std::string, int64_t> sizes_;  // size at the last poll, by path
  absl::flat_hash_set<std::string> done_;
};

}  // namespace turnout::tools::scan

#endif  // TURNOUT_TOOLS_SCAN_WATCH_DIR_H_
