#include "tools/bench/watchers.h"

#include <functional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "bench/floor.grpc.pb.h"
#include "turnout/v1/attendance_service.grpc.pb.h"

namespace turnout::bench {
namespace {

namespace v1 = ::turnout::v1;

// Streams are opened this many at a time, each wave once the previous one is reading, so the
// server admits them at its pace rather than all in one burst.
constexpr int kWave = 500;
constexpr absl::Duration kWaveTimeout = absl::Seconds(60);
constexpr size_t kMaxEndSamples = 5;

template <class Update>
class Streams;

template <class Update>
class Reader final : public grpc::ClientReadReactor<Update> {
 public:
  explicit Reader(Streams<Update>* owner) : owner_(owner) {}

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    const int64_t now = absl::ToUnixNanos(absl::Now());
    Received r = owner_->extract(message_);
    r.received_ns = now;
    r.bytes = static_cast<int32_t>(message_.ByteSizeLong());
    if (received_.empty()) {
      r.fresh = false;  // a stream's first message carries older counts (a snapshot)
      owner_->MarkReady();
    }
    received_.push_back(r);
    this->StartRead(&message_);
  }
  void OnDone(const grpc::Status& status) override { owner_->MarkDone(status); }

  grpc::ClientContext context;
  typename std::conditional<std::is_same<Update, FloorUpdate>::value, FloorWatchRequest,
                            v1::WatchAttendanceRequest>::type request;
  std::vector<Received> received_;

 private:
  Streams<Update>* const owner_;
  Update message_;
  friend class Streams<Update>;
};

template <class Update>
class Streams final : public StreamSet {
 public:
  using Starter = std::function<void(int i, Reader<Update>* reader)>;

  Streams(std::function<Received(const Update&)> extract) : extract(std::move(extract)) {}
  ~Streams() override { Stop(); }

  // Opens `count` streams in waves.
  void Open(int count, const Starter& start) {
    for (int first = 0; first < count; first += kWave) {
      const int last = std::min(count, first + kWave);
      for (int i = first; i < last; ++i) {
        auto reader = std::make_unique<Reader<Update>>(this);
        start(i, reader.get());
        reader->StartRead(&reader->message_);
        reader->StartCall();
        readers_.push_back(std::move(reader));
      }
      absl::MutexLock lock(&mu_);
      auto wave_in = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return ready_ + ended_ >= last; };
      mu_.AwaitWithTimeout(absl::Condition(&wave_in), kWaveTimeout);
    }
  }

  absl::Status WaitReady(absl::Duration timeout) override {
    absl::MutexLock lock(&mu_);
    const int n = static_cast<int>(readers_.size());
    auto all = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return ready_ + ended_ >= n; };
    mu_.AwaitWithTimeout(absl::Condition(&all), timeout);
    if (ready_ < n) {
      return absl::UnavailableError(absl::StrCat(
          n - ready_, " of ", n, " streams received nothing (", ended_, " ended",
          end_samples_.empty() ? "" : absl::StrCat(": ", end_samples_[0]), ")"));
    }
    return absl::OkStatus();
  }

  int ended() const override {
    absl::MutexLock lock(&mu_);
    return ended_;
  }
  std::vector<std::string> end_samples() const override {
    absl::MutexLock lock(&mu_);
    return end_samples_;
  }

  std::vector<std::vector<Received>> Stop() override {
    std::vector<std::vector<Received>> out;
    if (readers_.empty()) return out;
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    for (auto& r : readers_) r->context.TryCancel();
    {
      absl::MutexLock lock(&mu_);
      const int n = static_cast<int>(readers_.size());
      auto all = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return done_ >= n; };
      mu_.Await(absl::Condition(&all));
    }
    for (auto& r : readers_) out.push_back(std::move(r->received_));
    readers_.clear();
    return out;
  }

  void MarkReady() {
    absl::MutexLock lock(&mu_);
    ++ready_;
  }
  void MarkDone(const grpc::Status& status) {
    absl::MutexLock lock(&mu_);
    ++done_;
    if (stopping_ || status.error_code() == grpc::StatusCode::CANCELLED) return;
    ++ended_;
    if (end_samples_.size() < kMaxEndSamples) {
      end_samples_.push_back(absl::StrCat(status.error_code(), " ", status.error_message()));
    }
  }

  const std::function<Received(const Update&)> extract;

 private:
  std::vector<std::unique_ptr<Reader<Update>>> readers_;
  mutable absl::Mutex mu_;
  int ready_ ABSL_GUARDED_BY(mu_) = 0;
  int ended_ ABSL_GUARDED_BY(mu_) = 0;
  int done_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::string> end_samples_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::vector<std::shared_ptr<grpc::Channel>> OpenChannels(const std::string& target, int count) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < count; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // no subchannel shared with another
    args.SetInt("turnout.bench.connection", i);          // and arguments no other channel has
    args.SetMaxReceiveMessageSize(-1);
    auto channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
    channel->WaitForConnected(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    channels.push_back(std::move(channel));
  }
  return channels;
}

std::unique_ptr<StreamSet> OpenWatchStreams(
    const std::vector<std::shared_ptr<grpc::Channel>>& channels, int count,
    const std::vector<std::string>& tokens, const std::string& event,
    const std::string& entrance) {
  auto set = std::make_unique<Streams<v1::AttendanceUpdate>>(
      [entrance](const v1::AttendanceUpdate& u) {
        Received r;
        r.stamp_ns = u.attendance().as_of().seconds() * 1000000000 + u.attendance().as_of().nanos();
        for (const v1::CheckpointAttendance& c : u.attendance().checkpoints()) {
          if (c.checkpoint() == entrance) r.value = c.checked_in();
        }
        r.fresh = !u.snapshot() && !u.heartbeat();
        return r;
      });
  std::vector<std::unique_ptr<v1::AttendanceService::Stub>> stubs;
  for (const auto& c : channels) stubs.push_back(v1::AttendanceService::NewStub(c));
  set->Open(count, [&](int i, Reader<v1::AttendanceUpdate>* reader) {
    reader->context.AddMetadata("authorization",
                                absl::StrCat("Bearer ", tokens[i % tokens.size()]));
    reader->request.set_event(event);
    stubs[i % stubs.size()]->async()->WatchAttendance(&reader->context, &reader->request, reader);
  });
  return set;
}

std::unique_ptr<StreamSet> OpenFloorStreams(
    const std::vector<std::shared_ptr<grpc::Channel>>& channels, int count) {
  auto set = std::make_unique<Streams<FloorUpdate>>([](const FloorUpdate& u) {
    Received r;
    r.stamp_ns = u.sent_unix_nanos();
    r.value = u.sequence();
    r.fresh = true;
    return r;
  });
  std::vector<std::unique_ptr<Floor::Stub>> stubs;
  for (const auto& c : channels) stubs.push_back(Floor::NewStub(c));
  set->Open(count, [&](int i, Reader<FloorUpdate>* reader) {
    stubs[i % stubs.size()]->async()->Watch(&reader->context, &reader->request, reader);
  });
  return set;
}

}  // namespace turnout::bench
