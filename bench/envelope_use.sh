#!/usr/bin/env bash
# Envelope use: a backlog on all three endpoints over a long run with shortened windows.
# Per endpoint: the sends made (answered 200) from the first broadcast request for SECONDS,
# the sends the windows allowed in that span (each request the moment the windows let it
# go, no margin), the share, and the 429s provoked. Targets: share >= 99.5%, 0 429s.
# Usage: bench/envelope_use.sh [--seconds S] [--runs N] [--margin MS] [--windows SPEC]
#   --margin: the config's safety_margin_ms (default: the daemon's own default);
#   SPEC like "users=1/20 online_users=1/10 chatrooms=1/1,10/20".
#   (BROADCASTD, EASEMOB_SIM, BENCH_DIR: see bench/lib.sh). Figures: docs/BENCHMARKS.md.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

seconds=300 runs=1 margin="" windows="users=1/20 online_users=1/10 chatrooms=1/1,10/20"
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
share=() refused=()
for run in $(seq "$runs"); do
  pace_run "$seconds" "$windows" "$margin"
  python3 "$BENCH_PY" envelope "$work/requests.jsonl" "$pace_t0" "$pace_t1" $windows \
    > "$work/envelope.$run"
  echo "run $run:"
  cat "$work/envelope.$run"
  share+=("$(awk -F'|' '$2 ~ /all/ {print $5 + 0}' "$work/envelope.$run")")
  refused+=("$(awk -F'|' '$2 ~ /all/ {print $6 + 0}' "$work/envelope.$run")")
done
printf '\nwindows %s, margin %s, %s s, median of %s run(s) [all runs]; commit %s, %s\n' \
  "$windows" "${margin:-the default} ms" "$seconds" "$runs" \
  "$(git -C "$bench_root" rev-parse --short HEAD 2> /dev/null || echo '?')" "$(date -u +%F), load average $(cut -d" " -f1-3 /proc/loadavg)"
printf '| what | figure |\n|---|---|\n'
printf '| share of the allowed sends made | %s%% [%s] |\n' "$(median "${share[@]}")" "${share[*]}"
printf '| 429s | %s [%s] |\n' "$(median "${refused[@]}")" "${refused[*]}"
