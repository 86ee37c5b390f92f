// TurnoutServer wires the pieces: the database (embedded or external), the data key, the signing
// keys, the first ADMIN token, and the gRPC services with health checking and reflection.
#ifndef TURNOUT_SERVER_API_SERVER_H_
#define TURNOUT_SERVER_API_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "server/api/auth.h"
#include "server/api/call.h"
#include "server/api/metrics_endpoint.h"
#include "server/api/rate_limiter.h"
#include "server/api/retention.h"
#include "server/api/scan_batcher.h"
#include "server/api/transaction_batcher.h"
#include "server/api/services.h"
#include "server/api/server_metrics.h"
#include "server/api/stream_slots.h"
#include "server/embedded_pg/embedded_postgres.h"
#include "server/live/attendance_hub.h"
#include "server/live/pg_notifier.h"
#include "server/util/clock.h"

namespace turnout::api {

struct ServerOptions {
  // host:port; port 0 picks a free one (see TurnoutServer::port()).
  std::string listen = "127.0.0.1:7443";
  // Holds the embedded cluster, the data key and the first ADMIN token.
  std::string data_dir = "./data";
  // libpq URI or key/value string of an existing PostgreSQL; empty runs the embedded one.
  std::string database;
  int db_workers = 16;
  // PEM files; with both set the server speaks TLS, otherwise plaintext.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Embedded cluster durability (tests turn it off).
  bool durable = true;
  // Public registrations per second per address, and the burst allowed.
  double register_rate = 2.0;
  double register_burst = 30.0;
  // Every anonymous call (public reads, self-service, Register) per second per address, and the
  // burst allowed: a venue's network loading the event page, not a scraper.
  double anonymous_rate = 20.0;
  double anonymous_burst = 200.0;
  // host:port of the Prometheus endpoint (GET /metrics); empty serves none, port 0 picks a free
  // one (see TurnoutServer::metrics_port()).
  std::string metrics_listen;
  // A connection that has not finished its TLS/HTTP/2 handshake by then is closed, so that sockets
  // opened and never written on cannot pile up.
  absl::Duration handshake_timeout = absl::Seconds(10);
  // Scans committed together at most; 1 gives every scan a transaction of its own.
  int scan_batch = 32;
  // Register calls committed together at most; 1 gives every registration a transaction of its own.
  int register_batch = 32;
  // WatchAttendance: the least time between two updates of one event (a change after a quieter
  // spell goes out at once; live::HubOptions::min_gap), and a heartbeat this often when nothing
  // changes.
  absl::Duration watch_interval = absl::Milliseconds(25);
  absl::Duration watch_heartbeat = absl::Seconds(15);
  // Personal data of an event is purged automatically this many days after its end; 0 never.
  int retention_days = 30;
  // How often the automatic purge looks for events due (it also looks at start).
  absl::Duration retention_check_interval = absl::Hours(1);
  // Sent as the `turnout-replica` header of each WatchAttendance stream, so a client (or a test)
  // behind a load balancer knows which replica serves it. Empty: the listen address, or with port
  // 0 the host name and process id.
  std::string replica_name;
  // The clock of every rule that depends on time (util/clock.h); tests pass a util::FakeClock.
  // Must outlive the server.
  const util::Clock* clock = util::Clock::Real();
};

class TurnoutServer {
 public:
  static absl::StatusOr<std::unique_ptr<TurnoutServer>> Start(const ServerOptions& options);
  ~TurnoutServer();

  int port() const { return port_; }
  // The metrics endpoint's port, 0 when there is none.
  int metrics_port() const { return metrics_endpoint_ ? metrics_endpoint_->port() : 0; }
  const ServerMetrics& metrics() const { return metrics_; }
  // Where the first start wrote the ADMIN token.
  std::string admin_token_path() const;
  // Stops accepting calls, lets running ones finish (up to a few seconds), then stops the database.
  void Shutdown();

 private:
  TurnoutServer() = default;
  absl::Status Init(const ServerOptions& options);
  // The hub behind WatchAttendance and its LISTEN/NOTIFY bridge to the other replicas.
  void StartLiveAttendance(const std::string& connection);
  // Health follows whether the database is reachable.
  void FollowDatabaseInHealth();
  absl::Status BootstrapAdminToken();
  absl::Status RenormalizeSearchNames(const std::string& connection);
  // The gauges read at scrape time (streams, subscribers, the database pool).
  void AddGauges();

  ServerOptions options_;
  std::unique_ptr<store::EmbeddedPostgres> embedded_;
  std::unique_ptr<store::DataKey> data_key_;
  std::unique_ptr<store::Database> db_;
  store::TicketKeys keys_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<RateLimiter> limiter_;
  std::unique_ptr<StreamSlots> imports_;
  std::unique_ptr<StreamSlots> watches_;
  std::unique_ptr<StreamSlots> exports_;
  std::unique_ptr<RateLimiter> anonymous_limiter_;
  ServerMetrics metrics_;
  std::unique_ptr<MetricsEndpoint> metrics_endpoint_;
  // The hub outlives the gRPC server (its streams unsubscribe as they end); the notifier feeds it.
  std::unique_ptr<live::AttendanceHub> hub_;
  std::unique_ptr<live::PgNotifier> notifier_;
  // The hub's own connection, used from its publisher thread only.
  std::unique_ptr<pqxx::connection> counts_conn_;
  std::unique_ptr<ScanBatcher> scan_batcher_;
  std::unique_ptr<TransactionBatcher> register_batcher_;
  std::unique_ptr<RetentionTask> retention_;
  ServiceDeps deps_;
  std::unique_ptr<EventServiceImpl> events_;
  std::unique_ptr<RegistrationServiceImpl> registrations_;
  std::unique_ptr<CheckinServiceImpl> checkin_;
  std::unique_ptr<AttendanceServiceImpl> attendance_;
  std::unique_ptr<AdminServiceImpl> admin_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  absl::Notification stop_refresh_;
  std::thread key_refresh_;
  bool shut_down_ = false;
};

}  // namespace turnout::api

#endif  // TURNOUT_SERVER_API_SERVER_H_
