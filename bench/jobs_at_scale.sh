#!/usr/bin/env bash
# A million queued jobs: second start to daemon.ready, RSS steady and peak, and what one
# operator action (`--cancel-job`) and one new campaign file cost: how long the event loop
# was blocked, its CPU, and RSS after.
#
# The database: the daemon ingests one campaign file (big.yaml) into an empty database,
# then the sqlite3 CLI adds JOBS jobs to that campaign in the daemon's own schema (one
# transaction, as bench/status_at_scale.sh does): a third per endpoint; half ready (due in
# the past), half scheduled over the next 30 days; bodies of about 140 bytes. Chatrooms
# run on a shortened window (1 per second) with no daily cap, so the daemon sends a ready
# chatrooms job every 1 s + margin (the users and online_users windows stay the vendor's):
# the gaps between those requests at the simulator show how long the loop was blocked: the longest gap in the OBSERVE s after the action minus
# 1 s + margin, next to the same figure for the OBSERVE s before it (sending itself may
# slow the loop down with many jobs).
# Usage: bench/jobs_at_scale.sh [--jobs N] [--runs N] [--margin MS] [--observe S]
#   (BROADCASTD, EASEMOB_SIM, BENCH_DIR: see bench/lib.sh). Figures: docs/BENCHMARKS.md.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

jobs=1000000 runs=3 margin=100 observe=15
while [ $# -gt 0 ]; do
  case "$1" in
    --jobs) jobs="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --margin) margin="$2"; shift 2 ;;
    --observe) observe="$2"; shift 2 ;;
    *) echo "usage: $0 [--jobs N] [--runs N] [--margin MS] [--observe S]" >&2; exit 2 ;;
  esac
done

bench_init
sim_start --window chatrooms=1/1 --daily-chatrooms 100000000
write_config "$sim_port" "safety_margin_ms: $margin
limits:
  chatrooms: {windows: [{count: 1, seconds: 1}], daily: 100000000}"
cat > "$work/campaigns/big.yaml" <<YAML
id: big
broadcasts:
  - name: seed
    target: users
    send_at: "2099-01-01T00:00:00Z"
    message: {type: txt, msg: "seed"}
YAML
settle_files

# The daemon creates and migrates the database and ingests big.yaml.
daemon_start
wait_log campaign.accepted 120 > /dev/null
daemon_stop
now=$(now_ms)
start=$now
sqlite3 "$work/queue.db" <<SQL
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $jobs)
INSERT INTO jobs (campaign_ref, campaign_id, broadcast, occurrence, app, target, body, state,
                  due, priority, created_at, updated_at)
SELECT (SELECT id FROM campaigns WHERE campaign_id = 'big'), 'big', 'b' || i, 'once', 'main',
       CASE i % 3 WHEN 0 THEN 'users' WHEN 1 THEN 'online_users' ELSE 'chatrooms' END,
       CASE i % 3 WHEN 0 THEN '{"target_type":"users","msg":{"type":"txt","msg":"'
                  ELSE '{"msg":{"type":"txt","msg":"' END || hex(randomblob(48)) || '"}}',
       CASE WHEN i % 2 = 0 THEN 'ready' ELSE 'scheduled' END,
       CASE WHEN i % 2 = 0 THEN $now - i * 1000 ELSE $now + 3600000 + i * 2592 END,
       0, $now, $now
FROM n;
COMMIT;
ANALYZE;
SQL
echo "built $jobs jobs in $(($(now_ms) - start)) ms ($(du -h "$work/queue.db" | cut -f1)); $runs run(s)"

rooms=/messages/chatrooms/broadcast
expected=$((1000 + margin))
ready=() rss=() hwm=() cancel_block=() cancel_base=() cancel_cpu=() cancel_cpu_base=()
cancel_rss=() file_block=() file_base=() file_cpu=() file_cpu_base=() file_rss=() hwm_end=()

# action LABEL COMMAND...: runs one action against the running daemon and watches it for
# OBSERVE s before and after; appends to LABEL_block (the longest probe gap after the action
# over 1 s + margin, ms), LABEL_base (the same for gaps wholly in the OBSERVE s before it),
# LABEL_cpu and LABEL_cpu_base (the daemon's CPU in the OBSERVE s after and before) and
# LABEL_rss (RSS after).
action() {
  local label="$1" t c0 c1 c2 block base
  shift
  c0=$(cpu_ticks "$daemon_pid")
  sleep "$observe"
  c1=$(cpu_ticks "$daemon_pid")
  t=$(now_ms)
  "$@"
  sleep "$observe"
  c2=$(cpu_ticks "$daemon_pid")
  block=$(python3 "$BENCH_PY" gap "$work/requests.jsonl" "$rooms" "$t" "$((t + observe * 1000))" \
    "$expected")
  base=$(python3 "$BENCH_PY" gap "$work/requests.jsonl" "$rooms" "$((t - observe * 1000))" \
    "$t" "$expected" inside)
  eval "${label}_block+=(\"\$block\")"
  eval "${label}_base+=(\"\$base\")"
  eval "${label}_cpu+=(\"\$(echo \"scale=2; (\$c2 - \$c1) / \$CLK_TCK\" | bc)\")"
  eval "${label}_cpu_base+=(\"\$(echo \"scale=2; (\$c1 - \$c0) / \$CLK_TCK\" | bc)\")"
  eval "${label}_rss+=(\"\$((\$(status_kb \"\$daemon_pid\" VmRSS) / 1024))\")"
}

cancel() {
  CREDENTIALS_DIRECTORY="$work/credentials" "$BROADCASTD" -c "$work/broadcastd.yaml" \
    --cancel-job "$1" > /dev/null
}
new_file() {
  cat > "$work/campaigns/new-$1.yaml" <<YAML
id: new-$1
broadcasts:
  - name: one
    target: users
    send_at: "2099-01-01T00:00:00Z"
    message: {type: txt, msg: "new"}
YAML
}

for run in $(seq "$runs"); do
  daemon_start
  t=$(wait_log daemon.ready 900)
  ready+=("$(echo "scale=2; ($t - $daemon_t0) / 1000" | bc)")
  sleep 5
  rss+=("$(($(status_kb "$daemon_pid" VmRSS) / 1024))")
  hwm+=("$(($(status_kb "$daemon_pid" VmHWM) / 1024))")
  # A scheduled online_users job (odd i, i % 3 = 1): ids follow i after big.yaml's seed job.
  action cancel cancel "$((1 + 6 * run + 1))"
  action file new_file "$run"
  hwm_end+=("$(($(status_kb "$daemon_pid" VmHWM) / 1024))")
  daemon_stop
  echo "run $run: ready ${ready[-1]} s, RSS ${rss[-1]} MB (peak ${hwm[-1]} MB);" \
    "cancel: blocked ${cancel_block[-1]} ms (before: ${cancel_base[-1]}), CPU ${cancel_cpu[-1]} s," \
    "RSS ${cancel_rss[-1]} MB; new file: blocked ${file_block[-1]} ms (before: ${file_base[-1]})," \
    "CPU ${file_cpu[-1]} s, RSS ${file_rss[-1]} MB;" \
    "peak ${hwm_end[-1]} MB"
done

printf '\n%s jobs, median of %s run(s) [all runs]; margin %s ms; commit %s, %s\n' "$jobs" \
  "$runs" "$margin" "$(git -C "$bench_root" rev-parse --short HEAD 2> /dev/null || echo '?')" \
  "$(date -u +%F), load average $(cut -d" " -f1-3 /proc/loadavg)"
row() { printf '| %s | %s %s [%s] |\n' "$1" "$(median "${@:3}")" "$2" "${*:3}"; }
printf '| what | figure |\n|---|---|\n'
row "second start to daemon.ready" s "${ready[@]}"
row "RSS, steady (5 s after ready)" MB "${rss[@]}"
row "RSS peak (VmHWM) at that point" MB "${hwm[@]}"
row "--cancel-job: loop blocked (longest probe gap after, over 1 s + margin)" ms "${cancel_block[@]}"
row "(gaps wholly in the ${observe} s before the action)" ms "${cancel_base[@]}"
row "--cancel-job: daemon CPU in the ${observe} s after" s "${cancel_cpu[@]}"
row "(the same in the ${observe} s before)" s "${cancel_cpu_base[@]}"
row "--cancel-job: RSS after" MB "${cancel_rss[@]}"
row "new file: loop blocked (longest probe gap after, over 1 s + margin)" ms "${file_block[@]}"
row "(gaps wholly in the ${observe} s before the action)" ms "${file_base[@]}"
row "new file: daemon CPU in the ${observe} s after" s "${file_cpu[@]}"
row "(the same in the ${observe} s before)" s "${file_cpu_base[@]}"
row "new file: RSS after" MB "${file_rss[@]}"
row "RSS peak (VmHWM) at the end" MB "${hwm_end[@]}"
