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

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/api/names.h"
#include "grpc/health/v1/health.pb.h"
#include "server/api/request_status_interceptor.h"
#include "server/store/audit_store.h"
#include "server/store/bundle_store.h"
#include "server/store/event_store.h"
#include "server/store/purge_store.h"
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
// An export holds one chunk, but reads a page from the database per chunk.
constexpr int kMaxExports = 4;
constexpr int kMaxExportsPerToken = 2;
// An open connection with no call on it is closed after this long (clients reconnect by
// themselves); keepalive pings find peers that vanished.
constexpr absl::Duration kMaxConnectionIdle = absl::Minutes(10);
constexpr absl::Duration kKeepaliveTime = absl::Minutes(2);
constexpr absl::Duration kKeepaliveTimeout = absl::Seconds(20);
// No request of this API comes near it (the largest, an import row, is a few KiB); gRPC's default
// is 4 MiB, which any caller could make the server buffer per call.
constexpr int kMaxRequestBytes = 1 << 20;

std::string ReplicaName(const ServerOptions& options) {
  if (!options.replica_name.empty()) return options.replica_name;
  if (!absl::EndsWith(options.listen, ":0")) return options.listen;
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return absl::StrCat(host, " pid ", getpid());
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
  store::Database::Options db_options;
  db_options.connection_string = connection;
  db_options.workers = options.db_workers;
  ASSIGN_OR_RETURN(db_, store::Database::Open(db_options));
  RETURN_IF_ERROR(RenormalizeSearchNames(connection));
  RETURN_IF_ERROR(db_->RunNow([this](pqxx::work& txn) { return keys_.Reload(txn, *data_key_, options_.clock->Now()); }));
  RETURN_IF_ERROR(BootstrapAdminToken());

  limiter_ = std::make_unique<RateLimiter>(options.register_rate, options.register_burst,
                                           "register_rate", "registrations");
  anonymous_limiter_ = std::make_unique<RateLimiter>(options.anonymous_rate, options.anonymous_burst,
                                                     "public_rate", "calls without a token");
  deps_.anonymous_limiter = anonymous_limiter_.get();
  deps_.clock = options.clock;
  deps_.metrics = &metrics_;
  deps_.db = db_.get();
  deps_.data_key = data_key_.get();
  deps_.keys = &keys_;
  auth_ = std::make_unique<Authenticator>(options.clock);
  deps_.auth = auth_.get();
  deps_.public_limiter = limiter_.get();
  imports_ = std::make_unique<StreamSlots>(kMaxImports, kMaxImportsPerToken, "imports", "imports");
  deps_.imports = imports_.get();
  watches_ = std::make_unique<StreamSlots>(kMaxWatches, kMaxWatchesPerToken, "live_streams",
                                           "live streams");
  deps_.watches = watches_.get();
  exports_ = std::make_unique<StreamSlots>(kMaxExports, kMaxExportsPerToken, "exports", "exports");
  deps_.exports = exports_.get();
  deps_.replica_name = ReplicaName(options);
  StartLiveAttendance(connection);
  // Scans may occupy all but two workers, which stay free for every other call.
  scan_batcher_ = std::make_unique<ScanBatcher>(db_.get(), std::max(1, options.scan_batch),
                                                std::max(1, options.db_workers - 2), &metrics_);
  deps_.scans = scan_batcher_.get();
  // Registrations of one event queue behind its row (its counters): one runner commits them in
  // batches, and the workers stay free for everything else.
  register_batcher_ = std::make_unique<TransactionBatcher>(
      db_.get(), std::max(1, options.register_batch), 1,
      [this](size_t n) { metrics_.register_batch.Observe(static_cast<double>(n)); });
  deps_.registrations = register_batcher_.get();
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
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
                             static_cast<int>(absl::ToInt64Milliseconds(options.handshake_timeout)));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                             static_cast<int>(absl::ToInt64Milliseconds(kMaxConnectionIdle)));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS,
                             static_cast<int>(absl::ToInt64Milliseconds(kKeepaliveTime)));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                             static_cast<int>(absl::ToInt64Milliseconds(kKeepaliveTimeout)));
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<RequestStatusInterceptorFactory>(&metrics_, &std::cerr,
                                                                      options.clock));
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
  FollowDatabaseInHealth();
  AddGauges();
  if (!options.metrics_listen.empty()) {
    ASSIGN_OR_RETURN(metrics_endpoint_,
                     MetricsEndpoint::Start(options.metrics_listen, &metrics_.registry));
  }
  if (options.retention_days > 0) {
    RetentionTask::Options retention;
    retention.connection = connection;
    retention.retention = absl::Hours(24) * options.retention_days;
    retention.interval = options.retention_check_interval;
    retention.clock = options.clock;
    retention_ = std::make_unique<RetentionTask>(retention);
  }
  key_refresh_ = std::thread([this] {
    while (!stop_refresh_.WaitForNotificationWithTimeout(kKeyRefreshInterval)) {
      absl::Status s =
          db_->RunNow([this](pqxx::work& txn) { return keys_.Reload(txn, *data_key_, options_.clock->Now()); });
      if (!s.ok()) std::cerr << "turnout-server: refreshing signing keys: " << s.message() << "\n";
    }
  });
  return absl::OkStatus();
}

// Health answers NOT_SERVING, overall and for every service, while the database is unreachable,
// so that load balancers send calls elsewhere; SERVING again once it is back (docs/design.md,
// "Recovery").
void TurnoutServer::FollowDatabaseInHealth() {
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (health == nullptr) return;
  for (const char* service :
       {v1::EventService::service_full_name(), v1::RegistrationService::service_full_name(),
        v1::CheckinService::service_full_name(), v1::AttendanceService::service_full_name(),
        v1::AdminService::service_full_name()}) {
    health->SetServingStatus(service, true);
  }
  // SetServingStatus(bool) sets the overall status ("") and every service's.
  db_->OnReachabilityChange([health](bool reachable) { health->SetServingStatus(reachable); });
}

void TurnoutServer::AddGauges() {
  metrics::Registry& r = metrics_.registry;
  r.AddGauge("turnout_watch_subscribers", "WatchAttendance streams subscribed to live counts.",
             [hub = hub_.get()] { return hub->subscribers(); });
  r.AddGauge("turnout_import_streams", "ImportRegistrations streams holding a slot.",
             [slots = imports_.get()] { return slots->in_use(); });
  r.AddGauge("turnout_export_streams", "ExportAttendance streams holding a slot.",
             [slots = exports_.get()] { return slots->in_use(); });
  r.AddGauge("turnout_live_streams", "WatchAttendance streams holding a slot.",
             [slots = watches_.get()] { return slots->in_use(); });
  store::Database* db = db_.get();
  r.AddGauge("turnout_db_reachable", "1 while the database is reachable, 0 during an outage.",
             [db] { return db->connection_stats().reachable ? 1 : 0; });
  r.AddCounterReader("turnout_db_connection_attempts_total",
                     "Database connections tried by the pool (workers and reconnector).",
                     [db] { return static_cast<double>(db->connection_stats().attempts); });
  r.AddCounterReader("turnout_db_connection_failures_total",
                     "Database connections tried by the pool that failed.",
                     [db] { return static_cast<double>(db->connection_stats().failures); });
  r.AddCounterReader("turnout_db_reconnects_total",
                     "Times the database was reached again after an outage.",
                     [db] { return static_cast<double>(db->connection_stats().reconnects); });
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
  options.min_gap = options_.watch_interval;
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
              ASSIGN_OR_RETURN(counts, ReadAttendance(txn, event_id, options_.clock->Now()));
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
                     store::PgTokenStore::Create(txn, Role::kAdmin, std::nullopt,
                                                 "first admin"));
    store::AuditRecord entry;  // by the server itself
    entry.action = v1::AuditEntry::TOKEN_CREATED;
    entry.target = TokenName(created.token.id);
    entry.detail = "ADMIN, the first";
    store::PgAuditStore::Record(txn, entry);
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
  metrics_endpoint_.reset();  // its gauges read the hub and the slots
  if (server_)
    server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoSeconds(kShutdownGrace));
  if (key_refresh_.joinable()) {
    stop_refresh_.Notify();
    key_refresh_.join();
  }
  retention_.reset();  // waits for a pass in progress, before the database goes
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
