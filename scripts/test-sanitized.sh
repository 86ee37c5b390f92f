#!/usr/bin/env bash
# The sanitizer and fuzzing pass of the test command (scripts/test.sh runs it after the main pass):
# builds everything with clang-14 under AddressSanitizer and UndefinedBehaviorSanitizer in
# build-sanitize/, with the libFuzzer targets of tests/fuzz; runs the C++ unit and integration
# tests there, and each fuzz target for TURNOUT_FUZZ_SECONDS (15) from its seed corpus. The Python
# end-to-end tests and the buf checks run in the main pass only. Any finding fails the test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Line tables are all a sanitizer report needs, and -O1 keeps its stacks exact; both build faster.
cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTURNOUT_BUILD_TESTS=ON \
  -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
  -DTURNOUT_SANITIZE=ON -DTURNOUT_FUZZ=ON -DTURNOUT_BUILD_BENCHMARKS=OFF
cmake --build build-sanitize -j"$(nproc)"

# Third-party leaks our code cannot free, each with its reason: tests/sanitizers/lsan.supp.
export LSAN_OPTIONS="suppressions=${PWD}/tests/sanitizers/lsan.supp"
export UBSAN_OPTIONS="print_stacktrace=1"
status=0
ctest --test-dir build-sanitize --output-on-failure -j2 --timeout 900 -E '^(e2e|buf)_' ||
  status=$?
echo "Fuzzing (executions per target):"
awk '/^[0-9]+\/[0-9]+ Testing: fuzz_/ { name = $3 }
     /^stat::number_of_executed_units:/ && name != "" { print "  " name ": " $2; name = "" }' \
  build-sanitize/Testing/Temporary/LastTest.log
exit "${status}"
