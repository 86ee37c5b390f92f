#include "server/api/transaction_batcher.h"

#include <cstddef>
#include <optional>

namespace turnout::api {

void TransactionBatcher::Submit(Body body, Done done) {
  {
    absl::MutexLock lock(&mu_);
    queue_.push_back(Job{std::move(body), std::move(done)});
    if (runners_ >= max_runners_) return;  // a busy runner takes it with its next batch
    ++runners_;
  }
  if (!db_->Submit([this](pqxx::connection* conn) { RunBatches(conn); })) {
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

void TransactionBatcher::RunBatches(pqxx::connection* conn) {
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
    if (on_batch_) on_batch_(batch.size());
    CommitBatch(conn, batch);
  }
}

void TransactionBatcher::CommitBatch(pqxx::connection* conn, std::vector<Job>& batch) {
  std::vector<absl::Status> answers;
  while (!batch.empty()) {
    // The job whose statements threw, if one did: it fails alone, and the rest run again without
    // it in a fresh transaction (the failure rolled back all of them).
    std::optional<size_t> failed;
    const absl::Status committed = store::Database::InTransaction(conn, [&](pqxx::work& txn) {
      answers.clear();  // a retried transaction runs every body again
      failed.reset();
      txn.exec0("SAVEPOINT batched");
      for (size_t i = 0; i < batch.size(); ++i) {
        absl::Status answer;
        try {
          answer = batch[i].body(txn);
        } catch (const pqxx::transaction_rollback&) {
          throw;  // a deadlock or serialization failure: the whole batch is retried
        } catch (const pqxx::broken_connection&) {
          throw;  // no body's fault
        } catch (const std::exception&) {
          failed = i;  // this body's own SQL or data
          throw;
        }
        // An answered error keeps nothing of what its body wrote; the next body starts afresh.
        txn.exec0(answer.ok() ? "RELEASE SAVEPOINT batched; SAVEPOINT batched"
                              : "ROLLBACK TO SAVEPOINT batched");
        answers.push_back(std::move(answer));
      }
      return absl::OkStatus();
    });
    if (committed.ok()) {
      for (size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move(answers[i]));
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
