// Delta debugging for the randomized model test: the shortest failing sequence of steps it can
// find within a budget, by removing chunks of steps, then single steps, while the failure stays.
//
//   auto fails = [&](const std::vector<Operation>& candidate) -> std::optional<size_t> {
//     ...  // replay: how many leading steps fail the same way, or nullopt
//   };
//   std::vector<Operation> shortest = Shrink(failing, /*budget=*/3000, fails);
//
// Deterministic: candidates are tried in a fixed order, and the budget counts replayed steps, not
// seconds, so the same failure always shrinks to the same sequence.
#ifndef TURNOUT_TESTS_INTEGRATION_MODEL_SHRINK_H_
#define TURNOUT_TESTS_INTEGRATION_MODEL_SHRINK_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace turnout::testing::model {

// `fails(candidate)` replays a candidate and returns how many of its leading steps reproduce the
// failure (the failing step is the last of them), or nullopt when it does not fail the same way.
// `budget` bounds the total number of steps replayed. `failing` must fail.
template <typename Step, typename Fails>
std::vector<Step> Shrink(std::vector<Step> failing, int64_t budget, Fails fails) {
  auto try_candidate = [&](const std::vector<Step>& candidate) -> bool {
    if (budget <= 0) return false;
    budget -= static_cast<int64_t>(candidate.size());
    const std::optional<size_t> steps = fails(candidate);
    if (!steps) return false;
    failing.assign(candidate.begin(), candidate.begin() + *steps);
    return true;
  };
  // The failing step stays last; the steps before it are split into n chunks, and one chunk at a
  // time is removed, latest first (the early steps, registrations, are the ones the rest need, so
  // late chunks go more often). On success the granularity stays; otherwise the chunks halve, down
  // to single steps.
  size_t n = 2;
  while (failing.size() > 1 && budget > 0) {
    const size_t before = failing.size() - 1;
    const size_t chunk = (before + n - 1) / n;
    bool removed = false;
    for (size_t end = before; end > 0 && !removed;) {
      const size_t begin = end > chunk ? end - chunk : 0;
      std::vector<Step> candidate(failing.begin(), failing.begin() + begin);
      candidate.insert(candidate.end(), failing.begin() + end, failing.end());
      removed = try_candidate(candidate);
      end = begin;
    }
    if (removed) {
      n = std::max<size_t>(n - 1, 2);
    } else if (chunk == 1) {
      break;  // no single step can go
    } else {
      n = std::min(before, 2 * n);
    }
  }
  return failing;
}

}  // namespace turnout::testing::model

#endif  // TURNOUT_TESTS_INTEGRATION_MODEL_SHRINK_H_
