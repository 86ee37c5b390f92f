// Gives a precise status to requests the protobuf layer refuses before any handler runs.
//
// A proto3 string field holding invalid UTF-8 fails to parse, and gRPC 1.51's callback server then
// answers UNIMPLEMENTED with no message — which reads as "this server lacks the method". Every
// turnout.v1 method is implemented (the few that are not yet say so in their message), so an
// UNIMPLEMENTED without a message on one of them can only be such a request: it becomes
// INVALID_ARGUMENT with a message saying what to fix.
#ifndef TURNOUT_SERVER_API_REQUEST_STATUS_INTERCEPTOR_H_
#define TURNOUT_SERVER_API_REQUEST_STATUS_INTERCEPTOR_H_

#include <grpcpp/support/server_interceptor.h>

namespace turnout::api {

class RequestStatusInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;
};

}  // namespace turnout::api

#endif  // TURNOUT_SERVER_API_REQUEST_STATUS_INTERCEPTOR_H_
