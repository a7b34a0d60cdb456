#!/usr/bin/env bash
# Idle cost: FILES campaign files holding JOBS jobs in all, every one due hours ahead
# (from 3 h on), nothing to send. Twice per run: after the daemon has taken them all into
# an empty database ("cold"), and after a restart with nothing changed ("restarted"); each
# time, once its CPU has been quiet for 1.5 s, for SECONDS: its CPU (utime + stime of all
# threads, /proc/PID/stat), RSS at the end, and its wake-ups (voluntary context switches
# summed over its threads, /proc/PID/task/*/status), per minute.
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

vol() { cat /proc/"$1"/task/*/status 2> /dev/null |
  awk '$1 == "voluntary_ctxt_switches:" {s += $2} END {print s}'; }
# measure KIND: the running daemon, once quiet, for SECONDS; appends to KIND_*.
measure() {
  local kind="$1" t c0 c1 v0 v1
  t=$(cpu_settle "$daemon_pid" 1500)
  eval "${kind}_taken+=(\"$(echo "scale=1; ($t - $daemon_t0) / 1000" | bc)\")"
  c0=$(cpu_ticks "$daemon_pid") v0=$(vol "$daemon_pid")
  sleep "$seconds"
  c1=$(cpu_ticks "$daemon_pid") v1=$(vol "$daemon_pid")
  eval "${kind}_cpu+=(\"$(echo "scale=3; ($c1 - $c0) / $CLK_TCK * 60 / $seconds" | bc)\")"
  eval "${kind}_wakeups+=(\"$(echo "($v1 - $v0) * 60 / $seconds" | bc)\")"
  eval "${kind}_rss+=(\"$(echo "scale=1; $(status_kb "$daemon_pid" VmRSS) / 1024" | bc)\")"
}
cold_cpu=() cold_rss=() cold_wakeups=() cold_taken=()
warm_cpu=() warm_rss=() warm_wakeups=() warm_taken=()
for run in $(seq "$runs"); do
  rm -f "$work"/queue.db*
  daemon_start
  wait_log daemon.ready 900 > /dev/null
  measure cold
  daemon_stop
  daemon_start
  wait_log daemon.ready 900 > /dev/null
  measure warm
  daemon_stop
  echo "run $run: cold: taken in ${cold_taken[-1]} s; CPU ${cold_cpu[-1]} s/min," \
    "RSS ${cold_rss[-1]} MB, ${cold_wakeups[-1]} wake-ups/min; restarted: quiet after" \
    "${warm_taken[-1]} s; CPU ${warm_cpu[-1]} s/min, RSS ${warm_rss[-1]} MB," \
    "${warm_wakeups[-1]} wake-ups/min"
done
printf '\n%s files, %s jobs hours ahead, %s s, median of %s run(s) [all runs]; commit %s, %s\n' \
  "$files" "$jobs" "$seconds" "$runs" \
  "$(git -C "$bench_root" rev-parse --short HEAD 2> /dev/null || echo '?')" "$(date -u +%F), load average $(cut -d" " -f1-3 /proc/loadavg)"
printf '| what | after the cold ingestion | after a restart |\n|---|---|---|\n'
printf '| CPU per minute | %s s (%s%% of a core) [%s] | %s s (%s%% of a core) [%s] |\n' \
  "$(median "${cold_cpu[@]}")" "$(echo "scale=2; $(median "${cold_cpu[@]}") * 100 / 60" | bc)" \
  "${cold_cpu[*]}" "$(median "${warm_cpu[@]}")" \
  "$(echo "scale=2; $(median "${warm_cpu[@]}") * 100 / 60" | bc)" "${warm_cpu[*]}"
printf '| RSS | %s MB [%s] | %s MB [%s] |\n' "$(median "${cold_rss[@]}")" "${cold_rss[*]}" \
  "$(median "${warm_rss[@]}")" "${warm_rss[*]}"
printf '| wake-ups per minute (voluntary context switches, all threads) | %s [%s] | %s [%s] |\n' \
  "$(median "${cold_wakeups[@]}")" "${cold_wakeups[*]}" "$(median "${warm_wakeups[@]}")" \
  "${warm_wakeups[*]}"
printf '| (start until quiet) | %s s [%s] | %s s [%s] |\n' "$(median "${cold_taken[@]}")" \
  "${cold_taken[*]}" "$(median "${warm_taken[@]}")" "${warm_taken[*]}"
