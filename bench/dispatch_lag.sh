#!/usr/bin/env bash
# Dispatch lag: from the moment the windows let a request go to its arrival at the
# simulator, p50/p99, with shortened windows and a backlog on all three endpoints. The
# moment a window opens is worked out from the arrivals before it at the simulator
# (easemob-sim --log, µs) plus the daemon's safety margin: for each window COUNT/LENGTH,
# the arrival COUNT requests back + LENGTH; the latest of these + margin.
# Usage: bench/dispatch_lag.sh [--seconds S] [--runs N] [--margin MS] [--windows SPEC]
#   SPEC like "users=1/3 online_users=1/2 chatrooms=1/1,10/15" (COUNT/SECONDS[,...]).
#   (BROADCASTD, EASEMOB_SIM, BENCH_DIR: see bench/lib.sh). Figures: docs/BENCHMARKS.md.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

seconds=60 runs=3 margin=100 windows="users=1/3 online_users=1/2 chatrooms=1/1,10/15"
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --margin) margin="$2"; shift 2 ;;
    --windows) windows="$2"; shift 2 ;;
    *) echo "usage: $0 [--seconds S] [--runs N] [--margin MS] [--windows SPEC]" >&2; exit 2 ;;
  esac
done

bench_init
p50=() p99=()
for run in $(seq "$runs"); do
  pace_run "$seconds" "$windows" "$margin"
  python3 "$BENCH_PY" lag "$work/requests.jsonl" "$margin" $windows > "$work/lag.$run"
  echo "run $run:"
  cat "$work/lag.$run"
  p50+=("$(awk -F'|' '$2 ~ /all/ {print $4 + 0}' "$work/lag.$run")")
  p99+=("$(awk -F'|' '$2 ~ /all/ {print $5 + 0}' "$work/lag.$run")")
done
printf '\nwindows %s, margin %s ms, %s s, median of %s run(s) [all runs]; commit %s, %s\n' \
  "$windows" "$margin" "$seconds" "$runs" \
  "$(git -C "$bench_root" rev-parse --short HEAD 2> /dev/null || echo '?')" "$(date -u +%F), load average $(cut -d" " -f1-3 /proc/loadavg)"
printf '| what | figure |\n|---|---|\n'
printf '| dispatch lag p50, all endpoints | %s ms [%s] |\n' "$(median "${p50[@]}")" "${p50[*]}"
printf '| dispatch lag p99, all endpoints | %s ms [%s] |\n' "$(median "${p99[@]}")" "${p99[*]}"
