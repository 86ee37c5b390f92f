// The plumbing every RPC shares: what a service needs (ServiceDeps), running a unary handler on a
// database worker instead of a gRPC thread (RunUnary), and the one absl::Status -> grpc::Status
// map.
#ifndef TURNOUT_SERVER_API_CALL_H_
#define TURNOUT_SERVER_API_CALL_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/api/auth.h"
#include "server/store/data_key.h"
#include "server/store/key_store.h"
#include "server/store/pg.h"
#include "server/util/clock.h"

namespace turnout::live {
class AttendanceHub;
}  // namespace turnout::live

namespace turnout::api {

class RateLimiter;
class ScanBatcher;
class StreamSlots;
class TransactionBatcher;
struct ServerMetrics;

struct ServiceDeps {
  store::Database* db = nullptr;
  const store::DataKey* data_key = nullptr;
  store::TicketKeys* keys = nullptr;
  Authenticator* auth = nullptr;
  RateLimiter* public_limiter = nullptr;     // anonymous Register calls, per address
  RateLimiter* anonymous_limiter = nullptr;  // every anonymous call, per address
  ScanBatcher* scans = nullptr;
  TransactionBatcher* registrations = nullptr;  // Register calls, committed together
  StreamSlots* imports = nullptr;  // concurrent ImportRegistrations streams
  StreamSlots* watches = nullptr;  // concurrent WatchAttendance streams
  StreamSlots* exports = nullptr;  // concurrent ExportAttendance streams
  ServerMetrics* metrics = nullptr;
  live::AttendanceHub* hub = nullptr;
  std::string replica_name;  // ServerOptions::replica_name, resolved
  // The clock of every rule that depends on time (ServerOptions::clock).
  const util::Clock* clock = util::Clock::Real();
  // Called after a change to an event's counts (the live fan-out hooks in here).
  std::function<void(int64_t event_id)> on_counts_changed = [](int64_t) {};
};

// One unary call, running on a database worker.
struct Call {
  pqxx::connection* conn = nullptr;
  Principal principal;
  std::string peer;

  absl::Status Transaction(const std::function<absl::Status(pqxx::work&)>& body) const {
    return store::Database::InTransaction(conn, body);
  }

  // A handler that answers later (after a batched commit) sets `deferred`, returns OK, and calls
  // `finish` exactly once. A handler that returns an error must not have handed `finish` on.
  bool deferred = false;
  std::function<void(absl::Status)> finish;
};

grpc::Status ToGrpcStatus(const absl::Status& status);

// ToGrpcStatus for the status a call finishes with: a refusal by a limit also sets the trailing
// metadata "retry-after" (retry_after.h) and counts in the metrics.
grpc::Status FinishStatus(grpc::ServerContextBase& ctx, const absl::Status& status,
                          ServerMetrics* metrics);

// The metadata every call may carry, checked before anything else: "x-request-id", when sent, is
// 1 to 64 printable ASCII characters (it is logged and echoed). INVALID_ARGUMENT otherwise.
absl::Status CheckCallMetadata(const grpc::ServerContextBase& ctx);

// Checks the call's metadata, holds anonymous callers to their per-address budget (before any
// database work), authenticates the caller, runs `handler` on a database worker, and finishes the
// call with the handler's status. The response must be filled by the handler before it returns OK.
grpc::ServerUnaryReactor* RunUnary(grpc::CallbackServerContext* ctx, ServiceDeps& deps,
                                   std::function<absl::Status(Call&)> handler);

// The bearer token of a call's metadata, or "".
std::string AuthorizationOf(const grpc::ServerContextBase& ctx);

}  // namespace turnout::api

#endif  // TURNOUT_SERVER_API_CALL_H_
