// The randomized model test's generator: the next operation, from a seed and the model's state
// alone (never from the server's answers), so that a seed always makes the same sequence as long as
// the server agrees with the model.
//
//   Generator generator(seed, /*steps=*/300, /*without=*/{});
//   Operation op = generator.Next(runner.model());
//
// Scans are half the steps; the other operations change what the scans meet. Device 1's clock only
// moves forward and crosses the event's day over the run; device 2's runs a few minutes apart and
// sometimes sends a scan late, so some scans arrive out of canonical order. The plenary, the one
// room that can be full, is scanned by device 1 alone: there every scan is in canonical order, and
// SESSION_FULL is decided on the room as it is.
#ifndef TURNOUT_TESTS_INTEGRATION_MODEL_GENERATOR_H_
#define TURNOUT_TESTS_INTEGRATION_MODEL_GENERATOR_H_

#include <cstdint>
#include <initializer_list>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tests/integration/model/operation.h"
#include "tests/integration/model/reference_model.h"

namespace turnout::testing::model {

// Moves of the event add up to at most this many days, so that a run that starts this long (and
// a day) before now keeps every scan time in the past: the server refuses scan times ahead of its
// clock.
inline constexpr int kMaxMoveDays = 8;

class Generator {
 public:
  // Not an operation: named in `without`, it keeps both door clocks equal and every scan in
  // canonical order.
  static constexpr char kLateScans[] = "late-scans";

  // `steps` sets the pace of the clocks; `without` names operation kinds (KindName) never made.
  Generator(uint64_t seed, int steps, const std::set<std::string>& without);

  Operation Next(const Model& model);

 private:
  uint64_t Uniform(uint64_t n);  // in [0, n)
  bool Percent(int p);
  int Pick(std::initializer_list<int> values);
  Operation::Kind PickKind(const Model& model);
  std::vector<Place> RandomChoices();
  int PickRegistration(const Model& model, const std::set<RegistrationStatus>& preferred);
  int PickForGetTicket(const Model& model);
  Operation Scan(const Model& model);
  Place RandomPlace(const Model& model, int reg);

  std::mt19937_64 rng_;  // specified exactly by the standard: the same sequence everywhere
  std::set<std::string> without_;
  bool late_scans_ = true;
  int64_t pace_ticks_ = 1;
  absl::Duration skew2_;                       // device 2's clock minus device 1's
  absl::Duration clock_ = absl::Minutes(-15);  // device 1's clock, from doors-open
  int moved_days_ = 0;
  int next_reg_ = 0;
  int next_scan_ = 0;
  int last_reg_ = -1;
  Place last_place_ = Place::kEntrance;
};

}  // namespace turnout::testing::model

#endif  // TURNOUT_TESTS_INTEGRATION_MODEL_GENERATOR_H_
