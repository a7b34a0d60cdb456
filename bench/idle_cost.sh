#!/usr/bin/env bash
# Idle cost: FILES campaign files holding JOBS jobs in all, every one due hours ahead
# (from 3 h on), nothing to send. After the daemon has taken them all (CPU quiet for
# 1.5 s), for SECONDS: its CPU (utime + stime of all threads, /proc/PID/stat), RSS at the
# end, and its wake-ups (voluntary context switches summed over its threads,
# /proc/PID/task/*/status), per minute.
# Usage: bench/idle_cost.sh [--files N] [--jobs N] [--seconds S] [--runs N]
#   (BROADCASTD, EASEMOB_SIM, BENCH_DIR: see bench/lib.sh). Figures: docs/BENCHMARKS.md.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

files=10000 jobs=10000 seconds=60 runs=1
while [ $# -gt 0 ]; do
  case "$1" in
    --files) files="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    *) echo "usage: $0 [--files N] [--jobs N] [--seconds S] [--runs N]" >&2; exit 2 ;;
  esac
done

bench_init
sim_start
write_config "$sim_port"
# Broadcast k of file i is due 3 h + (i * per_file + k) s from now.
per_file=$(((jobs + files - 1) / files))
base=$(($(date +%s) + 3 * 3600))
awk -v n="$files" -v per="$per_file" -v total="$jobs" -v base="$base" -v dir="$work/campaigns" 'BEGIN {
  made = 0
  for (i = 1; i <= n; i++) {
    f = sprintf("%s/idle%06d.yaml", dir, i)
    printf "id: idle%06d\nbroadcasts:\n", i > f
    for (k = 0; k < per && (made < total || k == 0); k++) {
      made++
      t = base + (i - 1) * per + k
      printf "  - name: b%d\n    target: users\n    send_at: \"%s\"\n    message: {type: txt, msg: \"idle %d\"}\n", \
        k, strftime("%Y-%m-%dT%H:%M:%SZ", t, 1), i > f
    }
    close(f)
  }
}'
settle_files
echo "wrote $files files with $jobs jobs; $runs run(s) of $seconds s"

cpu=() rss=() wakeups=() taken=()
vol() { cat /proc/"$1"/task/*/status 2> /dev/null |
  awk '$1 == "voluntary_ctxt_switches:" {s += $2} END {print s}'; }
for run in $(seq "$runs"); do
  rm -f "$work"/queue.db*
  daemon_start
  wait_log daemon.ready 900 > /dev/null
  t=$(cpu_settle "$daemon_pid" 1500)
  taken+=("$(echo "scale=1; ($t - $daemon_t0) / 1000" | bc)")
  c0=$(cpu_ticks "$daemon_pid") v0=$(vol "$daemon_pid")
  sleep "$seconds"
  c1=$(cpu_ticks "$daemon_pid") v1=$(vol "$daemon_pid")
  cpu+=("$(echo "scale=3; ($c1 - $c0) / $CLK_TCK * 60 / $seconds" | bc)")
  wakeups+=("$(echo "($v1 - $v0) * 60 / $seconds" | bc)")
  rss+=("$(echo "scale=1; $(status_kb "$daemon_pid" VmRSS) / 1024" | bc)")
  daemon_stop
  echo "run $run: taken in ${taken[-1]} s; CPU ${cpu[-1]} s/min, RSS ${rss[-1]} MB," \
    "${wakeups[-1]} wake-ups/min"
done
printf '\n%s files, %s jobs hours ahead, %s s, median of %s run(s) [all runs]; commit %s, %s\n' \
  "$files" "$jobs" "$seconds" "$runs" \
  "$(git -C "$bench_root" rev-parse --short HEAD 2> /dev/null || echo '?')" "$(date -u +%F)"
printf '| what | figure |\n|---|---|\n'
printf '| CPU per minute | %s s (%s%% of a core) [%s] |\n' "$(median "${cpu[@]}")" \
  "$(echo "scale=2; $(median "${cpu[@]}") * 100 / 60" | bc)" "${cpu[*]}"
printf '| RSS | %s MB [%s] |\n' "$(median "${rss[@]}")" "${rss[*]}"
printf '| wake-ups per minute (voluntary context switches, all threads) | %s [%s] |\n' \
  "$(median "${wakeups[@]}")" "${wakeups[*]}"
printf '| (start until the files were taken) | %s s [%s] |\n' "$(median "${taken[@]}")" "${taken[*]}"
