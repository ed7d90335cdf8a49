#!/usr/bin/env bash
# Installs every Debian 12 package cchc needs to build, run and test.
# Safe to run twice: packages already present are left alone.
set -u
PKGS=(
  build-essential cmake pkg-config
  libzmq3-dev libsodium-dev
  libprotobuf-c-dev protobuf-c-compiler
  libpq-dev postgresql postgresql-client
  libsqlite3-dev sqlite3
  libcmocka-dev libjansson-dev libinih-dev libutf8proc-dev libcsv-dev libxlsxwriter-dev
  # /metrics (libmicrohttpd in cchc-server) and the Prometheus that tests it
  libmicrohttpd-dev prometheus
  python3-openpyxl
  util-linux procps python3
  # ss (test_liveness reads the sockets' keepalive timers)
  iproute2
  # systemd-analyze and systemd-sysusers check the units (sd_notify is done without libsystemd)
  systemd
  clang libclang-rt-14-dev
  # cchc-web (libcrypt for its password hashes) and its browser test
  libcrypt-dev chromium python3-websocket
)
missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages already installed"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "install-deps: missing packages: ${missing[*]}" >&2
    echo "install-deps: run this script as root (or install sudo) to install them" >&2
    exit 1
  fi
else
  SUDO=
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get update -q; then
  echo "install-deps: 'apt-get update' failed: check the network and /etc/apt/sources.list" >&2
  exit 1
fi
if ! $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"; then
  echo "install-deps: 'apt-get install' failed for: ${missing[*]}" >&2
  exit 1
fi
# The Debian postgresql package starts a default cluster; cchc never uses it.
# The prometheus package (test_metrics scrapes /metrics with it) enables a
# service on port 9090 under systemd; the test starts its own instance, with
# its own configuration, storage and port, and never uses that one.
for p in "${missing[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    echo "install-deps: package $p is still not installed" >&2
    exit 1
  fi
done
echo "install-deps: done"
