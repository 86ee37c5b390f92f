#!/usr/bin/env bash
# Installs the dependencies, builds everything in build/ and runs every test with ctest.
# Exits with ctest's status.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTURNOUT_BUILD_TESTS=ON
cmake --build build -j"$(nproc)"
exec ctest --test-dir build --output-on-failure -j2 --timeout 600
