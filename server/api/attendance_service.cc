// AttendanceService: exact counts per checkpoint.
#include "absl/strings/str_cat.h"
#include "server/api/convert.h"
#include "server/api/names.h"
#include "server/api/services.h"
#include "server/store/scan_store.h"
#include "server/util/status_macros.h"

namespace turnout::api {
namespace {

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

}  // namespace

ServerUnaryReactor* AttendanceServiceImpl::GetAttendance(CallbackServerContext* ctx,
                                                         const v1::GetAttendanceRequest* req,
                                                         v1::Attendance* resp) {
  return RunUnary(ctx, deps_, [this, req, resp](Call& call) -> absl::Status {
    const std::initializer_list<Role> kReaders = {Role::kAdmin, Role::kOrganizer, Role::kDoor,
                                                  Role::kDashboard};
    RETURN_IF_ERROR(call.principal.Require(kReaders));
    ASSIGN_OR_RETURN(int64_t event_id, ParseEventName("event", req->event()));
    RETURN_IF_ERROR(call.principal.Require(kReaders, event_id));
    return call.Transaction([&](pqxx::work& txn) -> absl::Status {
      ASSIGN_OR_RETURN(std::vector<store::CheckpointCountsRecord> counts,
                       store::PgScanStore::Attendance(txn, event_id));
      resp->Clear();
      resp->set_event(EventName(event_id));
      for (const store::CheckpointCountsRecord& c : counts) ToProto(c, resp->add_checkpoints());
      resp->set_conflicts(store::PgScanStore::Conflicts(txn, event_id));
      *resp->mutable_as_of() = ToProtoTime(deps_.now());
      return absl::OkStatus();
    });
  });
}

grpc::ServerWriteReactor<v1::AttendanceUpdate>* AttendanceServiceImpl::WatchAttendance(
    CallbackServerContext*, const v1::WatchAttendanceRequest*) {
  return new UnimplementedWriter<v1::AttendanceUpdate>("WatchAttendance (live attendance)");
}

grpc::ServerWriteReactor<v1::ExportAttendanceChunk>* AttendanceServiceImpl::ExportAttendance(
    CallbackServerContext*, const v1::ExportAttendanceRequest*) {
  return new UnimplementedWriter<v1::ExportAttendanceChunk>("ExportAttendance (CSV report)");
}

}  // namespace turnout::api
