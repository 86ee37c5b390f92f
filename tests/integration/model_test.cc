// The randomized model test: random sequences of registrations, ticket changes, capacity changes,
// event moves, the event taken back to DRAFT and published again, key rotations and door scans,
// run against the real server through gRPC and, after every step, compared with a reference model
// (model/reference_model.h): the status of every scan and the registered / checked_in / inside /
// capacity counts of every checkpoint (AttendanceService.GetAttendance).
//
// The model follows README.md ("The scanning rules"), made precise where the rules meet in time:
//   - an exit of a genuine ticket of this event is EXIT_RECORDED right after the INVALID check,
//     whatever became of the registration or the code (canceled, reissued, key revoked);
//   - check-in windows follow the event's current times: moving an event keeps its tickets valid;
//   - an event that is not published (a DRAFT) has no window: every entry is refused;
//   - a ticket's scans at a checkpoint take effect in canonical order (scan_time, then arrival): a
//     scan that arrives late re-decides the later ones, and so does an annulment; ADMITTED,
//     ALREADY_CHECKED_IN and EXIT_RECORDED scans take part, other refusals are final;
//   - after a signing key is revoked, GetTicket hands out a code under a current key;
//   - a client_scan_id sent again gets the first answer, replayed, and counts nothing.
//
// A failing seed prints the shortest sequence of steps that still fails (model/shrink.h), each
// candidate replayed on a fresh event of the same server. CI runs a few fixed seeds; more with
//   TURNOUT_MODEL_SEEDS=1-200 TURNOUT_MODEL_STEPS=1000 build/tests/model_test
// TURNOUT_MODEL_WITHOUT=cancel,move (operation names as printed; "late-scans" keeps every scan in
// canonical order) leaves operations out, to look past a failure that is already known, and
// TURNOUT_MODEL_VERBOSE=1 prints every run.
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/integration/model/generator.h"
#include "tests/integration/model/operation.h"
#include "tests/integration/model/runner.h"
#include "tests/integration/model/shrink.h"
#include "tests/support/test_server.h"

namespace turnout::testing::model {
namespace {

// What a developer may change from the environment; CI runs the defaults.
struct Settings {
  bool defaults = true;  // nothing was changed
  std::vector<uint64_t> seeds = {1, 2, 3, 4, 5};
  int steps = 400;
  std::set<std::string> without;  // operation kinds left out (KindName)
  bool verbose = false;           // print every run, failing or not
  // Steps replayed while shrinking one failure (a few milliseconds each): bounds its time
  // whatever the failure.
  int64_t shrink_budget = 3000;
};

// What the CI settings must reach when the server agrees with the model: a generator that never
// gets there would not notice a defect there.
constexpr const char* kMustReach[] = {
    "scan ADMITTED",
    "scan EXIT_RECORDED",
    "scan ALREADY_CHECKED_IN",
    "scan WRONG_EVENT",
    "scan NOT_REGISTERED_FOR_SESSION",
    "scan SESSION_FULL",
    "scan CANCELED",
    "scan REVOKED",
    "scan INVALID",
    "scan OUTSIDE_CHECKIN_WINDOW",
    "scan out of canonical order",
    "annul annulled",
    "annul PERMISSION_DENIED",
    "resend replayed",
    "get-ticket new code",
    "waitlisted registration",
    "waitlisted choice",
};

// "7", "1-50", "3,9,20-25".
std::vector<uint64_t> ParseSeeds(const std::string& text) {
  std::vector<uint64_t> seeds;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> range = absl::StrSplit(part, absl::MaxSplits('-', 1));
    uint64_t first = 0;
    uint64_t last = 0;
    if (!absl::SimpleAtoi(range.first, &first)) continue;
    if (range.second.empty() || !absl::SimpleAtoi(range.second, &last)) last = first;
    for (uint64_t s = first; s <= last; ++s) seeds.push_back(s);
  }
  return seeds;
}

Settings SettingsFromEnvironment() {
  Settings settings;
  for (const char* name : {"TURNOUT_MODEL_SEEDS", "TURNOUT_MODEL_STEPS", "TURNOUT_MODEL_WITHOUT"}) {
    if (std::getenv(name) != nullptr) settings.defaults = false;
  }
  if (const char* seeds = std::getenv("TURNOUT_MODEL_SEEDS")) settings.seeds = ParseSeeds(seeds);
  if (const char* steps = std::getenv("TURNOUT_MODEL_STEPS")) {
    if (!absl::SimpleAtoi(steps, &settings.steps))
      ADD_FAILURE() << "TURNOUT_MODEL_STEPS: " << steps;
  }
  if (const char* verbose = std::getenv("TURNOUT_MODEL_VERBOSE")) {
    settings.verbose = std::string(verbose) == "1";
  }
  if (const char* without = std::getenv("TURNOUT_MODEL_WITHOUT")) {
    for (absl::string_view k : absl::StrSplit(without, ',', absl::SkipEmpty())) {
      settings.without.insert(std::string(k));
    }
  }
  return settings;
}

// One run of a sequence on a fresh event.
struct RunResult {
  std::vector<std::string> transcript;  // "<operation> -> <answer>" per step applied
  std::optional<size_t> failed_steps;   // the failing step is the last of these many
  std::string signature;                // "<operation kind>/<check>": what a shrink must keep
  std::string detail;
  std::map<std::string, int> seen;  // Runner::seen()
};

// Applies one step; records its line and, on a disagreement, the failure. False when it failed.
bool Step(Runner& runner, const Operation& op, size_t index, RunResult* run) {
  const StepOutcome out = runner.Apply(op);
  if (out.skipped) return true;
  run->transcript.push_back(op.ToString() + (out.answer.empty() ? "" : " -> " + out.answer));
  if (!out.mismatch) return true;
  run->failed_steps = index + 1;
  run->signature = absl::StrCat(KindName(op.kind), "/", out.mismatch->check);
  run->detail = out.mismatch->detail;
  return false;
}

RunResult SetupFailure(const Runner& runner) {
  RunResult run;
  run.failed_steps = 0;
  run.signature = "setup";
  run.detail = runner.setup_error();
  return run;
}

// Runs `ops` on a fresh event, up to the first disagreement.
RunResult Replay(TestServer& server, absl::Time origin, const std::vector<Operation>& ops) {
  Runner runner(server, origin);
  if (!runner.setup_error().empty()) return SetupFailure(runner);
  RunResult run;
  for (size_t i = 0; i < ops.size() && Step(runner, ops[i], i, &run); ++i) {
  }
  return run;
}

// Generates and runs up to `settings.steps` operations on a fresh event, stopping at the first
// disagreement; `ops` receives the operations run.
RunResult Explore(TestServer& server, absl::Time origin, uint64_t seed, const Settings& settings,
                  std::vector<Operation>* ops) {
  Runner runner(server, origin);
  if (!runner.setup_error().empty()) return SetupFailure(runner);
  Generator generator(seed, settings.steps, settings.without);
  RunResult run;
  for (int i = 0; i < settings.steps; ++i) {
    ops->push_back(generator.Next(runner.model()));
    if (!Step(runner, ops->back(), ops->size() - 1, &run)) break;
  }
  run.seen = runner.seen();
  return run;
}

// The steps that concern the registration of the failing (last) step, and those that concern no
// registration: most failures need nothing else, and one replay finds out.
std::vector<Operation> AboutTheFailingRegistration(const std::vector<Operation>& ops) {
  std::map<int, int> reg_of_scan;
  for (const Operation& op : ops) {
    if (op.kind == Operation::Kind::kScan) reg_of_scan[op.scan] = op.reg;
  }
  auto reg_of = [&](const Operation& op) {
    if (op.kind == Operation::Kind::kResend || op.kind == Operation::Kind::kAnnul) {
      return reg_of_scan.count(op.scan) ? reg_of_scan[op.scan] : -1;
    }
    return op.reg;
  };
  const int failing = reg_of(ops.back());
  std::vector<Operation> kept;
  for (const Operation& op : ops) {
    if (reg_of(op) == failing || reg_of(op) < 0) kept.push_back(op);
  }
  return kept;
}

// Names the registrations r0, r1, ... in the order they register (the server's id order, which
// waitlists follow) and the scans s0, s1, ... in the order they are made.
std::vector<Operation> Relabel(std::vector<Operation> ops) {
  std::map<int, int> regs;
  std::map<int, int> scans;
  for (const Operation& op : ops) {
    if (op.kind == Operation::Kind::kRegister) regs.emplace(op.reg, regs.size());
    if (op.kind == Operation::Kind::kScan) scans.emplace(op.scan, scans.size());
  }
  for (Operation& op : ops) {
    // A label nothing creates stays unknown: its steps are skipped either way.
    if (op.reg >= 0) op.reg = regs.count(op.reg) ? regs[op.reg] : 1000 + op.reg;
    if (op.scan >= 0) op.scan = scans.count(op.scan) ? scans[op.scan] : 100000 + op.scan;
  }
  return ops;
}

std::string Report(uint64_t seed, const Settings& settings, size_t original_steps, int replays,
                   const RunResult& run) {
  std::string out =
      absl::StrCat("seed ", seed, ": the server disagrees with the model (", run.signature,
                   ") after ", original_steps,
                   " steps. The shortest sequence found that fails the same way, on a fresh "
                   "event (times from doors-open; each line \"operation -> server's answer\"):\n");
  for (const std::string& line : run.transcript) absl::StrAppend(&out, "  ", line, "\n");
  absl::StrAppend(&out, "  ^ ", run.detail, "\n");
  absl::StrAppend(&out, "(shrunk in ", replays, " replays) Rerun: TURNOUT_MODEL_SEEDS=", seed,
                  " TURNOUT_MODEL_STEPS=", settings.steps);
  if (!settings.without.empty()) {
    absl::StrAppend(&out, " TURNOUT_MODEL_WITHOUT=", absl::StrJoin(settings.without, ","));
  }
  absl::StrAppend(&out, " build/tests/model_test");
  return out;
}

TEST(ModelTest, RandomSequencesAgreeWithTheReferenceModel) {
  const Settings settings = SettingsFromEnvironment();
  TestServer server;
  // Whole minutes, so that times read simply; far enough back that the event's day, moved as far
  // as the generator moves it, is over before now (the server refuses scan times ahead of it).
  const absl::Time origin =
      absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()) / 60 * 60) -
      absl::Hours(24) * (kMaxMoveDays + 1);
  std::map<std::string, int> seen;
  for (uint64_t seed : settings.seeds) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    std::vector<Operation> ops;
    const RunResult explored = Explore(server, origin, seed, settings, &ops);
    for (const auto& [what, n] : explored.seen) seen[what] += n;
    if (settings.verbose) {
      std::cout << "seed " << seed << ":\n  " << absl::StrJoin(explored.transcript, "\n  ") << "\n";
    }
    if (!explored.failed_steps) continue;
    ASSERT_NE(explored.signature, "setup") << explored.detail;

    int replays = 0;
    auto fails_the_same_way =
        [&](const std::vector<Operation>& candidate) -> std::optional<size_t> {
      ++replays;
      const RunResult run = Replay(server, origin, candidate);
      if (run.failed_steps && run.signature == explored.signature) return run.failed_steps;
      return std::nullopt;
    };
    std::vector<Operation> shortest = ops;
    if (const auto steps = fails_the_same_way(AboutTheFailingRegistration(ops))) {
      shortest = AboutTheFailingRegistration(ops);
      shortest.resize(*steps);
    }
    shortest = Shrink(shortest, settings.shrink_budget, fails_the_same_way);
    if (fails_the_same_way(Relabel(shortest))) shortest = Relabel(shortest);
    RunResult shown = Replay(server, origin, shortest);
    if (shown.signature != explored.signature) {
      // The server did not fail the same way again: show the sequence as it first failed.
      shown = explored;
      shown.detail += " (did not fail the same way on a fresh event: timing-dependent?)";
    }
    ADD_FAILURE() << Report(seed, settings, ops.size(), replays, shown);
  }
  std::cout << "Reached (steps where it held):";
  for (const auto& [what, n] : seen) std::cout << " " << what << "=" << n << ";";
  std::cout << std::endl;
  if (settings.defaults && !HasFailure()) {
    for (const char* what : kMustReach) {
      EXPECT_GT(seen[what], 0) << "the seeds never reached \"" << what
                               << "\": the test would not notice a defect there";
    }
  }
}

}  // namespace
}  // namespace turnout::testing::model
