#include "server/api/server.h"

#include <fcntl.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.pb.h"
#include "server/api/request_status_interceptor.h"
#include "server/store/bundle_store.h"
#include "server/store/event_store.h"
#include "server/store/registration_store.h"
#include "server/store/report_store.h"
#include "server/store/scan_store.h"
#include "server/store/search_names.h"
#include "server/store/token_store.h"
#include "server/util/status_macros.h"

namespace turnout::api {
namespace {

// Other replicas may rotate or revoke keys; each replica re-reads them this often.
constexpr absl::Duration kKeyRefreshInterval = absl::Seconds(10);
constexpr absl::Duration kShutdownGrace = absl::Seconds(5);
// Each import buffers up to 32 MiB of rows before it commits (registration_service.cc): at most
// this many run at once, one per token, so imports hold at most 64 MiB.
constexpr int kMaxImports = 2;
constexpr int kMaxImportsPerToken = 1;
// Live streams hold two shared messages each (attendance_service.cc): cheap, but not free.
constexpr int kMaxWatches = 20000;
constexpr int kMaxWatchesPerToken = 200;
// No request of this API comes near it (the largest, an import row, is a few KiB); gRPC's default
// is 4 MiB, which any caller could make the server buffer per call.
constexpr int kMaxRequestBytes = 1 << 20;

void RegisterAllStatements() {
  static const bool done = [] {
    store::PgEventStore::RegisterStatements();
    store::PgRegistrationStore::RegisterStatements();
    store::PgScanStore::RegisterStatements();
    store::PgTokenStore::RegisterStatements();
    store::PgKeyStore::RegisterStatements();
    store::PgSearchNames::RegisterStatements();
    store::PgBundleStore::RegisterStatements();
    store::PgReportStore::RegisterStatements();
    return true;
  }();
  (void)done;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read \"", path, "\""));
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// gRPC serves grpc.health.v1.Health (EnableDefaultHealthCheckService) without a protobuf
// descriptor, and reflection describes services only from the generated pool. The descriptor comes
// from grpc-proto's health.proto, compiled in (proto/CMakeLists.txt); naming it here links it in
// and makes sure it declares the methods gRPC's own Health service serves.
absl::Status CheckHealthDescriptor() {
  const google::protobuf::ServiceDescriptor* health =
      grpc::health::v1::HealthCheckRequest::descriptor()->file()->FindServiceByName("Health");
  if (health == nullptr || health->FindMethodByName("Check") == nullptr ||
      health->FindMethodByName("Watch") == nullptr) {
    return absl::InternalError("grpc.health.v1.Health is missing from the descriptor pool");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<TurnoutServer>> TurnoutServer::Start(const ServerOptions& options) {
  std::unique_ptr<TurnoutServer> server(new TurnoutServer());
  RETURN_IF_ERROR(server->Init(options));
  return server;
}

std::string TurnoutServer::admin_token_path() const {
  return (std::filesystem::path(options_.data_dir) / "admin.token").string();
}

absl::Status TurnoutServer::Init(const ServerOptions& options) {
  options_ = options;
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create the data directory ", options.data_dir, ": ", ec.message()));
  }
  std::string connection = options.database;
  if (connection.empty()) {
    store::EmbeddedPostgresOptions pg;
    pg.data_dir = options.data_dir;
    pg.durable = options.durable;
    ASSIGN_OR_RETURN(embedded_, store::EmbeddedPostgres::Start(pg));
    connection = embedded_->ConnectionString();
  }
  ASSIGN_OR_RETURN(
      store::DataKey key,
      store::DataKey::LoadOrCreate(
          (std::filesystem::path(options.data_dir) / "secrets" / "data.key").string()));
  data_key_ = std::make_unique<store::DataKey>(key);
  RegisterAllStatements();
  ASSIGN_OR_RETURN(db_, store::Database::Open({connection, options.db_workers}));
  RETURN_IF_ERROR(RenormalizeSearchNames(connection));
  RETURN_IF_ERROR(db_->RunNow([this](pqxx::work& txn) { return keys_.Reload(txn, *data_key_); }));
  RETURN_IF_ERROR(BootstrapAdminToken());

  limiter_ = std::make_unique<RateLimiter>(options.register_rate, options.register_burst);
  deps_.db = db_.get();
  deps_.data_key = data_key_.get();
  deps_.keys = &keys_;
  deps_.auth = &auth_;
  deps_.public_limiter = limiter_.get();
  imports_ = std::make_unique<StreamSlots>(kMaxImports, kMaxImportsPerToken, "imports");
  deps_.imports = imports_.get();
  watches_ = std::make_unique<StreamSlots>(kMaxWatches, kMaxWatchesPerToken, "live streams");
  deps_.watches = watches_.get();
  StartLiveAttendance(connection);
  // Scans may occupy all but two workers, which stay free for every other call.
  scan_batcher_ = std::make_unique<ScanBatcher>(db_.get(), std::max(1, options.scan_batch),
                                                std::max(1, options.db_workers - 2));
  deps_.scans = scan_batcher_.get();
  events_ = std::make_unique<EventServiceImpl>(deps_);
  registrations_ = std::make_unique<RegistrationServiceImpl>(deps_);
  checkin_ = std::make_unique<CheckinServiceImpl>(deps_);
  attendance_ = std::make_unique<AttendanceServiceImpl>(deps_);
  admin_ = std::make_unique<AdminServiceImpl>(deps_);

  std::shared_ptr<grpc::ServerCredentials> creds = grpc::InsecureServerCredentials();
  if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
    // Both or neither: half a TLS configuration is a mistake, never a reason for plaintext.
    if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "TLS needs both --tls_cert and --tls_key; only ",
          options.tls_cert_file.empty() ? "--tls_key" : "--tls_cert",
          " is set (the server does not fall back to plaintext)"));
    }
    ASSIGN_OR_RETURN(std::string cert, ReadFile(options.tls_cert_file));
    ASSIGN_OR_RETURN(std::string private_key, ReadFile(options.tls_key_file));
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({private_key, cert});
    creds = grpc::SslServerCredentials(ssl);
  }
  RETURN_IF_ERROR(CheckHealthDescriptor());
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, creds, &port_);
  builder.SetMaxReceiveMessageSize(kMaxRequestBytes);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<RequestStatusInterceptorFactory>());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  builder.RegisterService(events_.get());
  builder.RegisterService(registrations_.get());
  builder.RegisterService(checkin_.get());
  builder.RegisterService(attendance_.get());
  builder.RegisterService(admin_.get());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    if (!options.tls_cert_file.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot serve TLS on ", options.listen, ": check that ", options.tls_key_file,
          " is the private key of the certificate in ", options.tls_cert_file,
          " (or the address is in use, or not this machine's)"));
    }
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen,
                                               " (in use, or not an address of this machine?)"));
  }
  key_refresh_ = std::thread([this] {
    while (!stop_refresh_.WaitForNotificationWithTimeout(kKeyRefreshInterval)) {
      absl::Status s =
          db_->RunNow([this](pqxx::work& txn) { return keys_.Reload(txn, *data_key_); });
      if (!s.ok()) std::cerr << "turnout-server: refreshing signing keys: " << s.message() << "\n";
    }
  });
  return absl::OkStatus();
}

// Search forms stored by older rules would not match queries normalized by the current ones: they
// are recomputed before the server answers a search (README: Configuration).
absl::Status TurnoutServer::RenormalizeSearchNames(const std::string& connection) {
  ASSIGN_OR_RETURN(std::unique_ptr<pqxx::connection> conn, store::Connect(connection));
  ASSIGN_OR_RETURN(int64_t updated, store::PgSearchNames::RenormalizeAll(*conn));
  if (updated > 0) {
    std::cerr << "turnout-server: recomputed the search form of " << updated
              << " names stored by older rules\n";
  }
  return absl::OkStatus();
}

void TurnoutServer::StartLiveAttendance(const std::string& connection) {
  notifier_ = std::make_unique<live::PgNotifier>(connection);
  live::HubOptions options;
  options.interval = options_.watch_interval;
  options.heartbeat = options_.watch_heartbeat;
  hub_ = std::make_unique<live::AttendanceHub>(
      // On the hub's publisher thread only, with a connection of its own.
      [this, connection](int64_t event_id) -> absl::StatusOr<v1::Attendance> {
        if (counts_conn_ == nullptr || !counts_conn_->is_open()) {
          counts_conn_.reset();
          ASSIGN_OR_RETURN(counts_conn_, store::Connect(connection));
        }
        v1::Attendance counts;
        RETURN_IF_ERROR(store::Database::InTransaction(
            counts_conn_.get(), [&](pqxx::work& txn) -> absl::Status {
              ASSIGN_OR_RETURN(counts, ReadAttendance(txn, event_id, absl::Now()));
              return absl::OkStatus();
            }));
        return counts;
      },
      [notifier = notifier_.get()](const std::vector<int64_t>& event_ids) {
        notifier->Notify(event_ids);
      },
      options);
  notifier_->Start(hub_.get());
  deps_.hub = hub_.get();
  deps_.on_counts_changed = [hub = hub_.get()](int64_t event_id) { hub->MarkChanged(event_id); };
}

absl::Status TurnoutServer::BootstrapAdminToken() {
  return db_->RunNow([this](pqxx::work& txn) -> absl::Status {
    ASSIGN_OR_RETURN(bool any, store::PgTokenStore::AnyAdmin(txn));
    if (any) return absl::OkStatus();
    ASSIGN_OR_RETURN(store::CreatedToken created,
                     store::PgTokenStore::Create(txn, static_cast<int>(Role::kAdmin), std::nullopt,
                                                 "first admin"));
    const std::string path = admin_token_path();
    // 0600 from the first byte: the token is the keys to everything.
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const std::string line = created.secret + "\n";
    const bool written =
        fd >= 0 && write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    if (fd >= 0) {
      fchmod(fd, 0600);
      close(fd);
    }
    if (!written) return absl::FailedPreconditionError(absl::StrCat("cannot write ", path));
    std::cerr << "turnout-server: wrote the first ADMIN token to " << path << "\n";
    return absl::OkStatus();
  });
}

void TurnoutServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  if (server_)
    server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoSeconds(kShutdownGrace));
  if (key_refresh_.joinable()) {
    stop_refresh_.Notify();
    key_refresh_.join();
  }
  // Every stream has ended; the listener stops feeding the hub before the hub goes.
  if (notifier_) notifier_->Stop();
  hub_.reset();
  notifier_.reset();
  counts_conn_.reset();
  db_.reset();  // lets queued database work finish first
  if (embedded_) (void)embedded_->Stop();
}

TurnoutServer::~TurnoutServer() { Shutdown(); }

}  // namespace turnout::api
