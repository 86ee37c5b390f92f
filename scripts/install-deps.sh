#!/usr/bin/env bash
# Installs the Debian 12 packages that building and testing Turnout needs.
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

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} build and test packages are installed"
  exit 0
fi

echo "install-deps: missing packages: ${missing[*]}"
if ((EUID != 0)); then
  echo "install-deps: installing them needs root; run: sudo $0" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
