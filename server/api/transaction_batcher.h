// Commits concurrent calls' database work together: under load, the bodies waiting for the
// database run one after another in one transaction, so one durable commit (one WAL flush) serves
// many calls. Alone, a body still runs at once in a transaction of its own. Registrations go
// through one (RegisterBatcher in server.cc); scans have their own (scan_batcher.h).
//
// Each body runs inside a savepoint. A body that answers an error (a full event, a bad choice)
// is rolled back to its savepoint and fails alone; the others commit. A body that throws (its own
// SQL or data) fails alone too: the transaction is rolled back and the rest run again without it.
// A transaction that fails for everyone (the connection lost, conflicts retried in vain) fails
// every body in it with the same status. A body may run more than once (a retried transaction);
// `done` is called once, after the commit, with the body's last answer.
#ifndef TURNOUT_SERVER_API_TRANSACTION_BATCHER_H_
#define TURNOUT_SERVER_API_TRANSACTION_BATCHER_H_

#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "server/store/pg.h"

namespace turnout::api {

class TransactionBatcher {
 public:
  using Body = std::function<absl::Status(pqxx::work&)>;
  using Done = std::function<void(absl::Status)>;

  // At most `max_batch` bodies per transaction, and at most `max_runners` database workers busy
  // with them (the others stay free for every other call). `on_batch` (optional) is told each
  // batch's size.
  TransactionBatcher(store::Database* db, int max_batch, int max_runners,
                     std::function<void(size_t)> on_batch = nullptr)
      : db_(db), max_batch_(max_batch), max_runners_(max_runners), on_batch_(std::move(on_batch)) {}

  // Runs `body` in a batch; calls `done` once, from a database worker, after the commit (or with
  // the error that kept it out of one).
  void Submit(Body body, Done done);

 private:
  struct Job {
    Body body;
    Done done;
  };
  void RunBatches(pqxx::connection* conn);
  void CommitBatch(pqxx::connection* conn, std::vector<Job>& batch);

  store::Database* const db_;
  const int max_batch_;
  const int max_runners_;
  const std::function<void(size_t)> on_batch_;
  absl::Mutex mu_;
  std::deque<Job> queue_ ABSL_GUARDED_BY(mu_);
  int runners_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace turnout::api

#endif  // TURNOUT_SERVER_API_TRANSACTION_BATCHER_H_
