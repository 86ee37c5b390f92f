#!/usr/bin/env bash
# Turnout beyond one process, on one machine: one PostgreSQL, three stateless turnout-server
# replicas sharing it, and nginx in front (grpc_pass, the failed replica taken out of rotation).
# Ctrl-C (or SIGTERM) stops everything. See deploy/SCALING.md.
#
#   sudo bash deploy/replicas.sh                 # gRPC on 127.0.0.1:7443, state in ./replicas
#   TURNOUT_LISTEN=127.0.0.1:8443 TURNOUT_STATE_DIR=/tmp/r bash deploy/replicas.sh
#
# With TURNOUT_BIN_DIR set (a build directory) it uses those binaries and builds nothing; tests do
# that. It prints "replicas ready" once nginx answers, and writes each process id into
# $TURNOUT_STATE_DIR/pids/ (postgres, replica1..3, nginx) so that a test can kill one.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

listen="${TURNOUT_LISTEN:-127.0.0.1:7443}"
state="$(realpath -m "${TURNOUT_STATE_DIR:-$PWD/replicas}")"
replica_base_port="${TURNOUT_REPLICA_BASE_PORT:-17443}"
replicas=3
pgbin=/usr/lib/postgresql/15/bin

if [[ -z "${TURNOUT_BIN_DIR:-}" ]]; then
  bash scripts/install-deps.sh
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build -j"$(nproc)" --target turnout-server turnoutctl
  bin_dir="$PWD/build"
else
  bin_dir="$(realpath "${TURNOUT_BIN_DIR}")"
fi
command -v nginx >/dev/null || { echo "replicas: nginx is missing (bash scripts/install-deps.sh)" >&2; exit 1; }

mkdir -p "${state}"/{pids,run,data,nginx}
chmod 755 "${state}" "${state}/run"
pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "${pid}" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

# PostgreSQL refuses to run as root: as root, it runs as the unprivileged system user `turnout`
# (the one the embedded mode uses).
as_db=()
db_user="$(id -un)"
if ((EUID == 0)); then
  id turnout >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin turnout
  db_user=turnout
  as_db=(runuser -u turnout --)
  chown turnout "${state}/run"
fi
if [[ ! -f "${state}/pg/PG_VERSION" ]]; then
  mkdir -p "${state}/pg"
  [[ ${EUID} -eq 0 ]] && chown turnout "${state}/pg"
  "${as_db[@]}" "${pgbin}/initdb" -D "${state}/pg" -U "${db_user}" --auth=trust -E UTF8 \
    --locale=C.UTF-8 >"${state}/initdb.log"
fi
"${as_db[@]}" "${pgbin}/postgres" -D "${state}/pg" -k "${state}/run" -c listen_addresses='' \
  -c max_connections=300 >"${state}/postgres.log" 2>&1 &
pids+=($!)
echo $! >"${state}/pids/postgres"
for _ in $(seq 1 100); do
  "${as_db[@]}" "${pgbin}/pg_isready" -q -h "${state}/run" && break
  sleep 0.1
done
"${as_db[@]}" /usr/bin/psql -q -h "${state}/run" -d postgres -tc \
  "SELECT 1 FROM pg_database WHERE datname = 'turnout'" | grep -q 1 ||
  "${as_db[@]}" /usr/bin/createdb -h "${state}/run" turnout
database="host=${state}/run dbname=turnout user=${db_user}"

# The replicas share the database and the data directory (the data key, the first ADMIN token).
# The first one starts alone: it applies the migrations and creates the key.
upstreams=""
for i in $(seq 1 ${replicas}); do
  port=$((replica_base_port + i - 1))
  "${bin_dir}/server/turnout-server" --listen="127.0.0.1:${port}" --database="${database}" \
    --data_dir="${state}/data" --replica_name="replica${i}" >"${state}/replica${i}.out" 2>"${state}/replica${i}.log" &
  pids+=($!)
  echo $! >"${state}/pids/replica${i}"
  for _ in $(seq 1 100); do
    grep -q "listening on port" "${state}/replica${i}.out" && break
    kill -0 "${pids[-1]}" 2>/dev/null || { echo "replicas: replica ${i} exited:" >&2; cat "${state}/replica${i}.log" >&2; exit 1; }
    sleep 0.1
  done
  upstreams+="    server 127.0.0.1:${port} max_fails=1 fail_timeout=10s;"$'\n'
done

# nginx: HTTP/2 in front, grpc_pass to the replicas. A replica that fails (refuses connections,
# resets a call) is taken out for fail_timeout, and the call is retried on the next one when
# nothing was sent yet.
cat >"${state}/nginx/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid ${state}/nginx/nginx.pid;
error_log ${state}/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${state}/nginx/body;
  proxy_temp_path ${state}/nginx/proxy;
  fastcgi_temp_path ${state}/nginx/fastcgi;
  uwsgi_temp_path ${state}/nginx/uwsgi;
  scgi_temp_path ${state}/nginx/scgi;
  upstream turnout {
${upstreams}    keepalive 32;
  }
  server {
    listen ${listen} http2;
    location / {
      grpc_pass grpc://turnout;
      grpc_next_upstream error timeout http_502 http_503 http_504;
      grpc_next_upstream_tries 3;
      # Live streams (WatchAttendance) stay open: heartbeats come every 15 s.
      grpc_read_timeout 1h;
      grpc_send_timeout 1h;
      client_body_timeout 1h;
    }
  }
}
CONF
nginx -p "${state}/nginx" -c "${state}/nginx/nginx.conf" &
pids+=($!)
echo $! >"${state}/pids/nginx"
ctl=("${bin_dir}/tools/turnoutctl" --server="${listen}" --token_file="${state}/data/admin.token")
for _ in $(seq 1 100); do
  "${ctl[@]}" events list >/dev/null 2>&1 && break
  sleep 0.1
done
"${ctl[@]}" events list >/dev/null

cat <<MSG
replicas ready: gRPC on ${listen} through nginx to ${replicas} turnout-server replicas
  ($(for i in $(seq 1 ${replicas}); do printf '127.0.0.1:%s ' $((replica_base_port + i - 1)); done))
sharing PostgreSQL at ${state}/run. The ADMIN token is in ${state}/data/admin.token.
Ctrl-C stops everything.
MSG
# A replica that dies leaves the others serving (nginx routes around it); Ctrl-C stops them all.
wait
