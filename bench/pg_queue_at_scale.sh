#!/usr/bin/env bash
# A million queued jobs on PostgreSQL: start to daemon.ready, and RSS (steady and peak) a
# second after it, for a daemon that takes the sender lease at start.
#
# A throw-away cluster (scripts/pg-cluster.sh) in the work folder. The daemon ingests one
# campaign file (big.yaml, one users broadcast in 2099) into an empty schema; psql then
# adds JOBS jobs to that campaign, scheduled in 2099, bodies of 140 bytes, in one
# transaction with the per-endpoint count and change-log triggers off (the counts are
# recomputed after): what a database filled over months looks like to a start-up.
# Usage: bench/pg_queue_at_scale.sh [--jobs N] [--runs N]
#   (BROADCASTD, BENCH_DIR: see bench/lib.sh). Figures: docs/BENCHMARKS.md.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

jobs=1000000 runs=3
while [ $# -gt 0 ]; do
  case "$1" in
    --jobs) jobs="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    *) echo "usage: $0 [--jobs N] [--runs N]" >&2; exit 2 ;;
  esac
done

bench_init
chmod 755 "$work"  # the cluster runs as postgres when this runs as root
pg_dir="$work/pg"
"$bench_root/scripts/pg-cluster.sh" start "$pg_dir" > "$work/pg.out" 2>&1
pg_stop() { "$bench_root/scripts/pg-cluster.sh" stop "$pg_dir" > /dev/null 2>&1 || true; }
trap 'bench_cleanup; pg_stop' EXIT
uri="$(cat "$pg_dir/uri")"
psql "$uri" -qc "CREATE SCHEMA bench"
write_config 9
sed -i "s|^database: .*|database: \"$uri?options=-csearch_path%3Dbench\"|" "$work/broadcastd.yaml"

cat > "$work/campaigns/big.yaml" <<'YAML'
id: big
broadcasts:
  - {name: b, target: users, send_at: "2099-01-01T00:00:00Z", message: {type: txt, msg: later}}
YAML
settle_files
daemon_start
wait_log campaign.accepted 60 > /dev/null
daemon_stop

s=$(now_ms)
psql "$uri" -v ON_ERROR_STOP=1 -q <<SQL
SET search_path = bench;
BEGIN;
ALTER TABLE jobs DISABLE TRIGGER job_counts_insert_delete;
ALTER TABLE jobs DISABLE TRIGGER job_changes_insert_delete;
INSERT INTO jobs (campaign_ref, campaign_id, broadcast, occurrence, app, target, body, state,
                  due, priority, attempts, created_at, updated_at)
  SELECT c.id, 'big', 'bulk' || g, 'once', 'main', 'users', repeat('x', 140), 'scheduled',
         4070908800000, 0, 0, 0, 0
  FROM generate_series(1, $jobs) g, campaigns c WHERE c.campaign_id = 'big';
ALTER TABLE jobs ENABLE TRIGGER job_counts_insert_delete;
ALTER TABLE jobs ENABLE TRIGGER job_changes_insert_delete;
DELETE FROM job_counts;
INSERT INTO job_counts (app, target, state, n)
  SELECT app, target, state, count(*) FROM jobs GROUP BY app, target, state;
COMMIT;
VACUUM ANALYZE jobs;
SQL
echo "added $jobs jobs in $(($(now_ms) - s)) ms; $runs run(s)"

ready=() rss=() hwm=()
for run in $(seq "$runs"); do
  daemon_start
  t=$(wait_log daemon.ready 600)
  ready+=("$(echo "scale=2; ($t - $daemon_t0) / 1000" | bc)")
  wait_log lease.acquired 30 > /dev/null
  sleep 1
  rss+=("$(($(status_kb "$daemon_pid" VmRSS) / 1024))")
  hwm+=("$(($(status_kb "$daemon_pid" VmHWM) / 1024))")
  daemon_stop
  echo "run $run: ready ${ready[-1]} s, RSS ${rss[-1]} MB (peak ${hwm[-1]} MB)"
done

printf '\n%s queued jobs on PostgreSQL, median of %s run(s) [all runs]; commit %s, %s\n' \
  "$((jobs + 1))" "$runs" "$(git -C "$bench_root" rev-parse --short HEAD 2> /dev/null || echo '?')" \
  "$(date -u +%F), load average $(cut -d" " -f1-3 /proc/loadavg)"
printf '| what | figure |\n|---|---|\n'
printf '| start to daemon.ready (the lease taken) | %s s [%s] |\n' "$(median "${ready[@]}")" "${ready[*]}"
printf '| RSS a second after | %s MB [%s] |\n' "$(median "${rss[@]}")" "${rss[*]}"
printf '| RSS peak | %s MB [%s] |\n' "$(median "${hwm[@]}")" "${hwm[*]}"
