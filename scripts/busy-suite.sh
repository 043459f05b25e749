#!/usr/bin/env bash
# The test suite on a busy machine: `npm test` N times in a row (default 3) with a CPU hog beside
# it (stress-ng, one worker per --cpu, default 1), printing each run's vitest summaries and exit
# code. This is how the "tests pass on a shared 2-core box" claim in the README was measured.
#   bash scripts/busy-suite.sh [runs] [hog workers]
set -uo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
hogs="${2:-1}"
if ! command -v stress-ng >/dev/null; then
  echo "busy-suite: stress-ng is missing (Debian package stress-ng: apt-get install stress-ng)" >&2
  exit 2
fi
log_dir="$(mktemp -d -t clawstorm-busy-XXXX)"
stress-ng --cpu "$hogs" --timeout "$((runs * 30))m" --quiet &
hog=$!
trap 'kill "$hog" 2>/dev/null; wait "$hog" 2>/dev/null' EXIT INT TERM
status=0
for i in $(seq 1 "$runs"); do
  start=$(date +%s)
  CI=true npm test >"$log_dir/run-$i.log" 2>&1
  rc=$?
  [ "$rc" -eq 0 ] || status=1
  echo "run $i: exit $rc in $(( $(date +%s) - start )) s, load average $(cut -d' ' -f1-3 /proc/loadavg) (log $log_dir/run-$i.log)"
  # vitest's summary lines, without colour codes.
  sed -E 's/\x1b\[[0-9;]*m//g' "$log_dir/run-$i.log" | grep -E '^ *(Test Files|Tests|Duration) ' | sed 's/^/  /'
  sed -E 's/\x1b\[[0-9;]*m//g' "$log_dir/run-$i.log" | grep -E '^ *(FAIL|×) ' | sed 's/^/  /' | head -20
done
exit "$status"
