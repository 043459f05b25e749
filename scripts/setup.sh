#!/usr/bin/env bash
# Set-up of a fresh machine: the real parts from Debian (Prometheus, promtool, HAProxy,
# redis-server, exporters, wrk) and the npm dependencies (Node 24 comes with them, as the npm
# package `node`). Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A pkg_of=(
  [prometheus]=prometheus [promtool]=prometheus [haproxy]=haproxy [redis-server]=redis-server
  [wrk]=wrk [prometheus-node-exporter]=prometheus-node-exporter
  [prometheus-redis-exporter]=prometheus-redis-exporter
  [prometheus-postgres-exporter]=prometheus-postgres-exporter
  [prometheus-blackbox-exporter]=prometheus-blackbox-exporter
)
missing=()
for bin in "${!pkg_of[@]}"; do
  PATH="$PATH:/usr/sbin:/sbin" command -v "$bin" >/dev/null 2>&1 || missing+=("${pkg_of[$bin]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]}" >&2
    echo "setup: run as root, or: sudo apt-get install ${missing[*]}" >&2
    exit 2
  fi
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "setup: npm ci (under a system Node 20, EBADENGINE and install-scripts warnings are expected: the project runs on the Node 24 it installs; see README)"
npm ci --no-audit --no-fund
echo "setup: node $(node_modules/.bin/node --version) (pinned), $(haproxy -v 2>/dev/null | head -1 | cut -d' ' -f1-3), $(prometheus --version 2>&1 | head -1 | cut -d' ' -f1-3)"
