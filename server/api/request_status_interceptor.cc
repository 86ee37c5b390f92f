#include "server/api/request_status_interceptor.h"

#include <string>

#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "server/api/server_metrics.h"

namespace turnout::api {
namespace {

using grpc::experimental::InterceptionHookPoints;

constexpr char kRequestIdKey[] = "x-request-id";

const char* CodeName(grpc::StatusCode code) {
  static const char* const kNames[] = {
      "OK",        "CANCELLED",          "UNKNOWN",           "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED", "NOT_FOUND",  "ALREADY_EXISTS",    "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL",        "UNAVAILABLE",       "DATA_LOSS",
      "UNAUTHENTICATED"};
  const int i = static_cast<int>(code);
  return i >= 0 && i < static_cast<int>(std::size(kNames)) ? kNames[i] : "UNKNOWN";
}

// Statuses that say something about the server rather than the request: each is logged.
bool ServerSide(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DATA_LOSS:
      return true;
    default:
      return false;
  }
}

bool ValidRequestId(grpc::string_ref id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

std::string FreshRequestId() {
  thread_local absl::BitGen gen;
  return absl::StrFormat("%016x", absl::Uniform<uint64_t>(gen));
}

class RequestStatusInterceptor final : public grpc::experimental::Interceptor {
 public:
  RequestStatusInterceptor(std::string method, ServerMetrics* metrics, std::ostream* log,
                           RateLimiter* refusal_lines, const util::Clock* clock)
      : method_(std::move(method)),
        metrics_(metrics),
        log_(log),
        refusal_lines_(refusal_lines),
        clock_(clock),
        start_(absl::Now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      auto* metadata = methods->GetRecvInitialMetadata();
      auto it = metadata->find(kRequestIdKey);
      if (it != metadata->end() && ValidRequestId(it->second)) {
        request_id_ = std::string(it->second.data(), it->second.size());
      } else {
        // An invalid one is refused by the handler (CheckCallMetadata) and never logged as sent.
        request_id_ = FreshRequestId();
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED &&
          status.error_message().empty()) {
        status = grpc::Status(
            grpc::StatusCode::INVALID_ARGUMENT,
            "the request could not be parsed: every text field must be valid UTF-8 (and the "
            "message must match the turnout.v1 .proto files)");
        methods->ModifySendStatus(status);
      }
      if (request_id_.empty()) request_id_ = FreshRequestId();
      methods->GetSendTrailingMetadata()->emplace(kRequestIdKey, request_id_);
      Record(status);
    }
    methods->Proceed();
  }

 private:
  void Record(const grpc::Status& status) {
    const absl::Duration took = absl::Now() - start_;
    const char* code = CodeName(status.error_code());
    if (metrics_ != nullptr) {
      metrics_->rpcs.Add({method_, code});
      metrics_->rpc_seconds.Observe({method_}, absl::ToDoubleSeconds(took));
    }
    const bool refusal = status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED;
    if (log_ != nullptr && ServerSide(status.error_code()) &&
        (!refusal || refusal_lines_->Take("", clock_->Now()).ok())) {
      // One write per line, so that lines of concurrent calls never interleave.
      *log_ << absl::StrFormat(
                   "turnout-server: request_id=%s method=%s code=%s ms=%d message=\"%s\"\n",
                   request_id_, method_, code, absl::ToInt64Milliseconds(took),
                   absl::CHexEscape(status.error_message()))
            << std::flush;
    }
  }

  const std::string method_;
  ServerMetrics* const metrics_;
  std::ostream* const log_;
  RateLimiter* const refusal_lines_;
  const util::Clock* const clock_;
  const absl::Time start_;  // latency, on the real clock
  std::string request_id_;
};

}  // namespace

// A flood of refusals writes a few lines a second, not one per call.
RequestStatusInterceptorFactory::RequestStatusInterceptorFactory(ServerMetrics* metrics,
                                                                 std::ostream* log,
                                                                 const util::Clock* clock)
    : metrics_(metrics),
      log_(log),
      clock_(clock),
      refusal_lines_(std::make_unique<RateLimiter>(/*per_second=*/5, /*burst=*/20, "log",
                                                   "refusals to log")) {}

grpc::experimental::Interceptor* RequestStatusInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  // Only our own methods: an unknown method keeps its UNIMPLEMENTED.
  constexpr absl::string_view kPrefix = "/turnout.v1.";
  if (info->method() == nullptr || !absl::StartsWith(info->method(), kPrefix)) return nullptr;
  // "/turnout.v1.CheckinService/Scan" -> "Scan": a fixed set, one per method of the .proto files.
  absl::string_view method = info->method();
  const size_t slash = method.rfind('/');
  return new RequestStatusInterceptor(std::string(method.substr(slash + 1)), metrics_, log_,
                                      refusal_lines_.get(), clock_);
}

}  // namespace turnout::api
