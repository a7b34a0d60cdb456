#!/usr/bin/env bash
# Ingestion at scale: FILES campaign files (one users broadcast each, send_at in 2099, so
# nothing of theirs sends) plus one probe campaign (chatrooms, every minute). Per run:
#   cold start (empty database) to daemon.ready and to the end of the first scan; second
#   start (database full, no file changed) likewise; SIGHUP with every file unchanged
#   (until config.reloaded, until the daemon's CPU settles, and its CPU for it); then
#   `--check` over the folder. With the probe, the SIGHUP is sent 0.7 s before a minute
#   starts: the probe's occurrence falls due during the rescan, and its request time at
#   the simulator shows whether sends went on. Last, the reference: FILES rows into SQLite
#   with the sqlite3 CLI, in one transaction and one per row.
# The daemon reads a file only once it has settled: at start-up it looks at every file,
# says daemon.ready, and takes them at its next look (0.5 s later at the soonest). "Scan
# done" is when the daemon's CPU last moved before 1.5 s without any (/proc/PID/stat).
# Usage: bench/ingest_at_scale.sh [--files N] [--runs N] [--no-probe]
#   (BROADCASTD, EASEMOB_SIM, BENCH_DIR: see bench/lib.sh). Figures: docs/BENCHMARKS.md.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

files=10000 runs=3 probe=1
while [ $# -gt 0 ]; do
  case "$1" in
    --files) files="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --no-probe) probe=0; shift ;;
    *) echo "usage: $0 [--files N] [--runs N] [--no-probe]" >&2; exit 2 ;;
  esac
done

bench_init
sim_start --window chatrooms=1/1 --daily-chatrooms 100000
write_config "$sim_port" "limits:
  chatrooms: {windows: [{count: 1, seconds: 1}], daily: 100000}"

start=$(now_ms)
awk -v n="$files" -v dir="$work/campaigns" 'BEGIN {
  for (i = 1; i <= n; i++) {
    f = sprintf("%s/c%06d.yaml", dir, i)
    printf "id: c%06d\nbroadcasts:\n  - name: b\n    target: users\n    send_at: \"2099-01-01T00:00:00Z\"\n    message: {type: txt, msg: \"hello %d\"}\n", i, i > f
    close(f)
  }
}'
if [ "$probe" = 1 ]; then
  cat > "$work/campaigns/probe.yaml" <<YAML
id: probe
broadcasts:
  - name: every-minute
    target: chatrooms
    send_at: "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    repeat: {cron: "* * * * *", timezone: UTC}
    message: {type: txt, msg: "probe"}
YAML
fi
settle_files
echo "wrote $files campaign files in $(($(now_ms) - start)) ms; $runs run(s)"

cold=() cold_done=() read_scan=() warm_done=() accepted=() warm=() hup=() hup_busy=() hup_cpu=() check=() rss=() probe_lag=() probe_vs_end=() probe_vs_reloaded=()
for run in $(seq "$runs"); do
  rm -f "$work"/queue.db*
  daemon_start
  t=$(wait_log daemon.ready 900)
  cold+=("$(echo "scale=2; ($t - $daemon_t0) / 1000" | bc)")
  t=$(cpu_settle "$daemon_pid" 1500)
  cold_done+=("$(echo "scale=2; ($t - $daemon_t0) / 1000" | bc)")
  accepted+=("$(tail -n +"$((daemon_mark + 1))" "$work/daemon.log" | grep -c ' campaign.accepted ')")
  # The scan that read and wrote the files, after the settle rule's second look: its own
  # duration, as the daemon logs it.
  reading=$(tail -n +"$((daemon_mark + 1))" "$work/daemon.log" | grep ' campaigns.scanned ' |
    grep -v ' created=0 ' | sed -n 's/.* duration_ms=\([0-9]*\).*/\1/p' | sort -n | tail -1)
  read_scan+=("$(echo "scale=2; ${reading:-0} / 1000" | bc)")
  daemon_stop

  daemon_start
  t=$(wait_log daemon.ready 900)
  warm+=("$(echo "scale=2; ($t - $daemon_t0) / 1000" | bc)")
  t=$(cpu_settle "$daemon_pid" 1500)
  warm_done+=("$(echo "scale=2; ($t - $daemon_t0) / 1000" | bc)")
  rss+=("$(($(status_kb "$daemon_pid" VmRSS) / 1024))")

  if [ "$probe" = 1 ]; then
    # 0.7 s before the next minute: the probe's occurrence falls due 0.7 s into the rescan.
    wait_ms=$(( (60000 - $(now_ms) % 60000 - 700 + 60000) % 60000 ))
    [ "$wait_ms" -lt 300 ] && wait_ms=$((wait_ms + 60000))
    sleep "$(echo "scale=3; $wait_ms / 1000" | bc)"
  fi
  mark=$(log_lines)
  cpu0=$(cpu_ticks "$daemon_pid")
  t_hup=$(now_ms)
  kill -HUP "$daemon_pid"
  t_reloaded=$(wait_log config.reloaded 900 "$mark")
  t_settled=$(cpu_settle "$daemon_pid")
  cpu1=$(cpu_ticks "$daemon_pid")
  hup+=("$(echo "scale=2; ($t_reloaded - $t_hup) / 1000" | bc)")
  t_busy=$((t_settled > t_reloaded ? t_settled : t_reloaded))
  hup_busy+=("$(echo "scale=2; ($t_busy - $t_hup) / 1000" | bc)")
  hup_cpu+=("$(echo "scale=2; ($cpu1 - $cpu0) / $CLK_TCK" | bc)")
  if [ "$probe" = 1 ]; then
    due=$(( (t_hup / 60000 + 1) * 60000 ))
    sleep 1.5  # the probe's request, if the scan was short
    arrival=$(python3 "$BENCH_PY" first-after "$work/requests.jsonl" /messages/chatrooms/broadcast "$due")
    if [ -n "$arrival" ]; then
      probe_lag+=("$(echo "scale=3; ($arrival - $due) / 1000" | bc)")
      probe_vs_end+=("$(echo "scale=3; ($arrival - $t_busy) / 1000" | bc)")
      probe_vs_reloaded+=("$(echo "scale=3; ($arrival - $t_reloaded) / 1000" | bc)")
    fi
  fi
  daemon_stop

  s=$(now_ms)
  CREDENTIALS_DIRECTORY="$work/credentials" "$BROADCASTD" -c "$work/broadcastd.yaml" --check \
    > "$work/check.out" 2>&1 || true
  check+=("$(echo "scale=2; ($(now_ms) - $s) / 1000" | bc)")
  echo "run $run: cold ${cold[-1]}/${cold_done[-1]} s (${accepted[-1]} accepted, read in ${read_scan[-1]} s)," \
    "warm ${warm[-1]}/${warm_done[-1]} s, SIGHUP ${hup[-1]} s" \
    "(busy ${hup_busy[-1]} s, CPU ${hup_cpu[-1]} s), --check ${check[-1]} s" \
    "${probe_lag:+probe lag ${probe_lag[-1]} s}"
done

# The reference: FILES rows (a campaign-file-sized row each) into SQLite on the same disk,
# as the daemon opens it (WAL, synchronous FULL), in one transaction and one per row.
raw() {
  rm -f "$work"/raw.db*
  sqlite3 "$work/raw.db" "PRAGMA journal_mode = WAL;" > /dev/null
  local s
  s=$(now_ms)
  {
    echo "PRAGMA synchronous = FULL;"
    echo "CREATE TABLE files (file TEXT PRIMARY KEY, hash TEXT, body TEXT, at INTEGER);"
    [ "$1" = one ] && echo "BEGIN;"
    awk -v n="$files" 'BEGIN { for (i = 1; i <= n; i++)
      printf "INSERT INTO files VALUES (\047c%06d.yaml\047, hex(randomblob(32)), hex(randomblob(100)), %d);\n", i, i }'
    [ "$1" = one ] && echo "COMMIT;"
  } | sqlite3 "$work/raw.db"
  echo "scale=2; ($(now_ms) - $s) / 1000" | bc
}
raw_one=$(raw one)
raw_each=$(raw each)

total=$((files + probe))
cold_m=$(median "${cold_done[@]}")
printf '\n%s files, median of %s run(s) [all runs]; commit %s, %s\n' "$total" "$runs" \
  "$(git -C "$bench_root" rev-parse --short HEAD 2> /dev/null || echo '?')" "$(date -u +%F), load average $(cut -d" " -f1-3 /proc/loadavg)"
printf '| what | figure |\n|---|---|\n'
printf '| cold start to daemon.ready | %s s [%s] |\n' "$(median "${cold[@]}")" "${cold[*]}"
printf '| cold start to scan done | %s s (%s files/s) [%s]; accepted [%s] |\n' "$cold_m" \
  "$(echo "$total / $cold_m" | bc)" "${cold_done[*]}" "${accepted[*]}"
read_m=$(median "${read_scan[@]}")
printf '| cold start: the scan that read the files (after the second look) | %s s (%s files/s) [%s] |\n' \
  "$read_m" "$(echo "$total / $read_m" | bc)" "${read_scan[*]}"
printf '| second start to daemon.ready | %s s [%s] |\n' "$(median "${warm[@]}")" "${warm[*]}"
printf '| second start to scan done | %s s [%s] |\n' "$(median "${warm_done[@]}")" \
  "${warm_done[*]}"
printf '| RSS after the second start | %s MB [%s] |\n' "$(median "${rss[@]}")" "${rss[*]}"
printf '| SIGHUP to config.reloaded | %s s [%s] |\n' "$(median "${hup[@]}")" "${hup[*]}"
printf '| SIGHUP until the CPU settles | %s s [%s] |\n' "$(median "${hup_busy[@]}")" "${hup_busy[*]}"
printf '| SIGHUP: daemon CPU | %s s [%s] |\n' "$(median "${hup_cpu[@]}")" "${hup_cpu[*]}"
printf '| --check over the folder | %s s [%s] |\n' "$(median "${check[@]}")" "${check[*]}"
printf '| raw SQLite, %s rows: one transaction / one per row | %s s / %s s |\n' "$files" \
  "$raw_one" "$raw_each"
if [ "$probe" = 1 ]; then
  if [ "${#probe_lag[@]}" -gt 0 ]; then
    printf '| probe due 0.7 s into the SIGHUP scan: request after due | %s s [%s] |\n' \
      "$(median "${probe_lag[@]}")" "${probe_lag[*]}"
    printf '| probe request minus config.reloaded (< 0: sent before it) | %s s [%s] |\n' \
      "$(median "${probe_vs_reloaded[@]}")" "${probe_vs_reloaded[*]}"
    printf '| probe request minus the CPU settling (its own send is CPU too) | %s s [%s] |\n' \
      "$(median "${probe_vs_end[@]}")" "${probe_vs_end[*]}"
  else
    printf '| probe due during the SIGHUP scan | no request (expired, or blocked) |\n'
  fi
fi
