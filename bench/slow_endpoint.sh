#!/usr/bin/env bash
# A slow endpoint: chatrooms sends per minute with a backlog on chatrooms and users, while
# every users request takes DELAY ms to answer (easemob-sim --delay-ms users=DELAY), against
# the same without the delay. Target: >= 99% of the pace without the delay. (With a users
# window shorter than the delay, users is always ready and, one request at a time, the
# daemon on main sent no chatrooms request at all: --windows "users=1/1 chatrooms=1/0.5".)
# Usage: bench/slow_endpoint.sh [--seconds S] [--runs N] [--delay-ms MS] [--margin MS]
#        [--windows SPEC]
#   (BROADCASTD, EASEMOB_SIM, BENCH_DIR: see bench/lib.sh). Figures: docs/BENCHMARKS.md.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

seconds=60 runs=3 delay=2000 margin=100 windows="users=1/3 chatrooms=1/0.5"
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --delay-ms) delay="$2"; shift 2 ;;
    --margin) margin="$2"; shift 2 ;;
    --windows) windows="$2"; shift 2 ;;
    *) echo "usage: $0 [--seconds S] [--runs N] [--delay-ms MS] [--margin MS] [--windows SPEC]" >&2
       exit 2 ;;
  esac
done

bench_init
rooms=/messages/chatrooms/broadcast
fast=() slow=() users_fast=() users_slow=()
for run in $(seq "$runs"); do
  pace_run "$seconds" "$windows" "$margin"
  fast+=("$(python3 "$BENCH_PY" pace "$work/requests.jsonl" "$rooms" "$pace_t0" "$pace_t1" | cut -d' ' -f2)")
  users_fast+=("$(python3 "$BENCH_PY" pace "$work/requests.jsonl" /app/messages/broadcast "$pace_t0" "$pace_t1" | cut -d' ' -f2)")
  pace_run "$seconds" "$windows" "$margin" --delay-ms "users=$delay"
  slow+=("$(python3 "$BENCH_PY" pace "$work/requests.jsonl" "$rooms" "$pace_t0" "$pace_t1" | cut -d' ' -f2)")
  users_slow+=("$(python3 "$BENCH_PY" pace "$work/requests.jsonl" /app/messages/broadcast "$pace_t0" "$pace_t1" | cut -d' ' -f2)")
  echo "run $run: chatrooms/min ${fast[-1]} without the delay, ${slow[-1]} with users at $delay ms" \
    "(users/min ${users_fast[-1]}, ${users_slow[-1]})"
done
f=$(median "${fast[@]}") s=$(median "${slow[@]}")
printf '\nwindows %s, margin %s ms, users delayed %s ms, %s s, median of %s run(s) [all runs]; commit %s, %s\n' \
  "$windows" "$margin" "$delay" "$seconds" "$runs" \
  "$(git -C "$bench_root" rev-parse --short HEAD 2> /dev/null || echo '?')" "$(date -u +%F), load average $(cut -d" " -f1-3 /proc/loadavg)"
printf '| what | figure |\n|---|---|\n'
printf '| chatrooms sends/min, users answered at once | %s [%s] |\n' "$f" "${fast[*]}"
printf '| chatrooms sends/min, users answered after %s ms | %s [%s] |\n' "$delay" "$s" "${slow[*]}"
printf '| share of the pace without the delay | %s%% |\n' "$(echo "scale=1; 100 * $s / $f" | bc)"
printf '| users sends/min (without / with the delay) | %s / %s |\n' "$(median "${users_fast[@]}")" \
  "$(median "${users_slow[@]}")"
