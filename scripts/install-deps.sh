#!/usr/bin/env bash
# Installs the Debian 12 packages that building and testing Turnout needs, and buf from npm.
# Fast when everything is already installed: it asks dpkg first and runs apt only for what is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libpqxx-dev postgresql-15 postgresql-client-15
  libqrencode-dev libsodium-dev libpng-dev libjpeg-dev libicu-dev libsqlite3-dev
  libgtest-dev libgmock-dev libbenchmark-dev libzxing-dev
  libcpp-httplib-dev
  python3 python3-grpcio python3-grpc-tools python3-nacl python3-h2
  chromium chromium-driver python3-selenium fonts-dejavu-core
  ca-certificates openssl nginx
  clang-14 libclang-rt-14-dev grpc-proto
)

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "install-deps: this script installs Debian packages (Debian 12) and found no dpkg." >&2
  echo "install-deps: install the equivalents of: ${packages[*]}" >&2
  exit 1
fi

# One dpkg-query for all: prints "<name> <status>" for the packages dpkg knows, nothing for the others.
declare -A installed=()
while read -r name status; do
  [[ "${status}" == installed ]] && installed["${name%%:*}"]=1
done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${packages[@]}" 2>/dev/null || true)

missing=()
for package in "${packages[@]}"; do
  [[ -n "${installed[${package}]:-}" ]] || missing+=("${package}")
done

# buf (proto lint and breaking-change check, buf curl) comes from the npm registry, pinned, into
# /usr/local; npm from Debian where the machine has none (a nodejs from elsewhere brings its own).
buf_version=1.75.0
need_buf=false
[[ "$(/usr/local/bin/buf --version 2>/dev/null)" == "${buf_version}" ]] || need_buf=true
if ${need_buf} && ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi

if ((${#missing[@]} == 0)) && ! ${need_buf}; then
  echo "install-deps: all ${#packages[@]} build and test packages and buf ${buf_version} are installed"
  exit 0
fi

if ((EUID != 0)); then
  echo "install-deps: missing: ${missing[*]} $(${need_buf} && echo "buf ${buf_version}")" >&2
  echo "install-deps: installing them needs root; run: sudo $0" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if ((${#missing[@]} > 0)); then
  echo "install-deps: missing packages: ${missing[*]}"
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
fi
if ${need_buf}; then
  echo "install-deps: installing buf ${buf_version} from npm"
  npm install --global --prefix /usr/local --no-fund --no-audit --ignore-scripts \
    "@bufbuild/buf@${buf_version}"
fi
