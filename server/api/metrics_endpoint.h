// The Prometheus scrape endpoint: plain HTTP on a port of its own, GET /metrics answers the
// registry in the text format (README: Metrics). It serves nothing else and reads no body.
#ifndef TURNOUT_SERVER_API_METRICS_ENDPOINT_H_
#define TURNOUT_SERVER_API_METRICS_ENDPOINT_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "server/util/metrics.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace turnout::api {

class MetricsEndpoint {
 public:
  // `listen` is host:port; port 0 picks a free one (see port()).
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(const std::string& listen,
                                                                const metrics::Registry* registry);
  ~MetricsEndpoint();

  int port() const { return port_; }

 private:
  MetricsEndpoint() = default;

  std::unique_ptr<httplib::Server> http_;
  std::thread serving_;
  int port_ = 0;
};

}  // namespace turnout::api

#endif  // TURNOUT_SERVER_API_METRICS_ENDPOINT_H_
