#include "tools/bench/scan_load.h"

#include <algorithm>
#include <atomic>
#include <chrono>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client-lib/client.h"
#include "turnout/v1/checkin_service.grpc.pb.h"

namespace turnout::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxErrorSamples = 5;

class ScanLoad {
 public:
  explicit ScanLoad(const ScanLoadOptions& options)
      : options_(options),
        busy_(new std::atomic<bool>[options.tickets.size()]),
        scans_of_ticket_(options.tickets.size(), 0) {
    for (size_t t = 0; t < options.tickets.size(); ++t) busy_[t].store(false);
    for (const auto& channel : options.channels)
      stubs_.push_back(v1::CheckinService::NewStub(channel));
    for (int i = 0; i < options.concurrency; ++i) {
      auto slot = std::make_unique<Slot>();
      slot->stub = stubs_[i % stubs_.size()].get();
      slots_.push_back(std::move(slot));
    }
  }

  ScanLoadResult Run() {
    start_ = Clock::now();
    deadline_ = start_ + absl::ToChronoNanoseconds(options_.duration);
    {
      absl::MutexLock lock(&mu_);
      running_ = static_cast<int>(slots_.size());
    }
    for (auto& slot : slots_) Issue(slot.get());
    {
      absl::MutexLock lock(&mu_);
      auto stopped = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return running_ == 0; };
      mu_.Await(absl::Condition(&stopped));
    }
    ScanLoadResult result;
    Clock::time_point last = start_;
    for (auto& slot : slots_) {
      last = std::max(last, slot->last_done);
      result.first_entries += slot->first_entries;
      result.reentries += slot->reentries;
      result.exits += slot->exits;
      result.errors += slot->errors;
      for (std::string& e : slot->error_samples) {
        if (result.error_samples.size() < kMaxErrorSamples) result.error_samples.push_back(e);
      }
      result.samples.insert(result.samples.end(), slot->samples.begin(), slot->samples.end());
    }
    result.scans = static_cast<int64_t>(result.samples.size());
    result.elapsed = absl::FromChrono(last - start_);
    return result;
  }

 private:
  // One call in flight at a time; its fields are touched only by that call's thread of control.
  struct Slot {
    v1::CheckinService::Stub* stub = nullptr;
    std::unique_ptr<grpc::ClientContext> context;
    v1::ScanRequest request;
    v1::ScanResult response;
    size_t ticket = 0;
    int scan_of_ticket = 0;
    Clock::time_point started;
    Clock::time_point last_done;
    std::vector<Sample> samples;
    int64_t first_entries = 0;
    int64_t reentries = 0;
    int64_t exits = 0;
    int64_t errors = 0;
    std::vector<std::string> error_samples;
  };

  static constexpr size_t kNoTicket = ~size_t{0};

  // A ticket no other call is scanning, or kNoTicket when every ticket is busy or written off.
  size_t AcquireTicket() {
    const size_t n = options_.tickets.size();
    for (size_t tries = 0; tries < 2 * n; ++tries) {
      const size_t t = next_.fetch_add(1, std::memory_order_relaxed) % n;
      if (!busy_[t].exchange(true, std::memory_order_acquire)) return t;
    }
    return kNoTicket;
  }

  void Stop(Slot* slot) {
    absl::MutexLock lock(&mu_);
    --running_;
  }

  void Issue(Slot* slot) {
    if (Clock::now() >= deadline_) return Stop(slot);
    slot->ticket = AcquireTicket();
    if (slot->ticket == kNoTicket) return Stop(slot);
    const BenchTicket& ticket = options_.tickets[slot->ticket];
    slot->scan_of_ticket = scans_of_ticket_[slot->ticket];
    v1::ScanRequest& r = slot->request;
    r.Clear();
    r.set_event(options_.event);
    if (options_.by_code) {
      r.set_code(ticket.code);
    } else {
      r.set_registration(ticket.registration);
    }
    r.set_direction(slot->scan_of_ticket % 2 == 0 ? v1::SCAN_DIRECTION_ENTRY
                                                  : v1::SCAN_DIRECTION_EXIT);
    r.set_client_scan_id(client::NewRequestId());
    r.set_language("en");
    slot->response.Clear();
    slot->context = std::make_unique<grpc::ClientContext>();
    slot->context->AddMetadata("authorization", absl::StrCat("Bearer ", options_.door_token));
    slot->context->set_deadline(absl::ToChronoTime(absl::Now() + options_.call_deadline));
    slot->started = Clock::now();
    slot->stub->async()->Scan(slot->context.get(), &slot->request, &slot->response,
                              [this, slot](grpc::Status status) { OnDone(slot, status); });
  }

  void OnDone(Slot* slot, const grpc::Status& status) {
    const Clock::time_point done = Clock::now();
    slot->last_done = done;
    const v1::ScanResult::Status expected =
        slot->scan_of_ticket % 2 == 0 ? v1::ScanResult::ADMITTED : v1::ScanResult::EXIT_RECORDED;
    std::string error;
    if (!status.ok()) {
      error = absl::StrCat("RPC failed: ", status.error_code(), " ", status.error_message());
    } else if (slot->response.status() != expected || slot->response.replayed()) {
      error = absl::StrCat("scan ", slot->scan_of_ticket + 1, " of ticket ", slot->ticket,
                           ": expected ", v1::ScanResult::Status_Name(expected), ", got ",
                           v1::ScanResult::Status_Name(slot->response.status()),
                           slot->response.replayed() ? " (replayed)" : "");
    }
    if (!error.empty()) {
      // The ticket's state is now unknown: leave it marked busy so no later scan trips over it.
      ++slot->errors;
      if (slot->error_samples.size() < kMaxErrorSamples) slot->error_samples.push_back(error);
    } else {
      using std::chrono::duration_cast;
      using std::chrono::microseconds;
      slot->samples.push_back({duration_cast<microseconds>(done - start_).count(),
                               duration_cast<microseconds>(done - slot->started).count()});
      if (expected == v1::ScanResult::EXIT_RECORDED) {
        ++slot->exits;
      } else if (slot->scan_of_ticket == 0) {
        ++slot->first_entries;
      } else {
        ++slot->reentries;
      }
      ++scans_of_ticket_[slot->ticket];
      busy_[slot->ticket].store(false, std::memory_order_release);
    }
    Issue(slot);
  }

  const ScanLoadOptions& options_;
  std::vector<std::unique_ptr<v1::CheckinService::Stub>> stubs_;
  std::vector<std::unique_ptr<Slot>> slots_;
  // busy_[t] is held by the call scanning ticket t; scans_of_ticket_[t] belongs to its holder.
  std::unique_ptr<std::atomic<bool>[]> busy_;
  std::vector<int> scans_of_ticket_;
  std::atomic<size_t> next_{0};
  Clock::time_point start_;
  Clock::time_point deadline_;
  absl::Mutex mu_;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace

ScanLoadResult RunScanLoad(const ScanLoadOptions& options) { return ScanLoad(options).Run(); }

}  // namespace turnout::bench
