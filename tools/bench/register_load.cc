#include "tools/bench/register_load.h"

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "client-lib/client.h"
#include "turnout/v1/registration_service.grpc.pb.h"

namespace turnout::bench {

namespace v1 = ::turnout::v1;

namespace {
constexpr size_t kMaxErrorSamples = 5;
}  // namespace

RegisterLoadResult RunRegisterLoad(const RegisterLoadOptions& options) {
  std::vector<std::unique_ptr<v1::RegistrationService::Stub>> stubs;
  for (const auto& channel : options.channels) {
    stubs.push_back(v1::RegistrationService::NewStub(channel));
  }
  std::atomic<int64_t> next{0};
  absl::Mutex mu;
  RegisterLoadResult result;
  const absl::Time start = absl::Now();
  const absl::Time stop = start + options.duration;
  std::vector<std::thread> threads;
  for (int t = 0; t < options.concurrency; ++t) {
    threads.emplace_back([&, t] {
      v1::RegistrationService::Stub& stub = *stubs[t % stubs.size()];
      RegisterLoadResult mine;
      while (absl::Now() < stop) {
        const int64_t i = next++;
        v1::RegisterRequest req;
        req.set_parent(options.event);
        req.set_request_id(client::NewRequestId());
        v1::Registration* r = req.mutable_registration();
        r->set_display_name(absl::StrFormat("Bench Registrant %07d", i));
        r->set_email(absl::StrFormat("registrant%07d@example.org", i));
        r->set_preferred_language("en");
        for (const std::vector<std::string>& round : options.rounds) {
          r->add_session_choices()->set_session(round[i % round.size()]);
        }
        grpc::ClientContext ctx;  // anonymous, as the public registers
        ctx.set_deadline(absl::ToChronoTime(absl::Now() + options.call_deadline));
        v1::RegisterResponse resp;
        const absl::Time sent = absl::Now();
        const grpc::Status status = stub.Register(&ctx, req, &resp);
        const absl::Time answered = absl::Now();
        if (!status.ok()) {
          ++mine.errors;
          if (mine.error_samples.size() < kMaxErrorSamples) {
            mine.error_samples.push_back(
                absl::StrCat("Register: ", status.error_code(), " ", status.error_message()));
          }
          continue;
        }
        ++mine.registered;
        if (resp.registration().status() == v1::Registration::CONFIRMED) ++mine.confirmed;
        if (resp.registration().status() == v1::Registration::WAITLISTED) ++mine.waitlisted;
        mine.samples.push_back(
            {absl::ToInt64Microseconds(answered - start), absl::ToInt64Microseconds(answered - sent)});
      }
      absl::MutexLock lock(&mu);
      result.registered += mine.registered;
      result.confirmed += mine.confirmed;
      result.waitlisted += mine.waitlisted;
      result.errors += mine.errors;
      for (std::string& e : mine.error_samples) {
        if (result.error_samples.size() < kMaxErrorSamples) result.error_samples.push_back(e);
      }
      result.samples.insert(result.samples.end(), mine.samples.begin(), mine.samples.end());
    });
  }
  for (std::thread& t : threads) t.join();
  return result;
}

}  // namespace turnout::bench
