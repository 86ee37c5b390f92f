// The gRPC services of turnout.v1 on the callback API. Each RPC validates its request, checks the
// caller's role, and runs its database work on a worker through RunUnary (see call.h).
#ifndef TURNOUT_SERVER_API_SERVICES_H_
#define TURNOUT_SERVER_API_SERVICES_H_

#include "server/api/call.h"
#include "turnout/v1/admin_service.grpc.pb.h"
#include "turnout/v1/attendance_service.grpc.pb.h"
#include "turnout/v1/checkin_service.grpc.pb.h"
#include "turnout/v1/event_service.grpc.pb.h"
#include "turnout/v1/registration_service.grpc.pb.h"

namespace turnout::api {

using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;

class EventServiceImpl final : public v1::EventService::CallbackService {
 public:
  explicit EventServiceImpl(ServiceDeps& deps) : deps_(deps) {}
  ServerUnaryReactor* CreateEvent(CallbackServerContext* ctx, const v1::CreateEventRequest* req,
                                  v1::Event* resp) override;
  ServerUnaryReactor* GetEvent(CallbackServerContext* ctx, const v1::GetEventRequest* req,
                               v1::Event* resp) override;
  ServerUnaryReactor* ListEvents(CallbackServerContext* ctx, const v1::ListEventsRequest* req,
                                 v1::ListEventsResponse* resp) override;
  ServerUnaryReactor* UpdateEvent(CallbackServerContext* ctx, const v1::UpdateEventRequest* req,
                                  v1::Event* resp) override;
  ServerUnaryReactor* CreateSession(CallbackServerContext* ctx, const v1::CreateSessionRequest* req,
                                    v1::Session* resp) override;
  ServerUnaryReactor* ListSessions(CallbackServerContext* ctx, const v1::ListSessionsRequest* req,
                                   v1::ListSessionsResponse* resp) override;
  ServerUnaryReactor* UpdateSession(CallbackServerContext* ctx, const v1::UpdateSessionRequest* req,
                                    v1::Session* resp) override;
  ServerUnaryReactor* ListCheckpoints(CallbackServerContext* ctx,
                                      const v1::ListCheckpointsRequest* req,
                                      v1::ListCheckpointsResponse* resp) override;

 private:
  ServiceDeps& deps_;
};

class RegistrationServiceImpl final : public v1::RegistrationService::CallbackService {
 public:
  explicit RegistrationServiceImpl(ServiceDeps& deps) : deps_(deps) {}
  ServerUnaryReactor* Register(CallbackServerContext* ctx, const v1::RegisterRequest* req,
                               v1::RegisterResponse* resp) override;
  ServerUnaryReactor* GetRegistration(CallbackServerContext* ctx,
                                      const v1::GetRegistrationRequest* req,
                                      v1::Registration* resp) override;
  ServerUnaryReactor* CancelRegistration(CallbackServerContext* ctx,
                                         const v1::CancelRegistrationRequest* req,
                                         v1::Registration* resp) override;
  ServerUnaryReactor* UpdateSessionChoices(CallbackServerContext* ctx,
                                           const v1::UpdateSessionChoicesRequest* req,
                                           v1::Registration* resp) override;
  ServerUnaryReactor* ListRegistrations(CallbackServerContext* ctx,
                                        const v1::ListRegistrationsRequest* req,
                                        v1::ListRegistrationsResponse* resp) override;
  ServerUnaryReactor* GetTicket(CallbackServerContext* ctx, const v1::GetTicketRequest* req,
                                v1::Ticket* resp) override;
  ServerUnaryReactor* ReissueTicket(CallbackServerContext* ctx, const v1::ReissueTicketRequest* req,
                                    v1::Ticket* resp) override;
  ServerUnaryReactor* IssueManageSecret(CallbackServerContext* ctx,
                                        const v1::IssueManageSecretRequest* req,
                                        v1::IssueManageSecretResponse* resp) override;
  grpc::ServerReadReactor<v1::ImportRegistrationsRequest>* ImportRegistrations(
      CallbackServerContext* ctx, v1::ImportRegistrationsResponse* resp) override;

 private:
  ServiceDeps& deps_;
};

class CheckinServiceImpl final : public v1::CheckinService::CallbackService {
 public:
  explicit CheckinServiceImpl(ServiceDeps& deps) : deps_(deps) {}
  ServerUnaryReactor* Scan(CallbackServerContext* ctx, const v1::ScanRequest* req,
                           v1::ScanResult* resp) override;
  ServerUnaryReactor* UploadScans(CallbackServerContext* ctx, const v1::UploadScansRequest* req,
                                  v1::UploadScansResponse* resp) override;
  ServerUnaryReactor* AnnulScan(CallbackServerContext* ctx, const v1::AnnulScanRequest* req,
                                v1::AnnulScanResponse* resp) override;
  ServerUnaryReactor* GetOfflineBundle(CallbackServerContext* ctx,
                                       const v1::GetOfflineBundleRequest* req,
                                       v1::OfflineBundle* resp) override;
  ServerUnaryReactor* SearchAttendees(CallbackServerContext* ctx,
                                      const v1::SearchAttendeesRequest* req,
                                      v1::SearchAttendeesResponse* resp) override;
  ServerUnaryReactor* CheckInWalkIn(CallbackServerContext* ctx, const v1::CheckInWalkInRequest* req,
                                    v1::CheckInWalkInResponse* resp) override;

 private:
  ServiceDeps& deps_;
};

// The counts GetAttendance answers and WatchAttendance streams.
absl::StatusOr<v1::Attendance> ReadAttendance(pqxx::work& txn, int64_t event_id, absl::Time now);

// WatchAttendance is a raw method: its streams write the bytes the hub serialized once per update
// (live::Update) instead of each serializing the message again. On the wire it is the same
// AttendanceUpdate stream.
class AttendanceServiceImpl final
    : public v1::AttendanceService::WithRawCallbackMethod_WatchAttendance<
          v1::AttendanceService::CallbackService> {
 public:
  explicit AttendanceServiceImpl(ServiceDeps& deps) : deps_(deps) {}
  ServerUnaryReactor* GetAttendance(CallbackServerContext* ctx, const v1::GetAttendanceRequest* req,
                                    v1::Attendance* resp) override;
  grpc::ServerWriteReactor<grpc::ByteBuffer>* WatchAttendance(
      CallbackServerContext* ctx, const grpc::ByteBuffer* request) override;
  grpc::ServerWriteReactor<v1::ExportAttendanceChunk>* ExportAttendance(
      CallbackServerContext* ctx, const v1::ExportAttendanceRequest* req) override;

 private:
  ServiceDeps& deps_;
};

class AdminServiceImpl final : public v1::AdminService::CallbackService {
 public:
  explicit AdminServiceImpl(ServiceDeps& deps) : deps_(deps) {}
  ServerUnaryReactor* CreateDeviceToken(CallbackServerContext* ctx,
                                        const v1::CreateDeviceTokenRequest* req,
                                        v1::CreateDeviceTokenResponse* resp) override;
  ServerUnaryReactor* ListDeviceTokens(CallbackServerContext* ctx,
                                       const v1::ListDeviceTokensRequest* req,
                                       v1::ListDeviceTokensResponse* resp) override;
  ServerUnaryReactor* RevokeDeviceToken(CallbackServerContext* ctx,
                                        const v1::RevokeDeviceTokenRequest* req,
                                        v1::DeviceToken* resp) override;
  ServerUnaryReactor* RotateSigningKey(CallbackServerContext* ctx,
                                       const v1::RotateSigningKeyRequest* req,
                                       v1::SigningKeyInfo* resp) override;
  ServerUnaryReactor* ListSigningKeys(CallbackServerContext* ctx,
                                      const v1::ListSigningKeysRequest* req,
                                      v1::ListSigningKeysResponse* resp) override;
  ServerUnaryReactor* RevokeSigningKey(CallbackServerContext* ctx,
                                       const v1::RevokeSigningKeyRequest* req,
                                       v1::SigningKeyInfo* resp) override;
  ServerUnaryReactor* PurgePersonalData(CallbackServerContext* ctx,
                                        const v1::PurgePersonalDataRequest* req,
                                        v1::PurgePersonalDataResponse* resp) override;
  ServerUnaryReactor* ListAuditEntries(CallbackServerContext* ctx,
                                       const v1::ListAuditEntriesRequest* req,
                                       v1::ListAuditEntriesResponse* resp) override;

 private:
  ServiceDeps& deps_;
};

}  // namespace turnout::api

#endif  // TURNOUT_SERVER_API_SERVICES_H_
