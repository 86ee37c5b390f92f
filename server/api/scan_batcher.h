// Commits concurrent scans together: under load, the scans waiting for the database are decided
// one after another in one transaction, so one durable commit (one WAL flush) serves many scans.
// Alone, a scan still runs at once in a transaction of its own. A batch is read in a few
// statements and written in one (PgScanStore::RecordScans), not several statements per scan.
//
// Each scan is answered only after the transaction holding it has committed. A scan whose own
// statements fail (a constraint, a data error) fails alone: the transaction is rolled back and the
// others run again without it, so one poisoned scan never takes the scans batched with it down.
// A transaction that fails for everyone (the connection lost, conflicts retried in vain) fails
// every scan in it with the same status; doors retry with the same client_scan_id, which never
// counts twice.
#ifndef TURNOUT_SERVER_API_SCAN_BATCHER_H_
#define TURNOUT_SERVER_API_SCAN_BATCHER_H_

#include <deque>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/store/pg.h"
#include "server/store/scan_store.h"

namespace turnout::api {

struct ServerMetrics;

class ScanBatcher {
 public:
  using Done = std::function<void(absl::StatusOr<store::ScanOutcome>)>;

  // At most `max_batch` scans per transaction, and at most `max_runners` database workers busy
  // with scans (the others stay free for every other call).
  // `metrics` (optional) receives the batch sizes and the waits for a worker.
  ScanBatcher(store::Database* db, int max_batch, int max_runners,
              ServerMetrics* metrics = nullptr)
      : db_(db), max_batch_(max_batch), max_runners_(max_runners), metrics_(metrics) {}

  // Decides and records `input`; calls `done` once, from a database worker, after the commit.
  void Submit(store::ScanInput input, Done done);

 private:
  struct Job {
    store::ScanInput input;
    Done done;
  };
  void RunBatches(pqxx::connection* conn);
  // Records `batch` in one transaction, in its order, with the batch's statements
  // (PgScanStore::RecordScans), and answers every job; when those fail for a scan's own reason,
  // CommitOneByOne.
  void CommitBatch(pqxx::connection* conn, std::vector<Job>& batch);
  // The same, one RecordScan per scan: a job whose scan throws is answered with the error and the
  // rest are committed without it.
  void CommitOneByOne(pqxx::connection* conn, std::vector<Job>& batch);

  store::Database* const db_;
  const int max_batch_;
  const int max_runners_;
  ServerMetrics* const metrics_;
  absl::Mutex mu_;
  std::deque<Job> queue_ ABSL_GUARDED_BY(mu_);
  int runners_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace turnout::api

#endif  // TURNOUT_SERVER_API_SCAN_BATCHER_H_
