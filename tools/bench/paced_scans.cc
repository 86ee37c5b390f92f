#include "tools/bench/paced_scans.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client-lib/client.h"
#include "turnout/v1/checkin_service.grpc.pb.h"

namespace turnout::bench {

namespace v1 = ::turnout::v1;

struct PacedScans::Call {
  grpc::ClientContext context;
  v1::ScanRequest request;
  v1::ScanResult response;
  v1::ScanResult::Status expected = v1::ScanResult::ADMITTED;
  PacedScan result;
};

PacedScans::PacedScans(std::shared_ptr<grpc::Channel> channel, std::string door_token,
                       std::string event, std::vector<BenchTicket> tickets, double per_second)
    : channel_(std::move(channel)),
      door_token_(std::move(door_token)),
      event_(std::move(event)),
      tickets_(std::move(tickets)),
      per_second_(per_second) {}

PacedScans::~PacedScans() {
  if (thread_.joinable()) Wait();
}

void PacedScans::Start(absl::Duration duration) {
  const int64_t total = static_cast<int64_t>(absl::ToDoubleSeconds(duration) * per_second_);
  calls_.reserve(total);
  for (int64_t i = 0; i < total; ++i) calls_.push_back(std::make_unique<Call>());
  thread_ = std::thread([this] { Run(); });
}

void PacedScans::Run() {
  auto stub = v1::CheckinService::NewStub(channel_);
  const absl::Time start = absl::Now();
  const size_t n = tickets_.size();
  for (size_t i = 0; i < calls_.size(); ++i) {
    const absl::Time at = start + absl::Seconds(i / per_second_);
    absl::SleepFor(at - absl::Now());
    Call* call = calls_[i].get();
    const bool entry = (i / n) % 2 == 0;
    call->expected = entry ? v1::ScanResult::ADMITTED : v1::ScanResult::EXIT_RECORDED;
    call->request.set_event(event_);
    call->request.set_code(tickets_[i % n].code);
    call->request.set_direction(entry ? v1::SCAN_DIRECTION_ENTRY : v1::SCAN_DIRECTION_EXIT);
    call->request.set_client_scan_id(client::NewRequestId());
    call->context.AddMetadata("authorization", absl::StrCat("Bearer ", door_token_));
    call->context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    call->result.started_ns = absl::ToUnixNanos(absl::Now());
    stub->async()->Scan(&call->context, &call->request, &call->response,
                        [this, call](grpc::Status status) {
                          call->result.answered_ns = absl::ToUnixNanos(absl::Now());
                          call->result.ok =
                              status.ok() && call->response.status() == call->expected;
                          if (!status.ok()) {
                            call->result.error = absl::StrCat("RPC failed: ", status.error_code(),
                                                              " ", status.error_message());
                          } else if (!call->result.ok) {
                            call->result.error = absl::StrCat(
                                "expected ", v1::ScanResult::Status_Name(call->expected), ", got ",
                                v1::ScanResult::Status_Name(call->response.status()));
                          }
                          ++answered_;
                        });
  }
}

std::vector<PacedScan> PacedScans::Wait() {
  if (thread_.joinable()) thread_.join();
  while (answered_.load() < static_cast<int>(calls_.size())) absl::SleepFor(absl::Milliseconds(5));
  std::vector<PacedScan> out;
  for (auto& c : calls_) out.push_back(c->result);
  return out;
}

}  // namespace turnout::bench
