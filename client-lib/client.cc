// The Turnout client; see client.h. Every call goes through Call(), the one place that sets up the
// context (token, deadline) and decides about retries.
#include "client-lib/client.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace turnout::client {
namespace {

constexpr absl::Duration kFirstBackoff = absl::Milliseconds(50);
constexpr int kMaxReceiveBytes = 64 << 20;  // offline bundles of large events
// The first reconnection attempt after a connection is lost waits this long, then the wait doubles
// up to ClientOptions::max_reconnect_backoff.
constexpr absl::Duration kFirstReconnectBackoff = absl::Milliseconds(100);
// How long one connection attempt (TCP, then TLS) may take. gRPC's default is 20 s; a refused
// connection fails at once anyway, and 5 s still lets a TLS handshake over poor wifi finish.
constexpr absl::Duration kConnectTimeout = absl::Seconds(5);

// Both are retried only for calls that are safe to repeat: a request that timed out may have been
// carried out, so repeating it must not do it twice.
bool IsRetryable(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::DEADLINE_EXCEEDED;
}

// Waits 50 ms × 2^retry, jittered by ±50% so that door devices recovering together spread out.
void Backoff(int retry) {
  absl::BitGen random;
  absl::SleepFor(kFirstBackoff * std::ldexp(absl::Uniform(random, 0.5, 1.5), retry));
}

void PrepareContext(const ClientOptions& options, absl::Time deadline,
                    grpc::ClientContext& context) {
  if (!options.token.empty()) {
    context.AddMetadata("authorization", absl::StrCat("Bearer ", options.token));
  }
  if (deadline != absl::InfiniteFuture()) context.set_deadline(absl::ToChronoTime(deadline));
}

// Runs `attempt(context, response)` with a fresh context per attempt; retries when `idempotent`.
template <typename Response, typename Attempt>
absl::StatusOr<Response> Call(const ClientOptions& options, bool idempotent, Attempt attempt) {
  for (int n = 0;; ++n) {
    grpc::ClientContext context;
    PrepareContext(options, absl::Now() + options.deadline, context);
    Response response;
    grpc::Status status = attempt(context, response);
    if (status.ok()) return response;
    if (!idempotent || !IsRetryable(status.error_code()) || n + 1 >= options.max_attempts) {
      return FromGrpc(status);
    }
    Backoff(n);
  }
}

// A unary RPC through Call(): `method` is the stub's blocking method, e.g.
// &v1::EventService::Stub::GetEvent.
template <typename Stub, typename Request, typename Response>
absl::StatusOr<Response> Unary(const ClientOptions& options, Stub& stub,
                               grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                                            Response*),
                               const Request& request, bool idempotent) {
  return Call<Response>(options, idempotent, [&](grpc::ClientContext& context, Response& response) {
    return (stub.*method)(&context, request, &response);
  });
}

constexpr bool kReadOnly = true;
constexpr bool kNotIdempotent = false;

}  // namespace

absl::Status FromGrpc(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

std::string NewRequestId() {
  absl::BitGen random;
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(random),
                         absl::Uniform<uint64_t>(random));
}

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(const ClientOptions& options) {
  if (options.target.empty()) return absl::InvalidArgumentError("no server address given");
  if (options.max_attempts < 1) return absl::InvalidArgumentError("max_attempts must be >= 1");
  if (options.deadline <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the deadline must be positive");
  }
  if (options.max_reconnect_backoff <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("max_reconnect_backoff must be positive");
  }
  if (options.token.find_first_of("\r\n") != std::string::npos) {
    return absl::InvalidArgumentError("the token must be one line");
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options.use_tls) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = options.tls_root_certs_pem;
    credentials = grpc::SslCredentials(ssl);
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxReceiveBytes);
  const int max_backoff_ms =
      static_cast<int>(absl::ToInt64Milliseconds(options.max_reconnect_backoff));
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
              std::min(max_backoff_ms,
                       static_cast<int>(absl::ToInt64Milliseconds(kFirstReconnectBackoff))));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, max_backoff_ms);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
              static_cast<int>(absl::ToInt64Milliseconds(kConnectTimeout)));
  return std::unique_ptr<Client>(
      new Client(options, grpc::CreateCustomChannel(options.target, credentials, args)));
}

Client::Client(const ClientOptions& options, std::shared_ptr<grpc::Channel> channel)
    : options_(options),
      channel_(std::move(channel)),
      events_(v1::EventService::NewStub(channel_)),
      registrations_(v1::RegistrationService::NewStub(channel_)),
      checkin_(v1::CheckinService::NewStub(channel_)),
      attendance_(v1::AttendanceService::NewStub(channel_)),
      admin_(v1::AdminService::NewStub(channel_)) {}

// EventService.

absl::StatusOr<v1::Event> Client::CreateEvent(const v1::CreateEventRequest& request) const {
  return Unary(options_, *events_, &v1::EventService::Stub::CreateEvent, request,
               !request.request_id().empty());
}

absl::StatusOr<v1::Event> Client::GetEvent(const v1::GetEventRequest& request) const {
  return Unary(options_, *events_, &v1::EventService::Stub::GetEvent, request, kReadOnly);
}

absl::StatusOr<v1::ListEventsResponse> Client::ListEvents(
    const v1::ListEventsRequest& request) const {
  return Unary(options_, *events_, &v1::EventService::Stub::ListEvents, request, kReadOnly);
}

absl::StatusOr<v1::Event> Client::UpdateEvent(const v1::UpdateEventRequest& request) const {
  return Unary(options_, *events_, &v1::EventService::Stub::UpdateEvent, request, kNotIdempotent);
}

absl::StatusOr<v1::Session> Client::CreateSession(const v1::CreateSessionRequest& request) const {
  return Unary(options_, *events_, &v1::EventService::Stub::CreateSession, request,
               !request.request_id().empty());
}

absl::StatusOr<v1::ListSessionsResponse> Client::ListSessions(
    const v1::ListSessionsRequest& request) const {
  return Unary(options_, *events_, &v1::EventService::Stub::ListSessions, request, kReadOnly);
}

absl::StatusOr<v1::Session> Client::UpdateSession(const v1::UpdateSessionRequest& request) const {
  return Unary(options_, *events_, &v1::EventService::Stub::UpdateSession, request, kNotIdempotent);
}

absl::StatusOr<v1::ListCheckpointsResponse> Client::ListCheckpoints(
    const v1::ListCheckpointsRequest& request) const {
  return Unary(options_, *events_, &v1::EventService::Stub::ListCheckpoints, request, kReadOnly);
}

// RegistrationService.

absl::StatusOr<v1::RegisterResponse> Client::Register(const v1::RegisterRequest& request) const {
  return Unary(options_, *registrations_, &v1::RegistrationService::Stub::Register, request,
               !request.request_id().empty());
}

absl::StatusOr<v1::Registration> Client::GetRegistration(
    const v1::GetRegistrationRequest& request) const {
  return Unary(options_, *registrations_, &v1::RegistrationService::Stub::GetRegistration, request,
               kReadOnly);
}

absl::StatusOr<v1::Registration> Client::CancelRegistration(
    const v1::CancelRegistrationRequest& request) const {
  return Unary(options_, *registrations_, &v1::RegistrationService::Stub::CancelRegistration,
               request, kNotIdempotent);
}

absl::StatusOr<v1::Registration> Client::UpdateSessionChoices(
    const v1::UpdateSessionChoicesRequest& request) const {
  return Unary(options_, *registrations_, &v1::RegistrationService::Stub::UpdateSessionChoices,
               request, kNotIdempotent);
}

absl::StatusOr<v1::ListRegistrationsResponse> Client::ListRegistrations(
    const v1::ListRegistrationsRequest& request) const {
  return Unary(options_, *registrations_, &v1::RegistrationService::Stub::ListRegistrations,
               request, kReadOnly);
}

absl::StatusOr<v1::Ticket> Client::GetTicket(const v1::GetTicketRequest& request) const {
  return Unary(options_, *registrations_, &v1::RegistrationService::Stub::GetTicket, request,
               kReadOnly);
}

absl::StatusOr<v1::Ticket> Client::ReissueTicket(const v1::ReissueTicketRequest& request) const {
  return Unary(options_, *registrations_, &v1::RegistrationService::Stub::ReissueTicket, request,
               kNotIdempotent);
}

absl::StatusOr<v1::IssueManageSecretResponse> Client::IssueManageSecret(
    const v1::IssueManageSecretRequest& request) const {
  return Unary(options_, *registrations_, &v1::RegistrationService::Stub::IssueManageSecret,
               request, kNotIdempotent);
}

absl::StatusOr<v1::ImportRegistrationsResponse> Client::ImportRegistrations(
    const std::vector<v1::ImportRegistrationsRequest>& rows) const {
  return Call<v1::ImportRegistrationsResponse>(
      options_, kNotIdempotent,
      [&](grpc::ClientContext& context, v1::ImportRegistrationsResponse& response) {
        std::unique_ptr<grpc::ClientWriter<v1::ImportRegistrationsRequest>> writer =
            registrations_->ImportRegistrations(&context, &response);
        for (const v1::ImportRegistrationsRequest& row : rows) {
          if (!writer->Write(row)) break;  // the stream broke: Finish() says why
        }
        writer->WritesDone();
        return writer->Finish();
      });
}

// CheckinService.

absl::StatusOr<v1::ScanResult> Client::Scan(const v1::ScanRequest& request) const {
  return Unary(options_, *checkin_, &v1::CheckinService::Stub::Scan, request,
               !request.client_scan_id().empty());
}

absl::StatusOr<v1::UploadScansResponse> Client::UploadScans(
    const v1::UploadScansRequest& request) const {
  const bool every_scan_has_id = absl::c_all_of(request.scans(), [](const v1::OfflineScan& scan) {
    return !scan.scan().client_scan_id().empty();
  });
  return Unary(options_, *checkin_, &v1::CheckinService::Stub::UploadScans, request,
               every_scan_has_id);
}

absl::StatusOr<v1::AnnulScanResponse> Client::AnnulScan(const v1::AnnulScanRequest& request) const {
  return Unary(options_, *checkin_, &v1::CheckinService::Stub::AnnulScan, request, kNotIdempotent);
}

absl::StatusOr<v1::OfflineBundle> Client::GetOfflineBundle(
    const v1::GetOfflineBundleRequest& request) const {
  return Unary(options_, *checkin_, &v1::CheckinService::Stub::GetOfflineBundle, request,
               kReadOnly);
}

absl::StatusOr<v1::SearchAttendeesResponse> Client::SearchAttendees(
    const v1::SearchAttendeesRequest& request) const {
  return Unary(options_, *checkin_, &v1::CheckinService::Stub::SearchAttendees, request, kReadOnly);
}

absl::StatusOr<v1::CheckInWalkInResponse> Client::CheckInWalkIn(
    const v1::CheckInWalkInRequest& request) const {
  return Unary(options_, *checkin_, &v1::CheckinService::Stub::CheckInWalkIn, request,
               !request.client_scan_id().empty());
}

// AttendanceService.

absl::StatusOr<v1::Attendance> Client::GetAttendance(
    const v1::GetAttendanceRequest& request) const {
  return Unary(options_, *attendance_, &v1::AttendanceService::Stub::GetAttendance, request,
               kReadOnly);
}

absl::Status Client::WatchAttendance(
    const v1::WatchAttendanceRequest& request,
    const std::function<bool(const v1::AttendanceUpdate&)>& on_update) const {
  v1::WatchAttendanceRequest resume = request;
  for (int failures = 0;;) {
    grpc::ClientContext context;
    bool stopped = false;
    absl::Status status =
        WatchAttendanceStream(context, resume, [&](const v1::AttendanceUpdate& update) {
          failures = 0;
          resume.set_resume_after_sequence(update.sequence());
          stopped = !on_update(update);
          return !stopped;
        });
    if (status.ok() || stopped) return absl::OkStatus();
    if (!absl::IsUnavailable(status) || ++failures >= options_.max_attempts) return status;
    Backoff(failures - 1);
  }
}

absl::Status Client::WatchAttendanceStream(
    grpc::ClientContext& context, const v1::WatchAttendanceRequest& request,
    const std::function<bool(const v1::AttendanceUpdate&)>& on_update) const {
  PrepareContext(options_, absl::InfiniteFuture(), context);
  std::unique_ptr<grpc::ClientReader<v1::AttendanceUpdate>> reader =
      attendance_->WatchAttendance(&context, request);
  v1::AttendanceUpdate update;
  while (reader->Read(&update)) {
    if (!on_update(update)) {
      context.TryCancel();
      while (reader->Read(&update)) {
      }
      reader->Finish();
      return absl::OkStatus();
    }
  }
  return FromGrpc(reader->Finish());
}

absl::StatusOr<std::string> Client::ExportAttendance(
    const v1::ExportAttendanceRequest& request) const {
  return Call<std::string>(options_, kReadOnly,
                           [&](grpc::ClientContext& context, std::string& csv) {
                             std::unique_ptr<grpc::ClientReader<v1::ExportAttendanceChunk>> reader =
                                 attendance_->ExportAttendance(&context, request);
                             v1::ExportAttendanceChunk chunk;
                             while (reader->Read(&chunk)) csv += chunk.csv();
                             return reader->Finish();
                           });
}

// AdminService.

absl::StatusOr<v1::CreateDeviceTokenResponse> Client::CreateDeviceToken(
    const v1::CreateDeviceTokenRequest& request) const {
  return Unary(options_, *admin_, &v1::AdminService::Stub::CreateDeviceToken, request,
               kNotIdempotent);
}

absl::StatusOr<v1::ListDeviceTokensResponse> Client::ListDeviceTokens(
    const v1::ListDeviceTokensRequest& request) const {
  return Unary(options_, *admin_, &v1::AdminService::Stub::ListDeviceTokens, request, kReadOnly);
}

absl::StatusOr<v1::DeviceToken> Client::RevokeDeviceToken(
    const v1::RevokeDeviceTokenRequest& request) const {
  return Unary(options_, *admin_, &v1::AdminService::Stub::RevokeDeviceToken, request,
               kNotIdempotent);
}

absl::StatusOr<v1::SigningKeyInfo> Client::RotateSigningKey(
    const v1::RotateSigningKeyRequest& request) const {
  return Unary(options_, *admin_, &v1::AdminService::Stub::RotateSigningKey, request,
               kNotIdempotent);
}

absl::StatusOr<v1::ListSigningKeysResponse> Client::ListSigningKeys(
    const v1::ListSigningKeysRequest& request) const {
  return Unary(options_, *admin_, &v1::AdminService::Stub::ListSigningKeys, request, kReadOnly);
}

absl::StatusOr<v1::SigningKeyInfo> Client::RevokeSigningKey(
    const v1::RevokeSigningKeyRequest& request) const {
  return Unary(options_, *admin_, &v1::AdminService::Stub::RevokeSigningKey, request,
               kNotIdempotent);
}

absl::StatusOr<v1::PurgePersonalDataResponse> Client::PurgePersonalData(
    const v1::PurgePersonalDataRequest& request) const {
  return Unary(options_, *admin_, &v1::AdminService::Stub::PurgePersonalData, request,
               kNotIdempotent);
}

absl::StatusOr<v1::ListAuditEntriesResponse> Client::ListAuditEntries(
    const v1::ListAuditEntriesRequest& request) const {
  return Unary(options_, *admin_, &v1::AdminService::Stub::ListAuditEntries, request, kReadOnly);
}

}  // namespace turnout::client
