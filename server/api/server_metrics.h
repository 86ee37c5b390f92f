// What turnout-server exports on its metrics endpoint (README: Metrics). Every label value comes
// from a fixed set: a method name, a status code or scan status, a checkpoint kind, a limit's name.
// No event, name, code, token or address is ever a label.
#ifndef TURNOUT_SERVER_API_SERVER_METRICS_H_
#define TURNOUT_SERVER_API_SERVER_METRICS_H_

#include "server/util/metrics.h"

namespace turnout::api {

struct ServerMetrics {
  metrics::Registry registry;

  // Every turnout.v1 call, by method ("Scan") and gRPC status code ("OK"); its latency by method
  // (for a stream, the whole stream).
  metrics::Counter& rpcs = registry.AddCounter(
      "turnout_rpcs_total", "Calls finished, by method and gRPC status code.", {"method", "code"});
  metrics::Histogram& rpc_seconds = registry.AddHistogram(
      "turnout_rpc_duration_seconds",
      "Time from a call's arrival to its status, by method (Scan and Register are the door's and "
      "the registration form's latency).",
      {"method"}, metrics::LatencyBounds());

  // Scans decided for the first time (a replay of a client_scan_id is counted apart).
  // source: online (Scan) or offline (UploadScans); checkpoint_kind: entrance or session.
  metrics::Counter& scans =
      registry.AddCounter("turnout_scans_total", "Scans decided, by source, checkpoint kind and status.",
                          {"source", "checkpoint_kind", "status"});
  metrics::Counter& scan_replays = registry.AddCounter(
      "turnout_scan_replays_total", "Scans sent again with the same client_scan_id (counted once).",
      {"source"});
  metrics::Histogram& scan_batch = registry.AddHistogram(
      "turnout_scan_batch_size", "Online scans committed together in one transaction.", {},
      {1, 2, 4, 8, 16, 32, 64});
  metrics::Histogram& register_batch = registry.AddHistogram(
      "turnout_register_batch_size", "Registrations committed together in one transaction.", {},
      {1, 2, 4, 8, 16, 32, 64});

  // Offline uploads: calls, and each uploaded scan's outcome. `overruled`: the server decided
  // otherwise than the door did offline (a conflict, shown in the attendance counts).
  metrics::Counter& uploads =
      registry.AddCounter("turnout_uploads_total", "UploadScans calls committed.");
  metrics::Counter& uploaded_scans = registry.AddCounter(
      "turnout_uploaded_scans_total",
      "Uploaded offline scans by outcome: agreed, overruled (a conflict), replayed, refused.",
      {"outcome"});

  // Registrations stored, by source (online, import) and whether the request_id was new.
  metrics::Counter& registrations = registry.AddCounter(
      "turnout_registrations_total", "Registrations stored, by source and outcome (created, existing).",
      {"source", "outcome"});

  // Time a unary call or a scan batch waited for a free database worker.
  metrics::Histogram& db_wait = registry.AddHistogram(
      "turnout_db_pool_wait_seconds", "Time work waited for a free database worker.", {},
      metrics::LatencyBounds());

  // Calls refused by a limit (README: Limits): register_rate, public_rate, imports, exports,
  // live_streams.
  metrics::Counter& limited = registry.AddCounter(
      "turnout_limit_rejections_total", "Calls refused with RESOURCE_EXHAUSTED, by limit.", {"limit"});
};

}  // namespace turnout::api

#endif  // TURNOUT_SERVER_API_SERVER_METRICS_H_
