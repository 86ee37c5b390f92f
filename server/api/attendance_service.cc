// AttendanceService: exact counts per checkpoint, and live updates of them.
#include "absl/strings/str_cat.h"
#include "server/api/convert.h"
#include "server/api/names.h"
#include "server/api/services.h"
#include "server/api/stream_slots.h"
#include "server/live/attendance_hub.h"
#include "server/domain/csv_report.h"
#include "server/store/event_store.h"
#include "server/store/report_store.h"
#include "server/store/scan_store.h"
#include "server/util/status_macros.h"

namespace turnout::api {
namespace {

const std::initializer_list<Role> kReaders = {Role::kAdmin, Role::kOrganizer, Role::kDoor,
                                              Role::kDashboard};

// A stream's caller is checked on the gRPC thread, before any database work: its metadata, and
// that it sent a token at all (every stream needs one).
absl::Status CheckStreamCaller(const grpc::ServerContextBase& ctx,
                               const std::string& authorization) {
  RETURN_IF_ERROR(CheckCallMetadata(ctx));
  if (authorization.empty()) {
    return absl::UnauthenticatedError(
        "this stream needs a token: send the metadata \"authorization: Bearer <token>\"");
  }
  return absl::OkStatus();
}

// One WatchAttendance stream. The caller is authenticated and holds a watch slot before it is
// subscribed. It keeps at most one update in flight and one pending, which newer counts replace:
// a stalled client holds two shared updates, whatever happens at the door. It writes each update's
// bytes as the hub serialized them (live::Update): the stream is raw, so gRPC serializes nothing
// per stream.
class AttendanceWatcher final : public grpc::ServerWriteReactor<grpc::ByteBuffer>,
                                public live::Subscriber {
 public:
  AttendanceWatcher(grpc::CallbackServerContext* ctx, ServiceDeps& deps,
                    const v1::WatchAttendanceRequest& req)
      : ctx_(ctx),
        deps_(deps),
        authorization_(AuthorizationOf(*ctx)),
        event_name_(req.event()),
        resume_after_(req.resume_after_sequence()) {
    // Which replica serves the stream, for clients behind a load balancer (sent with the first
    // message, or with the error).
    ctx->AddInitialMetadata("turnout-replica", deps_.replica_name);
    if (absl::Status checked = CheckStreamCaller(*ctx, authorization_); !checked.ok()) {
      End(ToGrpcStatus(checked));
      return;
    }
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
    StartWrite(&current_->wire());
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
    StartWrite(&current_->wire());
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
    // Any resume point gets a snapshot first (a sequence of another replica, another event or
    // the future included): the counts are whole in every message, so nothing is missed.
    if (admitted.ok() && resume_after_ < 0) {
      admitted = absl::InvalidArgumentError(
          "resume_after_sequence: the last sequence received, or 0; never negative");
    }
    if (admitted.ok()) admitted = principal->Require(kReaders, *event_id);
    if (admitted.ok()) {
      principal_ = *principal;
      admitted = deps_.watches->Acquire(principal_.token_id);
      slot_ = admitted.ok();
    }
    if (!admitted.ok()) {
      End(FinishStatus(*ctx_, admitted, deps_.metrics));
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

  grpc::CallbackServerContext* const ctx_;
  ServiceDeps& deps_;
  const std::string authorization_;
  const std::string event_name_;
  const int64_t resume_after_;
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

// A WatchAttendance call whose request bytes are not a WatchAttendanceRequest.
class RefusedWatch final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  explicit RefusedWatch(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

// ExportAttendance: the CSV report, a page of registrations per chunk, each page read on a
// database worker after the previous chunk was written (the client sets the pace; memory holds
// one chunk).
class AttendanceExporter final : public grpc::ServerWriteReactor<v1::ExportAttendanceChunk> {
 public:
  AttendanceExporter(grpc::CallbackServerContext* ctx, ServiceDeps& deps,
                     const v1::ExportAttendanceRequest* req)
      : ctx_(ctx), deps_(deps), authorization_(AuthorizationOf(*ctx)), event_name_(req->event()) {
    if (absl::Status checked = CheckStreamCaller(*ctx, authorization_); !checked.ok()) {
      Finish(ToGrpcStatus(checked));
      return;
    }
    Next();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
      return;
    }
    Next();
  }

  void OnDone() override {
    if (slot_) deps_.exports->Release(principal_.token_id);
    delete this;
  }

 private:
  static constexpr int kRowsPerChunk = 500;

  void Next() {
    const bool queued = deps_.db->Submit([this](pqxx::connection* conn) {
      absl::Status status;
      try {
        status = WriteNextChunk(conn);
      } catch (const std::exception& e) {
        status = absl::InternalError("internal error");
      }
      if (!status.ok()) Finish(FinishStatus(*ctx_, status, deps_.metrics));
    });
    if (!queued) Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is busy; retry"));
  }

  // Starts the next write, or finishes the call when every row was sent.
  absl::Status WriteNextChunk(pqxx::connection* conn) {
    std::string csv;
    if (!started_) {
      ASSIGN_OR_RETURN(Principal p, deps_.auth->Authenticate(conn, authorization_));
      RETURN_IF_ERROR(p.Require({Role::kAdmin, Role::kOrganizer}));
      ASSIGN_OR_RETURN(event_id_, ParseEventName("event", event_name_));
      RETURN_IF_ERROR(p.Require({Role::kAdmin, Role::kOrganizer}, event_id_));
      if (!slot_) {
        RETURN_IF_ERROR(deps_.exports->Acquire(p.token_id));
        principal_ = p;
        slot_ = true;
      }
      RETURN_IF_ERROR(store::Database::InTransaction(conn, [&](pqxx::work& txn) -> absl::Status {
        ASSIGN_OR_RETURN(store::EventRecord event, store::PgEventStore::GetEvent(txn, event_id_));
        ASSIGN_OR_RETURN(checkpoints_, store::PgEventStore::ListCheckpoints(txn, event_id_));
        if (!absl::LoadTimeZone(event.time_zone, &time_zone_)) time_zone_ = absl::UTCTimeZone();
        return absl::OkStatus();
      }));
      std::vector<std::string> header = {"registration", "display_name", "status", "source"};
      for (const store::CheckpointRecord& c : checkpoints_) {
        header.push_back(absl::StrCat("first entry: ", c.title));
      }
      header.push_back("conflicts");
      csv = domain::CsvRow(header);
      started_ = true;
    }
    std::vector<store::ReportRow> rows;
    RETURN_IF_ERROR(store::Database::InTransaction(conn, [&](pqxx::work& txn) {
      rows = store::PgReportStore::Page(txn, event_id_, after_id_, kRowsPerChunk);
      return absl::OkStatus();
    }));
    for (const store::ReportRow& r : rows) {
      std::vector<std::string> cells = {
          ChildNameOf(event_id_, "registrations", r.registration_id), r.display_name,
          v1::Registration::Status_Name(static_cast<v1::Registration::Status>(r.status)),
          v1::Registration::Source_Name(static_cast<v1::Registration::Source>(r.source))};
      for (const store::CheckpointRecord& c : checkpoints_) {
        auto it = r.first_entry.find(c.id);
        cells.push_back(it == r.first_entry.end()
                            ? ""
                            : absl::FormatTime("%Y-%m-%d %H:%M:%S", it->second, time_zone_));
      }
      cells.push_back(absl::StrCat(r.conflicts));
      csv += domain::CsvRow(cells);
      after_id_ = r.registration_id;
    }
    if (csv.empty()) {
      Finish(grpc::Status::OK);
      return absl::OkStatus();
    }
    chunk_.set_csv(std::move(csv));
    StartWrite(&chunk_);
    return absl::OkStatus();
  }

  grpc::CallbackServerContext* const ctx_;
  ServiceDeps& deps_;
  const std::string authorization_;
  const std::string event_name_;
  Principal principal_;
  bool slot_ = false;  // holds one of deps_.exports' slots
  bool started_ = false;
  int64_t event_id_ = 0;
  int64_t after_id_ = 0;
  std::vector<store::CheckpointRecord> checkpoints_;
  absl::TimeZone time_zone_;
  v1::ExportAttendanceChunk chunk_;
};

}  // namespace

absl::StatusOr<v1::Attendance> ReadAttendance(pqxx::work& txn, int64_t event_id, absl::Time now) {
  ASSIGN_OR_RETURN(std::vector<store::CheckpointCountsRecord> counts,
                   store::PgScanStore::Attendance(txn, event_id, now));
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
      ASSIGN_OR_RETURN(*resp, ReadAttendance(txn, event_id, deps_.clock->Now()));
      return absl::OkStatus();
    });
  });
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* AttendanceServiceImpl::WatchAttendance(
    CallbackServerContext* ctx, const grpc::ByteBuffer* request) {
  // The method is raw (services.h), so its request is parsed here, as gRPC would have.
  v1::WatchAttendanceRequest req;
  if (request != nullptr && request->Valid()) {  // no bytes at all is the empty message
    grpc::ByteBuffer bytes(*request);             // parsing consumes it; this copy shares the bytes
    if (!grpc::SerializationTraits<v1::WatchAttendanceRequest>::Deserialize(&bytes, &req).ok()) {
      return new RefusedWatch(grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          "the request could not be parsed as a WatchAttendanceRequest: every text field must be "
          "valid UTF-8 (and the message must match the turnout.v1 .proto files)"));
    }
  }
  return new AttendanceWatcher(ctx, deps_, req);
}

grpc::ServerWriteReactor<v1::ExportAttendanceChunk>* AttendanceServiceImpl::ExportAttendance(
    CallbackServerContext* ctx, const v1::ExportAttendanceRequest* req) {
  return new AttendanceExporter(ctx, deps_, req);
}

}  // namespace turnout::api
