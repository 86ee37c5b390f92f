#include "tools/bench/floor_server.h"

#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/flags/flag.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/floor.grpc.pb.h"

ABSL_FLAG(absl::Duration, floor_interval, absl::Milliseconds(250),
          "watch: the bare fan-out broadcasts this often (WatchAttendance's --watch_interval)");
ABSL_FLAG(int, update_bytes, 300, "watch: size of the bare fan-out's update on the wire");

namespace turnout::bench {
namespace {

using Shared = std::shared_ptr<const FloorUpdate>;

class Broadcaster;

// One stream: one write in flight, one pending slot that newer updates overwrite.
class FloorStream final : public grpc::ServerWriteReactor<FloorUpdate> {
 public:
  explicit FloorStream(Broadcaster* b);
  void Offer(Shared update) {
    {
      absl::MutexLock lock(&mu_);
      if (done_) return;
      if (writing_) {
        pending_ = std::move(update);
        return;
      }
      writing_ = true;
      current_ = std::move(update);
    }
    StartWrite(current_.get());
  }
  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      current_.reset();
      if (!ok || done_ || pending_ == nullptr) {
        writing_ = false;
        return;
      }
      current_ = std::move(pending_);
    }
    StartWrite(current_.get());
  }
  void OnCancel() override;
  void OnDone() override { delete this; }

 private:
  Broadcaster* const broadcaster_;
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  Shared current_;
  Shared pending_ ABSL_GUARDED_BY(mu_);
};

class Broadcaster {
 public:
  Broadcaster(absl::Duration interval, int update_bytes)
      : interval_(interval), update_bytes_(update_bytes) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Broadcaster() {
    stop_.Notify();
    thread_.join();
  }
  void Add(FloorStream* s) {
    absl::MutexLock lock(&mu_);
    streams_.insert(s);
  }
  // After this returns, `s` is offered nothing more.
  void Remove(FloorStream* s) {
    absl::MutexLock lock(&mu_);
    streams_.erase(s);
  }

 private:
  void Run() {
    int64_t sequence = 0;
    while (!stop_.WaitForNotificationWithTimeout(interval_)) {
      auto update = std::make_shared<FloorUpdate>();
      update->set_sequence(++sequence);
      update->set_sent_unix_nanos(absl::ToUnixNanos(absl::Now()));
      update->set_payload(std::string(1, 'x'));
      const int framing = static_cast<int>(update->ByteSizeLong()) - 1;
      update->set_payload(std::string(std::max(1, update_bytes_ - framing - 1), 'x'));
      Shared shared = std::move(update);
      absl::MutexLock lock(&mu_);
      for (FloorStream* s : streams_) s->Offer(shared);
    }
  }

  const absl::Duration interval_;
  const int update_bytes_;
  absl::Notification stop_;
  absl::Mutex mu_;
  absl::flat_hash_set<FloorStream*> streams_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

FloorStream::FloorStream(Broadcaster* b) : broadcaster_(b) { broadcaster_->Add(this); }

void FloorStream::OnCancel() {
  broadcaster_->Remove(this);
  {
    absl::MutexLock lock(&mu_);
    done_ = true;
  }
  Finish(grpc::Status::CANCELLED);
}

class FloorService final : public Floor::CallbackService {
 public:
  explicit FloorService(Broadcaster* b) : broadcaster_(b) {}
  grpc::ServerWriteReactor<FloorUpdate>* Watch(grpc::CallbackServerContext*,
                                               const FloorWatchRequest*) override {
    return new FloorStream(broadcaster_);
  }

 private:
  Broadcaster* const broadcaster_;
};

std::atomic<bool> g_stop{false};

}  // namespace

int RunFloorServer() {
  signal(SIGPIPE, SIG_IGN);
  Broadcaster broadcaster(absl::GetFlag(FLAGS_floor_interval), absl::GetFlag(FLAGS_update_bytes));
  FloorService service(&broadcaster);
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::cerr << "turnout-bench floor-server: cannot listen on 127.0.0.1\n";
    return 1;
  }
  std::cout << "listening on port " << port << std::endl;
  // Until the bench closes our stdin (it ends, or stops us) or SIGTERM.
  struct sigaction term {};
  term.sa_handler = [](int) { g_stop = true; };
  sigaction(SIGTERM, &term, nullptr);  // no SA_RESTART: the read below returns EINTR
  char byte;
  while (!g_stop && read(0, &byte, 1) > 0) {
  }
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return 0;
}

}  // namespace turnout::bench
