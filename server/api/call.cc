#include "server/api/call.h"

#include <typeinfo>

#include "absl/strings/str_cat.h"
#include "server/api/rate_limiter.h"
#include "server/api/retry_after.h"
#include "server/api/server_metrics.h"

namespace turnout::api {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl and gRPC share the canonical code numbers.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

grpc::Status FinishStatus(grpc::ServerContextBase& ctx, const absl::Status& status,
                          ServerMetrics* metrics) {
  if (std::optional<std::string> after = RetryAfterOf(status)) {
    ctx.AddTrailingMetadata(kRetryAfterMetadata, *after);
  }
  if (std::optional<std::string> limit = LimitOf(status); limit && metrics != nullptr) {
    metrics->limited.Add({*limit});
  }
  return ToGrpcStatus(status);
}

absl::Status CheckCallMetadata(const grpc::ServerContextBase& ctx) {
  const auto& metadata = ctx.client_metadata();
  auto it = metadata.find("x-request-id");
  if (it == metadata.end()) return absl::OkStatus();
  const grpc::string_ref id = it->second;
  bool printable = !id.empty() && id.size() <= 64;
  for (char c : id) printable = printable && c > 0x20 && c < 0x7f;
  if (!printable) {
    return absl::InvalidArgumentError(
        "metadata x-request-id: 1 to 64 printable ASCII characters (letters, digits, '-'), e.g. "
        "a UUID");
  }
  return absl::OkStatus();
}

std::string AuthorizationOf(const grpc::ServerContextBase& ctx) {
  const auto& metadata = ctx.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

namespace {

// The call's deadline, for the database pool: a call waits for an unreachable database no longer.
absl::Time DeadlineOf(const grpc::CallbackServerContext& ctx) {
  const auto deadline = ctx.deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return absl::InfiniteFuture();
  return absl::FromChrono(deadline);
}

}  // namespace

grpc::ServerUnaryReactor* RunUnary(grpc::CallbackServerContext* ctx, ServiceDeps& deps,
                                   std::function<absl::Status(Call&)> handler) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  ServerMetrics* metrics = deps.metrics;
  auto finish = [reactor, ctx, metrics](const absl::Status& s) {
    reactor->Finish(FinishStatus(*ctx, s, metrics));
  };
  std::string authorization = AuthorizationOf(*ctx);
  std::string peer = ctx->peer();
  absl::Status admitted = CheckCallMetadata(*ctx);
  // Anonymous calls are refused here, on the gRPC thread, once their address has spent its budget:
  // a flood of them never reaches the database queue.
  if (admitted.ok() && authorization.empty() && deps.anonymous_limiter != nullptr) {
    admitted = deps.anonymous_limiter->Take(PeerAddress(peer), deps.clock->Now());
  }
  if (!admitted.ok()) {
    finish(admitted);
    return reactor;
  }
  Authenticator* auth = deps.auth;
  const absl::Time deadline = DeadlineOf(*ctx);
  const absl::Time queued_at = absl::Now();
  const bool queued = deps.db->Submit([finish, auth, metrics, queued_at,
                                       authorization = std::move(authorization),
                                       peer = std::move(peer),
                                       handler = std::move(handler)](pqxx::connection* conn) {
    if (metrics != nullptr) metrics->db_wait.Observe(absl::ToDoubleSeconds(absl::Now() - queued_at));
    Call call;
    call.conn = conn;
    call.peer = peer;
    absl::StatusOr<Principal> principal = auth->Authenticate(conn, authorization);
    if (!principal.ok()) {
      finish(principal.status());
      return;
    }
    call.principal = *principal;
    call.finish = finish;
    absl::Status status;
    try {
      status = handler(call);
    } catch (const std::exception& e) {
      // Never leave a call unfinished: its client would wait until its deadline, and shutdown
      // forever. The request log line (request_status_interceptor.h) names the call.
      status = absl::InternalError(
          absl::StrCat("internal error (an exception of type ", typeid(e).name(), ")"));
      call.deferred = false;
    }
    if (call.deferred && status.ok()) return;  // the handler finishes the call itself
    finish(status);
  }, deadline);
  if (!queued) {
    finish(absl::UnavailableError("the server is at capacity; retry in a moment"));
  }
  return reactor;
}

}  // namespace turnout::api
