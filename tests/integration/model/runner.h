// The randomized model test's runner: one fresh event on the real server, driven through gRPC,
// beside its reference model (reference_model.h). Apply() performs an operation on both and
// compares them: the server's answer, the registrations and their breakout choices when a waitlist
// may have moved, and the counts of every checkpoint.
//
//   Runner runner(server, origin);  // a new event of `server`, doors open at `origin`
//   StepOutcome out = runner.Apply(op);
//   if (out.mismatch) std::cerr << op.ToString() << " -> " << out.answer << ": "
//                               << out.mismatch->detail;
//
// The model hears what the server decided only where no rule decides it: the ticket codes and the
// ids of signing keys. Statuses, waitlists, presence and counts are its own.
#ifndef TURNOUT_TESTS_INTEGRATION_MODEL_RUNNER_H_
#define TURNOUT_TESTS_INTEGRATION_MODEL_RUNNER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "tests/integration/model/operation.h"
#include "tests/integration/model/reference_model.h"
#include "tests/support/test_server.h"

namespace turnout::testing::model {

// The event every run creates, doors open at `origin`: small capacities (5 people, a plenary of 2,
// breakouts of 2, 1 and 2), so that waitlists and a full room come within a few registrations.
Program TheProgram(absl::Time origin);

struct Mismatch {
  std::string check;   // what disagreed: "status ...", "counts", "registration", "rpc", ...
  std::string detail;  // the server against the model, for people
};

struct StepOutcome {
  bool skipped = false;  // the step names a registration or scan this sequence does not have
  std::string answer;    // what the server answered, e.g. "ADMITTED"
  std::optional<Mismatch> mismatch;
};

class Runner {
 public:
  // Creates the event, its sessions, two door tokens, and a ticket of another event.
  Runner(TestServer& server, absl::Time origin);
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Empty when the setup worked; else what failed.
  const std::string& setup_error() const { return setup_error_; }
  const Model& model() const { return model_; }

  // Applies `op` to the server and the model and compares them. Nothing is compared after a
  // skipped step, and nothing more after a mismatch.
  StepOutcome Apply(const Operation& op);

  // How often each situation the test means to reach was reached, e.g. "scan SESSION_FULL" or
  // "waitlisted choice" (per step): a generator that never gets there tests nothing.
  const std::map<std::string, int>& seen() const { return seen_; }

 private:
  // What the test sent for a scan, to send it again or annul it.
  struct SentScan {
    v1::ScanRequest request;
    std::string name;  // "events/{event}/scans/{scan}"
  };

  void SetUp();
  bool Check(const std::string& what, const grpc::Status& status);
  StepOutcome ApplyToBoth(const Operation& op);
  StepOutcome Register(const Operation& op);
  StepOutcome Cancel(const Operation& op);
  StepOutcome Reissue(const Operation& op);
  StepOutcome GetTicket(const Operation& op);
  StepOutcome ChooseSessions(const Operation& op);
  StepOutcome Scan(const Operation& op);
  StepOutcome Resend(const Operation& op);
  StepOutcome Annul(const Operation& op);
  StepOutcome SetCapacity(const Operation& op);
  StepOutcome MoveEvent(const Operation& op);
  StepOutcome SetPublished(const Operation& op);
  StepOutcome RotateKey();
  std::optional<Mismatch> CompareRegistrations();
  // "CONFIRMED, B1 confirmed, B3 waitlisted", as the server has it.
  std::string Describe(const v1::Registration& r) const;
  std::optional<Mismatch> CompareCounts();
  void Tally(const Operation& op, const StepOutcome& out);

  TestServer& server_;
  Model model_;
  std::string setup_error_;
  v1::Event event_;
  std::map<Place, std::string> sessions_;     // "events/{e}/sessions/{s}"
  std::map<Place, std::string> checkpoints_;  // "events/{e}/checkpoints/{c}"
  std::string doors_[3];                      // DOOR tokens of devices 1 and 2
  std::string other_code_;                    // a ticket of another event
  uint32_t other_key_ = 0;
  std::string garbage_code_;                  // that ticket, tampered with
  std::map<int, std::string> registrations_;  // label -> "events/{e}/registrations/{r}"
  std::map<int, SentScan> sent_;              // scan label -> what was sent
  std::map<std::string, int> seen_;
};

}  // namespace turnout::testing::model

#endif  // TURNOUT_TESTS_INTEGRATION_MODEL_RUNNER_H_
