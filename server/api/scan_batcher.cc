#include "server/api/scan_batcher.h"

#include <algorithm>

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
    std::vector<absl::StatusOr<store::ScanOutcome>> outcomes;
    const absl::Status committed = store::Database::InTransaction(conn, [&](pqxx::work& txn) {
      outcomes.clear();  // a retried transaction decides everything again
      for (const Job& job : batch)
        outcomes.push_back(store::PgScanStore::RecordScan(txn, job.input));
      return absl::OkStatus();
    });
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!committed.ok()) {
        batch[i].done(committed);
      } else {
        batch[i].done(std::move(outcomes[i]));
      }
    }
  }
}

}  // namespace turnout::api
