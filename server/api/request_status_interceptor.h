// Sees every turnout.v1 call from its arrival to its status, and does three things there:
//
// - Gives a precise status to requests the protobuf layer refuses before any handler runs. A proto3
//   string field holding invalid UTF-8 fails to parse, and gRPC 1.51's callback server then answers
//   UNIMPLEMENTED with no message — which reads as "this server lacks the method". Every turnout.v1
//   method is implemented (the few that are not yet say so in their message), so an UNIMPLEMENTED
//   without a message on one of them can only be such a request: it becomes INVALID_ARGUMENT with a
//   message saying what to fix.
// - Gives each call a request id: the caller's "x-request-id" metadata when valid (call.h), or a
//   fresh one; it is echoed in the trailing metadata "x-request-id".
// - Counts the call and its latency (ServerMetrics::rpcs, rpc_seconds), and logs one line for a
//   call that ends with a server-side status (INTERNAL, UNAVAILABLE, RESOURCE_EXHAUSTED, ...):
//     turnout-server: request_id=7f3a... method=Scan code=UNAVAILABLE ms=12 message="..."
//   Status messages name fields and limits, never a person's data. Refusals by a limit come in
//   floods: at most a few such lines per second are written (the metrics count them all).
#ifndef TURNOUT_SERVER_API_REQUEST_STATUS_INTERCEPTOR_H_
#define TURNOUT_SERVER_API_REQUEST_STATUS_INTERCEPTOR_H_

#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <ostream>

#include "server/api/rate_limiter.h"
#include "server/util/clock.h"

namespace turnout::api {

struct ServerMetrics;

class RequestStatusInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // `log` receives the log lines (std::cerr in the server).
  RequestStatusInterceptorFactory(ServerMetrics* metrics, std::ostream* log,
                                  const util::Clock* clock = util::Clock::Real());
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  ServerMetrics* const metrics_;
  std::ostream* const log_;
  const util::Clock* const clock_;  // paces refusal_lines_
  std::unique_ptr<RateLimiter> refusal_lines_;
};

}  // namespace turnout::api

#endif  // TURNOUT_SERVER_API_REQUEST_STATUS_INTERCEPTOR_H_
