#include "server/api/call.h"

#include <iostream>
#include <typeinfo>

#include "absl/strings/str_cat.h"

namespace turnout::api {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl and gRPC share the canonical code numbers.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
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
  std::string authorization = AuthorizationOf(*ctx);
  std::string peer = ctx->peer();
  Authenticator* auth = deps.auth;
  const absl::Time deadline = DeadlineOf(*ctx);
  const bool queued = deps.db->Submit([reactor, auth, authorization = std::move(authorization),
                                       peer = std::move(peer),
                                       handler = std::move(handler)](pqxx::connection* conn) {
    Call call;
    call.conn = conn;
    call.peer = peer;
    absl::StatusOr<Principal> principal = auth->Authenticate(conn, authorization);
    if (!principal.ok()) {
      reactor->Finish(ToGrpcStatus(principal.status()));
      return;
    }
    call.principal = *principal;
    call.finish = [reactor](absl::Status s) { reactor->Finish(ToGrpcStatus(s)); };
    absl::Status status;
    try {
      status = handler(call);
    } catch (const std::exception& e) {
      // Never leave a call unfinished: its client would wait until its deadline, and shutdown
      // forever.
      std::cerr << "turnout: a request failed with an exception of type " << typeid(e).name()
                << "\n";
      status = absl::InternalError("internal error");
      call.deferred = false;
    }
    if (call.deferred && status.ok()) return;  // the handler finishes the call itself
    reactor->Finish(ToGrpcStatus(status));
  }, deadline);
  if (!queued) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                 "the server is at capacity; retry in a moment"));
  }
  return reactor;
}

}  // namespace turnout::api
