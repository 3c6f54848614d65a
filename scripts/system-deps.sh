#!/usr/bin/env bash
# Debian packages the test suite needs: a PostgreSQL server (started by the tests on
# loopback) and Chromium (browser journeys); with `bench`, also wrk (the benchmarks'
# load generator) and pgbench (bench_http's raw PostgreSQL ceiling; Debian ships it in
# the server package). Installs only what is missing.
set -euo pipefail

need=()
compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null || need+=(postgresql)
command -v chromium >/dev/null || need+=(chromium)
if [ "${1:-}" = "bench" ]; then
  command -v wrk >/dev/null || need+=(wrk)
  if ! compgen -G "/usr/lib/postgresql/*/bin/pgbench" >/dev/null && [[ " ${need[*]} " != *" postgresql "* ]]; then
    need+=(postgresql)
  fi
fi
[ ${#need[@]} -eq 0 ] && exit 0

echo "Installing Debian packages: ${need[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "Need root (or sudo) to install ${need[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# The package's own cluster is not used by the tests; keep the machine quiet.
if [[ " ${need[*]} " == *" postgresql "* ]] && command -v pg_ctlcluster >/dev/null; then
  $sudo service postgresql stop >/dev/null 2>&1 || true
fi
