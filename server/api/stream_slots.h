// A bounded number of concurrent streams of one kind (imports, live subscriptions), in total and
// per caller, so that no caller can make the server buffer without bound by opening more of them.
//
//   StreamSlots imports(/*total=*/2, /*per_caller=*/1, "imports", "imports");
//   RETURN_IF_ERROR(imports.Acquire(principal.token_id));  // RESOURCE_EXHAUSTED when full
//   ...
//   imports.Release(principal.token_id);                   // exactly once per successful Acquire
#ifndef TURNOUT_SERVER_API_STREAM_SLOTS_H_
#define TURNOUT_SERVER_API_STREAM_SLOTS_H_

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace turnout::api {

class StreamSlots {
 public:
  // `limit` names the limit for metrics ("imports"), `what` the streams in the RESOURCE_EXHAUSTED
  // message ("live streams").
  StreamSlots(int total, int per_caller, std::string limit, std::string what)
      : total_(total), per_caller_(per_caller), limit_(std::move(limit)), what_(std::move(what)) {}

  // Takes a slot for `caller` (a token id), or RESOURCE_EXHAUSTED saying when to retry
  // (retry_after.h).
  absl::Status Acquire(int64_t caller);
  void Release(int64_t caller);

  int in_use() const;

 private:
  const int total_;
  const int per_caller_;
  const std::string limit_;
  const std::string what_;
  mutable absl::Mutex mu_;
  int in_use_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<int64_t, int> by_caller_ ABSL_GUARDED_BY(mu_);
};

}  // namespace turnout::api

#endif  // TURNOUT_SERVER_API_STREAM_SLOTS_H_
