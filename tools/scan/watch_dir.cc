// The watched folder; see watch_dir.h.
#include "tools/scan/watch_dir.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace turnout::tools::scan {
namespace {

bool IsImageName(absl::string_view name) {
  if (absl::StartsWith(name, ".")) return false;  // editors' and copiers' temporary files
  return absl::EndsWithIgnoreCase(name, ".png") || absl::EndsWithIgnoreCase(name, ".jpg") ||
         absl::EndsWithIgnoreCase(name, ".jpeg");
}

absl::Status MakeDir(const std::string& path) {
  if (mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) return absl::OkStatus();
  return absl::ErrnoToStatus(errno, absl::StrCat("cannot create ", path));
}

}  // namespace

WatchDir::WatchDir(std::string dir) : dir_(std::move(dir)) {}

absl::Status WatchDir::Init() {
  if (absl::Status s = MakeDir(dir_); !s.ok()) return s;
  return MakeDir(absl::StrCat(dir_, "/scanned"));
}

std::vector<std::string> WatchDir::Poll() {
  std::vector<std::string> ready;
  absl::flat_hash_map<std::string, int64_t> sizes;
  DIR* dir = opendir(dir_.c_str());
  if (dir == nullptr) return ready;
  while (const dirent* entry = readdir(dir)) {
    if (!IsImageName(entry->d_name)) continue;
    const std::string path = absl::StrCat(dir_, "/", entry->d_name);
    struct stat st;
    if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || done_.contains(path)) continue;
    sizes[path] = st.st_size;
    auto seen = sizes_.find(path);
    if (seen != sizes_.end() && seen->second == st.st_size) ready.push_back(path);
  }
  closedir(dir);
  sizes_ = std::move(sizes);
  std::sort(ready.begin(), ready.end());
  return ready;
}

void WatchDir::Done(const std::string& path) {
  sizes_.erase(path);
  const std::string name = path.substr(path.rfind('/') + 1);
  if (std::rename(path.c_str(), absl::StrCat(dir_, "/scanned/", name).c_str()) != 0) {
    done_.insert(path);
  }
}

}  // namespace turnout::tools::scan
