// Live attendance across replicas: PostgreSQL LISTEN/NOTIFY on one channel.
//
// Each replica keeps one listening connection; a notification from another replica marks the
// event dirty in this replica's hub, which then reads the counts itself. Notify sends one
// notification per event, and the hub calls it at most once per min_gap (never once per scan).
// When the listening connection drops
// (PostgreSQL restarted, say) the notifier reconnects with backoff and marks every event dirty, so
// subscribers get fresh counts for whatever they missed.
#ifndef TURNOUT_SERVER_LIVE_PG_NOTIFIER_H_
#define TURNOUT_SERVER_LIVE_PG_NOTIFIER_H_

#include <cstdint>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "server/live/attendance_hub.h"

namespace turnout::live {

class PgNotifier {
 public:
  explicit PgNotifier(std::string connection_string);
  ~PgNotifier();  // stops listening

  // Starts listening in the background (the database may be away), feeding `hub`.
  void Start(AttendanceHub* hub);
  // Stops listening: `hub` is not called again.
  void Stop();

  // Tells every other replica that these events' counts changed. Best effort: a failure is
  // logged and the receivers catch up on their next reconnect.
  void Notify(const std::vector<int64_t>& event_ids);

  // Times the listening connection was (re)established; for tests and metrics.
  int connects() const;

 private:
  void Listen();

  const std::string connection_string_;
  AttendanceHub* hub_ = nullptr;
  // Identifies this replica's notifications, which it ignores.
  const std::string origin_;
  absl::Notification stop_;
  std::thread listener_;
  mutable absl::Mutex mu_;
  std::unique_ptr<pqxx::connection> sender_ ABSL_GUARDED_BY(mu_);
  int connects_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace turnout::live

#endif  // TURNOUT_SERVER_LIVE_PG_NOTIFIER_H_
