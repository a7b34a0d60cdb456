#!/usr/bin/env bash
# The safety margin, swept: for each config safety_margin_ms, a backlog on all three
# endpoints with shortened windows for SECONDS; the 429s provoked and the share of the
# allowed sends made, on loopback and over a link with jitter (20-80 ms per chunk each way).
# The jittery link: bench/delay_proxy.py between the daemon and the simulator (the
# sandbox this was written in had no netem qdisc; `tc qdisc add dev veth0 root netem delay
# 50ms 30ms` in a network namespace does the same where it is available).
# Usage: bench/safety_margin.sh [--seconds S] [--margins 0,10,25,...] [--link loopback|jitter|both]
#        [--windows SPEC] [--jitter MIN-MAX]
#   (BROADCASTD, EASEMOB_SIM, BENCH_DIR: see bench/lib.sh). Figures: docs/BENCHMARKS.md.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

seconds=40 margins="0,10,25,50,100,250,500" link=both jitter=20-80
windows="users=1/2 online_users=1/1 chatrooms=1/0.5,10/6"
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --margins) margins="$2"; shift 2 ;;
    --link) link="$2"; shift 2 ;;
    --windows) windows="$2"; shift 2 ;;
    --jitter) jitter="$2"; shift 2 ;;
    *) echo "usage: $0 [--seconds S] [--margins LIST] [--link loopback|jitter|both]" \
         "[--windows SPEC] [--jitter MIN-MAX]" >&2; exit 2 ;;
  esac
done
case "$link" in
  both) links="loopback jitter" ;;
  loopback | jitter) links="$link" ;;
  *) echo "--link: loopback, jitter or both" >&2; exit 2 ;;
esac

bench_init
rows=()
for l in $links; do
  for m in ${margins//,/ }; do
    if [ "$l" = jitter ]; then JITTER="$jitter"; else JITTER=""; fi
    pace_run "$seconds" "$windows" "$m"
    python3 "$BENCH_PY" envelope "$work/requests.jsonl" "$pace_t0" "$pace_t1" $windows \
      > "$work/envelope.$l.$m"
    row="$(awk -F'|' '$2 ~ /all/ {printf "%s | %s%% | %s", $3 + 0, $5 + 0, $6 + 0}' \
      "$work/envelope.$l.$m")"
    rows+=("| $l | $m ms | $row |")
    echo "${rows[-1]}"
  done
done
printf '\nwindows %s, %s s per margin, jitter %s ms; commit %s, %s\n' "$windows" "$seconds" \
  "$jitter" "$(git -C "$bench_root" rev-parse --short HEAD 2> /dev/null || echo '?')" \
  "$(date -u +%F), load average $(cut -d" " -f1-3 /proc/loadavg)"
printf '| link | margin | sent | share of allowed | 429s |\n|---|---|---|---|---|\n'
printf '%s\n' "${rows[@]}"
