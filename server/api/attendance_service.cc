// AttendanceService: exact counts per checkpoint, and live updates of them.
#include "absl/strings/str_cat.h"
#include "server/api/convert.h"
#include "server/api/names.h"
#include "server/api/services.h"
#include "server/api/stream_slots.h"
#include "server/live/attendance_hub.h"
#include "server/store/scan_store.h"
#include "server/util/status_macros.h"

namespace turnout::api {
namespace {

const std::initializer_list<Role> kReaders = {Role::kAdmin, Role::kOrganizer, Role::kDoor,
                                              Role::kDashboard};

// Finishes a server-streaming call at once with UNIMPLEMENTED.
template <typename Message>
class UnimplementedWriter final : public grpc::ServerWriteReactor<Message> {
 public:
  explicit UnimplementedWriter(const char* what) {
    this->Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                              absl::StrCat(what, " is not available in this release yet")));
  }
  void OnDone() override { delete this; }
};

// One WatchAttendance stream. The caller is authenticated and holds a watch slot before it is
// subscribed. It keeps at most one update in flight and one pending, which newer counts replace:
// a stalled client holds two shared messages, whatever happens at the door.
class AttendanceWatcher final : public grpc::ServerWriteReactor<v1::AttendanceUpdate>,
                                public live::Subscriber {
 public:
  AttendanceWatcher(grpc::CallbackServerContext* ctx, ServiceDeps& deps,
                    const v1::WatchAttendanceRequest* req)
      : deps_(deps), authorization_(AuthorizationOf(*ctx)), event_name_(req->event()) {
    const bool queued = deps_.db->Submit([this](pqxx::connection* conn) {
      try {
        Admit(conn);
      } catch (const std::exception& e) {
        End(grpc::Status(grpc::StatusCode::INTERNAL, "internal error"));
      }
    });
    if (!queued) End(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is busy; retry"));
  }

  void Offer(live::SharedUpdate update) override {
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
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
      if (!ok || finished_ || pending_ == nullptr) {
        writing_ = false;
        return;
      }
      current_ = std::move(pending_);
    }
    StartWrite(current_.get());
  }

  void OnCancel() override { End(grpc::Status::CANCELLED); }

  void OnDone() override {
    Leave();
    if (slot_) deps_.watches->Release(principal_.token_id);
    delete this;
  }

 private:
  void Admit(pqxx::connection* conn) {
    absl::StatusOr<Principal> principal = deps_.auth->Authenticate(conn, authorization_);
    absl::Status admitted = principal.status();
    absl::StatusOr<int64_t> event_id = ParseEventName("event", event_name_);
    if (admitted.ok()) admitted = principal->Require(kReaders);
    if (admitted.ok()) admitted = event_id.status();
    if (admitted.ok()) admitted = principal->Require(kReaders, *event_id);
    if (admitted.ok()) {
      principal_ = *principal;
      admitted = deps_.watches->Acquire(principal_.token_id);
      slot_ = admitted.ok();
    }
    if (!admitted.ok()) {
      End(ToGrpcStatus(admitted));
      return;
    }
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;  // canceled meanwhile
      event_id_ = *event_id;
      subscribed_ = true;
    }
    deps_.hub->Subscribe(*event_id, this);
  }

  // Leaves the hub and finishes the call, once, whoever asks first (a failed admission, the
  // client going away, the server shutting down).
  void End(const grpc::Status& status) {
    {
      absl::MutexLock lock(&mu_);
      if (ended_) return;
      ended_ = true;
    }
    Leave();
    Finish(status);
  }

  // Never offered anything again once this returns.
  void Leave() {
    int64_t event_id = 0;
    {
      absl::MutexLock lock(&mu_);
      finished_ = true;
      if (!subscribed_) return;
      subscribed_ = false;
      event_id = event_id_;
    }
    deps_.hub->Unsubscribe(event_id, this);
  }

  ServiceDeps& deps_;
  const std::string authorization_;
  const std::string event_name_;
  Principal principal_;
  bool slot_ = false;
  absl::Mutex mu_;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;  // offered nothing more
  bool ended_ ABSL_GUARDED_BY(mu_) = false;     // Finish called
  bool subscribed_ ABSL_GUARDED_BY(mu_) = false;
  int64_t event_id_ ABSL_GUARDED_BY(mu_) = 0;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  live::SharedUpdate current_;  // in flight; touched only by the one writer at a time
  live::SharedUpdate pending_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::StatusOr<v1::Attendance> ReadAttendance(pqxx::work& txn, int64_t event_id, absl::Time now) {
  ASSIGN_OR_RETURN(std::vector<store::CheckpointCountsRecord> counts,
                   store::PgScanStore::Attendance(txn, event_id));
  v1::Attendance attendance;
  attendance.set_event(EventName(event_id));
  for (const store::CheckpointCountsRecord& c : counts) ToProto(c, attendance.add_checkpoints());
  attendance.set_conflicts(store::PgScanStore::Conflicts(txn, event_id));
  *attendance.mutable_as_of() = ToProtoTime(now);
  return attendance;
}

ServerUnaryReactor* AttendanceServiceImpl::GetAttendance(CallbackServerContext* ctx,
                                                         const v1::GetAttendanceRequest* req,
                                                         v1::Attendance* resp) {
  return RunUnary(ctx, deps_, [this, req, resp](Call& call) -> absl::Status {
    RETURN_IF_ERROR(call.principal.Require(kReaders));
    ASSIGN_OR_RETURN(int64_t event_id, ParseEventName("event", req->event()));
    RETURN_IF_ERROR(call.principal.Require(kReaders, event_id));
    return call.Transaction([&](pqxx::work& txn) -> absl::Status {
      ASSIGN_OR_RETURN(*resp, ReadAttendance(txn, event_id, deps_.now()));
      return absl::OkStatus();
    });
  });
}

grpc::ServerWriteReactor<v1::AttendanceUpdate>* AttendanceServiceImpl::WatchAttendance(
    CallbackServerContext* ctx, const v1::WatchAttendanceRequest* req) {
  return new AttendanceWatcher(ctx, deps_, req);
}

grpc::ServerWriteReactor<v1::ExportAttendanceChunk>* AttendanceServiceImpl::ExportAttendance(
    CallbackServerContext*, const v1::ExportAttendanceRequest*) {
  return new UnimplementedWriter<v1::ExportAttendanceChunk>("ExportAttendance (CSV report)");
}

}  // namespace turnout::api
