// The thin C++ client of the Turnout API: one typed, blocking method per RPC, with the bearer
// token, a deadline and safe retries applied to every call, and errors as absl::Status.
//
//   ClientOptions options;
//   options.target = "localhost:7443";
//   options.token = token;
//   absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
//   v1::GetAttendanceRequest request;
//   request.set_event("events/1");
//   absl::StatusOr<v1::Attendance> counts = (*client)->GetAttendance(request);
//
// Retries: a call is retried (up to max_attempts, after 50 ms × 2^n, jittered) only when repeating
// it cannot do anything twice: reads, and writes carrying a request_id or client_scan_id. Those are
// retried on UNAVAILABLE and DEADLINE_EXCEEDED; every other write is sent exactly once.
//
// A Client is thread-safe: calls may run concurrently from several threads.
#ifndef TURNOUT_CLIENT_LIB_CLIENT_H_
#define TURNOUT_CLIENT_LIB_CLIENT_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "turnout/v1/admin_service.grpc.pb.h"
#include "turnout/v1/attendance_service.grpc.pb.h"
#include "turnout/v1/checkin_service.grpc.pb.h"
#include "turnout/v1/event_service.grpc.pb.h"
#include "turnout/v1/registration_service.grpc.pb.h"

namespace turnout::client {

struct ClientOptions {
  // "host:port" or any gRPC target ("unix:/path").
  std::string target;
  // Sent as "authorization: Bearer <token>" when set. Registration needs none.
  std::string token;
  // The deadline of each attempt of a call (streams of updates have none).
  absl::Duration deadline = absl::Seconds(5);
  // Attempts of a retryable call, the first included. At least 1.
  int max_attempts = 3;
  bool use_tls = false;
  // PEM roots to verify the server with; empty means the system's roots.
  std::string tls_root_certs_pem;
  // The longest wait between two attempts to reconnect to a server that went away. gRPC's own
  // default grows to two minutes; a door or a dashboard talks to one server and wants to be back
  // within about a second of its restart (attempts start 100 ms apart and double up to this).
  absl::Duration max_reconnect_backoff = absl::Seconds(1);
};

// The absl::Status for a gRPC status: same code, same message.
absl::Status FromGrpc(const grpc::Status& status);

// A new random id for request_id and client_scan_id: 128 bits as 32 hex digits.
std::string NewRequestId();

class Client {
 public:
  // Creates the channel. Connecting is lazy, so this succeeds with the server down; it fails only
  // for invalid options.
  static absl::StatusOr<std::unique_ptr<Client>> Connect(const ClientOptions& options);

  // EventService.
  absl::StatusOr<v1::Event> CreateEvent(const v1::CreateEventRequest& request) const;
  absl::StatusOr<v1::Event> GetEvent(const v1::GetEventRequest& request) const;
  absl::StatusOr<v1::ListEventsResponse> ListEvents(const v1::ListEventsRequest& request) const;
  absl::StatusOr<v1::Event> UpdateEvent(const v1::UpdateEventRequest& request) const;
  absl::StatusOr<v1::Session> CreateSession(const v1::CreateSessionRequest& request) const;
  absl::StatusOr<v1::ListSessionsResponse> ListSessions(
      const v1::ListSessionsRequest& request) const;
  absl::StatusOr<v1::Session> UpdateSession(const v1::UpdateSessionRequest& request) const;
  absl::StatusOr<v1::ListCheckpointsResponse> ListCheckpoints(
      const v1::ListCheckpointsRequest& request) const;

  // RegistrationService.
  absl::StatusOr<v1::RegisterResponse> Register(const v1::RegisterRequest& request) const;
  absl::StatusOr<v1::Registration> GetRegistration(const v1::GetRegistrationRequest& request) const;
  absl::StatusOr<v1::Registration> CancelRegistration(
      const v1::CancelRegistrationRequest& request) const;
  absl::StatusOr<v1::Registration> UpdateSessionChoices(
      const v1::UpdateSessionChoicesRequest& request) const;
  absl::StatusOr<v1::ListRegistrationsResponse> ListRegistrations(
      const v1::ListRegistrationsRequest& request) const;
  absl::StatusOr<v1::Ticket> GetTicket(const v1::GetTicketRequest& request) const;
  absl::StatusOr<v1::Ticket> ReissueTicket(const v1::ReissueTicketRequest& request) const;
  // A new manage secret for an attendee (ORGANIZER or ADMIN); the previous one stops working.
  // Never retried: a lost answer would leave no working secret the caller knows.
  absl::StatusOr<v1::IssueManageSecretResponse> IssueManageSecret(
      const v1::IssueManageSecretRequest& request) const;
  // Streams `rows` in order (the first must name the event in `parent`); the server imports all or
  // none. Never retried.
  absl::StatusOr<v1::ImportRegistrationsResponse> ImportRegistrations(
      const std::vector<v1::ImportRegistrationsRequest>& rows) const;

  // CheckinService.
  absl::StatusOr<v1::ScanResult> Scan(const v1::ScanRequest& request) const;
  absl::StatusOr<v1::UploadScansResponse> UploadScans(const v1::UploadScansRequest& request) const;
  absl::StatusOr<v1::AnnulScanResponse> AnnulScan(const v1::AnnulScanRequest& request) const;
  absl::StatusOr<v1::OfflineBundle> GetOfflineBundle(
      const v1::GetOfflineBundleRequest& request) const;
  absl::StatusOr<v1::SearchAttendeesResponse> SearchAttendees(
      const v1::SearchAttendeesRequest& request) const;
  absl::StatusOr<v1::CheckInWalkInResponse> CheckInWalkIn(
      const v1::CheckInWalkInRequest& request) const;

  // AttendanceService.
  absl::StatusOr<v1::Attendance> GetAttendance(const v1::GetAttendanceRequest& request) const;
  // Blocks, calling `on_update` with the snapshot and each update until it returns false (then
  // returns OK) or the stream fails. A dropped stream is resumed after the last sequence seen, up
  // to max_attempts times in a row; past that the error is returned, and the caller may call again
  // with resume_after_sequence set to the last sequence it saw.
  absl::Status WatchAttendance(
      const v1::WatchAttendanceRequest& request,
      const std::function<bool(const v1::AttendanceUpdate&)>& on_update) const;
  // One WatchAttendance stream, never resumed: calls `on_update` with each message until it returns
  // false or the stream ends, and returns how the stream ended (OK when `on_update` stopped it or
  // the server closed it). `context` is fresh and the caller's, so another thread may end the
  // stream at once with context.TryCancel(). AttendanceWatcher (attendance_watcher.h) reconnects
  // on top of this.
  absl::Status WatchAttendanceStream(
      grpc::ClientContext& context, const v1::WatchAttendanceRequest& request,
      const std::function<bool(const v1::AttendanceUpdate&)>& on_update) const;
  // The attendance report: the streamed CSV chunks, joined.
  absl::StatusOr<std::string> ExportAttendance(const v1::ExportAttendanceRequest& request) const;

  // AdminService.
  absl::StatusOr<v1::CreateDeviceTokenResponse> CreateDeviceToken(
      const v1::CreateDeviceTokenRequest& request) const;
  absl::StatusOr<v1::ListDeviceTokensResponse> ListDeviceTokens(
      const v1::ListDeviceTokensRequest& request) const;
  absl::StatusOr<v1::DeviceToken> RevokeDeviceToken(
      const v1::RevokeDeviceTokenRequest& request) const;
  absl::StatusOr<v1::SigningKeyInfo> RotateSigningKey(
      const v1::RotateSigningKeyRequest& request) const;
  absl::StatusOr<v1::ListSigningKeysResponse> ListSigningKeys(
      const v1::ListSigningKeysRequest& request) const;
  absl::StatusOr<v1::SigningKeyInfo> RevokeSigningKey(
      const v1::RevokeSigningKeyRequest& request) const;
  absl::StatusOr<v1::PurgePersonalDataResponse> PurgePersonalData(
      const v1::PurgePersonalDataRequest& request) const;
  absl::StatusOr<v1::ListAuditEntriesResponse> ListAuditEntries(
      const v1::ListAuditEntriesRequest& request) const;

 private:
  Client(const ClientOptions& options, std::shared_ptr<grpc::Channel> channel);

  const ClientOptions options_;
  const std::shared_ptr<grpc::Channel> channel_;
  const std::unique_ptr<v1::EventService::Stub> events_;
  const std::unique_ptr<v1::RegistrationService::Stub> registrations_;
  const std::unique_ptr<v1::CheckinService::Stub> checkin_;
  const std::unique_ptr<v1::AttendanceService::Stub> attendance_;
  const std::unique_ptr<v1::AdminService::Stub> admin_;
};

}  // namespace turnout::client

#endif  // TURNOUT_CLIENT_LIB_CLIENT_H_
