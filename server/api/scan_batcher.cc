#include "server/api/scan_batcher.h"

#include <algorithm>
#include <cstddef>
#include <optional>

#include "server/api/server_metrics.h"

namespace turnout::api {

void ScanBatcher::Submit(store::ScanInput input, Done done) {
  {
    absl::MutexLock lock(&mu_);
    queue_.push_back(Job{std::move(input), std::move(done)});
    if (runners_ >= max_runners_) return;  // a busy runner takes it with its next batch
    ++runners_;
  }
  const absl::Time queued_at = absl::Now();
  if (!db_->Submit([this, queued_at](pqxx::connection* conn) {
        if (metrics_ != nullptr) {
          metrics_->db_wait.Observe(absl::ToDoubleSeconds(absl::Now() - queued_at));
        }
        RunBatches(conn);
      })) {
    // The pool refused (full or stopping): fail what this runner would have taken.
    std::deque<Job> refused;
    {
      absl::MutexLock lock(&mu_);
      --runners_;
      if (runners_ == 0) refused.swap(queue_);
    }
    for (Job& job : refused) {
      job.done(absl::UnavailableError("the server is at capacity; retry in a moment"));
    }
  }
}

void ScanBatcher::RunBatches(pqxx::connection* conn) {
  for (;;) {
    std::vector<Job> batch;
    {
      absl::MutexLock lock(&mu_);
      if (queue_.empty()) {
        --runners_;
        return;
      }
      while (!queue_.empty() && static_cast<int>(batch.size()) < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (metrics_ != nullptr) metrics_->scan_batch.Observe(static_cast<double>(batch.size()));
    // One order for every batch, so that two batches lock the same tickets' rows in the same order;
    // stable, so that scans of one ticket keep their arrival order.
    std::stable_sort(batch.begin(), batch.end(), [](const Job& a, const Job& b) {
      return std::tie(a.input.code, a.input.registration_id) <
             std::tie(b.input.code, b.input.registration_id);
    });
    CommitBatch(conn, batch);
  }
}

void ScanBatcher::CommitBatch(pqxx::connection* conn, std::vector<Job>& batch) {
  std::vector<const store::ScanInput*> inputs;
  for (const Job& job : batch) inputs.push_back(&job.input);
  std::vector<absl::StatusOr<store::ScanOutcome>> outcomes;
  // A batched statement failed for a reason of its own, not the connection's or a conflict's:
  // find the scan at fault by recording them one by one.
  bool one_by_one = false;
  const absl::Status committed = store::Database::InTransaction(conn, [&](pqxx::work& txn) {
    one_by_one = false;
    try {
      outcomes = store::PgScanStore::RecordScans(txn, inputs);
    } catch (const pqxx::transaction_rollback&) {
      throw;  // a deadlock or serialization failure: the whole batch is retried
    } catch (const pqxx::broken_connection&) {
      throw;  // no scan's fault
    } catch (const std::exception&) {
      one_by_one = true;
      throw;
    }
    return absl::OkStatus();
  });
  if (committed.ok()) {
    for (size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move(outcomes[i]));
    return;
  }
  if (!one_by_one) {
    for (Job& job : batch) job.done(committed);
    return;
  }
  CommitOneByOne(conn, batch);
}

void ScanBatcher::CommitOneByOne(pqxx::connection* conn, std::vector<Job>& batch) {
  std::vector<absl::StatusOr<store::ScanOutcome>> outcomes;
  while (!batch.empty()) {
    // The job whose statements failed, if one did: it fails alone, and the rest run again
    // without it in a fresh transaction (the failed one rolled back all of them).
    std::optional<size_t> failed;
    const absl::Status committed = store::Database::InTransaction(conn, [&](pqxx::work& txn) {
      outcomes.clear();  // a retried transaction decides everything again
      failed.reset();
      for (size_t i = 0; i < batch.size(); ++i) {
        try {
          outcomes.push_back(store::PgScanStore::RecordScan(txn, batch[i].input));
        } catch (const pqxx::transaction_rollback&) {
          throw;  // a deadlock or serialization failure: the whole batch is retried
        } catch (const pqxx::broken_connection&) {
          throw;  // no scan's fault
        } catch (const std::exception&) {
          failed = i;  // this scan's own SQL or data
          throw;
        }
      }
      return absl::OkStatus();
    });
    if (committed.ok()) {
      for (size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move(outcomes[i]));
      return;
    }
    if (!failed.has_value()) {
      for (Job& job : batch) job.done(committed);
      return;
    }
    batch[*failed].done(committed);
    batch.erase(batch.begin() + static_cast<std::ptrdiff_t>(*failed));
  }
}

}  // namespace turnout::api
