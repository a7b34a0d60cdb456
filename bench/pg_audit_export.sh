#!/usr/bin/env bash
# bench/audit_export.sh on PostgreSQL: ATTEMPTS attempts (default 10,000,000) over 10,000
# jobs and 1,000 operator actions in a throw-away cluster (scripts/pg-cluster.sh), then the
# rows/s and peak memory of `broadcastd --audit` in both formats (server-side cursors).
# Usage: bench/pg_audit_export.sh [BROADCASTD] [ATTEMPTS]
# Needs psql and GNU time (/usr/bin/time). Figures: docs/BENCHMARKS.md.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$here/build/broadcastd}"
attempts="${2:-10000000}"
jobs=10000
actions=1000
work="${BENCH_DIR:-$(mktemp -d)}"
chmod 755 "$work"  # the cluster runs as postgres when this runs as root
pg_dir="$work/pg"
"$here/scripts/pg-cluster.sh" start "$pg_dir" > "$work/pg.out" 2>&1
cleanup() {
  "$here/scripts/pg-cluster.sh" stop "$pg_dir" > /dev/null 2>&1 || true
  [ -n "${BENCH_DIR:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
uri="$(cat "$pg_dir/uri")"
psql "$uri" -qc "CREATE SCHEMA bench"

mkdir -p "$work/campaigns"
cat > "$work/broadcastd.yaml" <<YAML
database: "$uri?options=-csearch_path%3Dbench"
campaigns_dir: $work/campaigns
apps:
  main:
    host: https://a1.easemob.com
    org: org
    app: app
    client_id: id
    client_secret_file: main.secret
YAML

# The schema as the daemon creates it (an empty campaigns folder: it sends nothing).
"$bin" -c "$work/broadcastd.yaml" 2> "$work/daemon.log" &
daemon=$!
for _ in $(seq 300); do
  grep -q daemon.ready "$work/daemon.log" && break
  sleep 0.1
done
kill -TERM "$daemon"
wait "$daemon" || true
grep -q daemon.ready "$work/daemon.log" || { cat "$work/daemon.log"; exit 1; }
t0=1796112000000  # 2026-12-01T00:00:00Z

start=$(date +%s.%N)
psql "$uri" -v ON_ERROR_STOP=1 -q <<SQL
SET search_path = bench;
BEGIN;
ALTER TABLE jobs DISABLE TRIGGER USER;
INSERT INTO campaigns (id, campaign_id, file, app, priority, updated_at)
  VALUES (1, 'big', 'big.yaml', 'main', 0, $t0);
INSERT INTO jobs (id, campaign_ref, campaign_id, broadcast, occurrence, app, target, body,
                  state, due, priority, created_at, updated_at)
SELECT i, 1, 'big', 'b' || i, '2026-12-01T00:00:00Z', 'main',
       CASE i % 3 WHEN 0 THEN 'users' WHEN 1 THEN 'online_users' ELSE 'chatrooms' END,
       '{}', 'sent', $t0, 0, $t0, $t0
FROM generate_series(1, $jobs) i;
ALTER TABLE jobs ENABLE TRIGGER USER;
INSERT INTO attempts (job_id, app, target, started_at, ended_at, http_status, outcome,
                      vendor_error, error_description, broadcast_id, detail)
SELECT 1 + i % $jobs, 'main',
       CASE (1 + i % $jobs) % 3 WHEN 0 THEN 'users' WHEN 1 THEN 'online_users' ELSE 'chatrooms' END,
       $t0 + i * 10, $t0 + i * 10 + 180,
       CASE WHEN i % 20 = 0 THEN 429 WHEN i % 50 = 1 THEN NULL ELSE 200 END,
       CASE WHEN i % 20 = 0 THEN 'retry' WHEN i % 50 = 1 THEN 'unknown' ELSE 'sent' END,
       CASE WHEN i % 20 = 0 THEN 'resource_exhausted' ELSE '' END,
       CASE WHEN i % 20 = 0 THEN 'Reached the limit, "try later"' ELSE '' END,
       CASE WHEN i % 20 = 0 OR i % 50 = 1 THEN NULL ELSE (1234567890123456789 + i)::text END,
       CASE WHEN i % 50 = 1 THEN 'curl error 28: Operation timed out' ELSE '' END
FROM generate_series(1, $attempts) i;
INSERT INTO operator_actions (at, action, job_id, detail, scope)
SELECT $t0 + i * ($attempts::bigint * 10 / $actions) + 5,
       CASE i % 2 WHEN 0 THEN 'pause' ELSE 'resume' END,
       NULL, 'maintenance, window ' || i, 'endpoint main users'
FROM generate_series(1, $actions) i;
COMMIT;
VACUUM ANALYZE attempts;
VACUUM ANALYZE operator_actions;
VACUUM ANALYZE jobs;
SQL
echo "built $attempts attempts and $actions operator actions in" \
  "$(echo "$(date +%s.%N) - $start" | bc) s"

rows=$((attempts + actions))
measure() {
  local format="$1"
  "$bin" -c "$work/broadcastd.yaml" --audit --format "$format" > /dev/null
  /usr/bin/time -f '%e %U %S %M' -o "$work/time" \
    "$bin" -c "$work/broadcastd.yaml" --audit --format "$format" > "$work/out.$format"
  local wall user sys rss lines cpu
  read -r wall user sys rss < "$work/time"
  cpu=$(echo "$user + $sys" | bc -l)
  lines=$(wc -l < "$work/out.$format")
  [ "$format" = csv ] && lines=$((lines - 1))  # the header
  [ "$lines" -eq "$rows" ] || { echo "--format $format: $lines lines, not $rows" >&2; exit 1; }
  # The CPU figure is the command's alone; the server's work is in the wall clock only.
  printf -- '--audit --format %-5s %d rows in %6.2f s (CPU %6.2f s): %8.0f rows/s (%8.0f by CPU)  peak RSS %d KiB  output %d MB\n' \
    "$format" "$rows" "$wall" "$cpu" "$(echo "$rows / $wall" | bc -l)" \
    "$(echo "$rows / $cpu" | bc -l)" "$rss" \
    "$(($(stat -c %s "$work/out.$format") / 1000000))"
  rm -f "$work/out.$format"
}

measure jsonl
measure csv
