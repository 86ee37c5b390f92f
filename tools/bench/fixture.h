// The set-up every turnout-bench phase shares: one event with doors open now, its confirmed
// registrations (their codes) and a DOOR token, made through gRPC as an organizer would.
#ifndef TURNOUT_TOOLS_BENCH_FIXTURE_H_
#define TURNOUT_TOOLS_BENCH_FIXTURE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tools/bench/scan_load.h"

namespace turnout::bench {

// A data directory under /tmp for one bench run ("/tmp/turnout-bench-<name>-XXXXXX"), which the
// PostgreSQL system user may enter when the bench runs as root; removed when this goes away,
// unless kept (--keep_data_dir, to read the logs).
class BenchDir {
 public:
  static absl::StatusOr<std::unique_ptr<BenchDir>> Make(absl::string_view name, bool keep);
  ~BenchDir();
  BenchDir(const BenchDir&) = delete;
  BenchDir& operator=(const BenchDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  BenchDir(std::string path, bool keep) : path_(std::move(path)), keep_(keep) {}

  const std::string path_;
  const bool keep_;
};

struct Fixture {
  std::string event;  // "events/{id}"
  int64_t event_id = 0;
  int64_t entrance_checkpoint_id = 0;
  std::string door_token;
  int64_t door_token_id = 0;
  std::vector<BenchTicket> tickets;  // ordered by registration id
  int64_t first_registration_id = 0;
  absl::Duration register_time;
};

// The id at the end of a resource name ("events/3/registrations/17" -> 17).
absl::StatusOr<int64_t> LastId(absl::string_view name);

// The first line of a token file, trimmed.
absl::StatusOr<std::string> ReadToken(const std::string& path);

// One event with doors open now, `count` confirmed registrations (registered from 32 threads, each
// a durable transaction of its own), and a DOOR token for the event.
absl::StatusOr<Fixture> SetUp(const std::string& target, const std::string& admin_token,
                              int count);

// A DOOR token of `event`, labeled `label`: its secret.
absl::StatusOr<std::string> NewDoorToken(const std::string& target, const std::string& admin_token,
                                         const std::string& event, const std::string& label);

}  // namespace turnout::bench

#endif  // TURNOUT_TOOLS_BENCH_FIXTURE_H_
