#include "server/api/request_status_interceptor.h"

#include <string>

#include "absl/strings/match.h"

namespace turnout::api {
namespace {

using grpc::experimental::InterceptionHookPoints;

class RequestStatusInterceptor final : public grpc::experimental::Interceptor {
 public:
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED &&
          status.error_message().empty()) {
        methods->ModifySendStatus(grpc::Status(
            grpc::StatusCode::INVALID_ARGUMENT,
            "the request could not be parsed: every text field must be valid UTF-8 (and the "
            "message must match the turnout.v1 .proto files)"));
      }
    }
    methods->Proceed();
  }
};

}  // namespace

grpc::experimental::Interceptor* RequestStatusInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  // Only our own methods: an unknown method keeps its UNIMPLEMENTED.
  if (info->method() == nullptr || !absl::StartsWith(info->method(), "/turnout.v1.")) {
    return nullptr;
  }
  return new RequestStatusInterceptor();
}

}  // namespace turnout::api
