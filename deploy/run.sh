#!/usr/bin/env bash
# Installs what Turnout needs (Debian 12 packages), builds it, starts turnout-server on the
# embedded PostgreSQL and loads the demo trainings. Ctrl-C stops the server (and its database).
#
#   sudo bash deploy/run.sh            # serves on 127.0.0.1:7443, data in ./data
#   TURNOUT_LISTEN=0.0.0.0:7443 TURNOUT_DATA_DIR=/var/lib/turnout sudo -E bash deploy/run.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

listen="${TURNOUT_LISTEN:-127.0.0.1:7443}"
data_dir="${TURNOUT_DATA_DIR:-$PWD/data}"

bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target turnout-server turnoutctl turnout-scan

mkdir -p "${data_dir}"
# The demo's trainings are in 2015: without --retention_days=0 the automatic purge would erase
# their registrations at the next start. A deployment keeps the default (30 days after an event).
build/server/turnout-server --listen="${listen}" --data_dir="${data_dir}" \
  --retention_days="${TURNOUT_RETENTION_DAYS:-0}" &
server_pid=$!
trap 'kill -TERM ${server_pid} 2>/dev/null; wait ${server_pid}' INT TERM

# Wait until the server answers (the first start creates the database cluster).
ctl=(build/tools/turnoutctl --server="${listen}" --token_file="${data_dir}/admin.token")
for _ in $(seq 1 120); do
  if [[ -s "${data_dir}/admin.token" ]] && "${ctl[@]}" events list >/dev/null 2>&1; then break; fi
  if ! kill -0 "${server_pid}" 2>/dev/null; then echo "run: turnout-server exited" >&2; exit 1; fi
  sleep 0.5
done

"${ctl[@]}" demo
cat <<MSG

Turnout is running on ${listen} with the demo trainings (Ctrl-C stops it).
The ADMIN token is in ${data_dir}/admin.token; try:
  export TURNOUT_TOKEN=\$(cat ${data_dir}/admin.token)
  build/tools/turnoutctl --server=${listen} events list
MSG
wait "${server_pid}"
