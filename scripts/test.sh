#!/usr/bin/env bash
# Installs the dependencies, builds everything in build/ and runs every test with ctest; then the
# sanitizer and fuzzing pass (scripts/test-sanitized.sh). Exits non-zero if either pass failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTURNOUT_BUILD_TESTS=ON
cmake --build build -j"$(nproc)"
status=0
ctest --test-dir build --output-on-failure -j2 --timeout 600 || status=$?
bash scripts/test-sanitized.sh || status=$?
exit "${status}"
