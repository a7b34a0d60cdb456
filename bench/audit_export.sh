#!/usr/bin/env bash
# Builds a database with ATTEMPTS attempts (default 10,000,000) over 10,000 jobs and 1,000
# operator actions, then prints the rows/s and peak memory of `broadcastd --audit` in both
# formats (the whole audit, written to /dev/null). Target: >= 200,000 rows/s, <= 50 MB.
# Usage: bench/audit_export.sh [BROADCASTD] [ATTEMPTS]
# Needs sqlite3 and GNU time (/usr/bin/time). Figures: docs/BENCHMARKS.md.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$here/build/broadcastd}"
attempts="${2:-10000000}"
jobs=10000
actions=1000
work="${BENCH_DIR:-$(mktemp -d)}"
[ -n "${BENCH_DIR:-}" ] || trap 'rm -rf "$work"' EXIT

mkdir -p "$work/campaigns"
cat > "$work/broadcastd.yaml" <<YAML
database: $work/queue.db
campaigns_dir: $work/campaigns
apps:
  main:
    host: https://a1.easemob.com
    org: org
    app: app
    client_id: id
    client_secret_file: main.secret
YAML

# The schema exactly as the daemon creates it: the daemon itself creates and migrates the
# database (an empty campaigns folder: it sends nothing), then stops.
"$bin" -c "$work/broadcastd.yaml" 2> "$work/daemon.log" &
daemon=$!
for _ in $(seq 100); do
  grep -q daemon.ready "$work/daemon.log" && break
  sleep 0.1
done
kill -TERM "$daemon"
wait "$daemon" || true
grep -q daemon.ready "$work/daemon.log" || { cat "$work/daemon.log"; exit 1; }
t0=1796112000000  # 2026-12-01T00:00:00Z

start=$(date +%s.%N)
# One big transaction: a rollback journal for it (the WAL would grow to the size of the
# data), WAL again afterwards as the daemon keeps it.
sqlite3 "$work/queue.db" > /dev/null <<SQL
PRAGMA journal_mode = DELETE;
BEGIN;
INSERT INTO campaigns (id, campaign_id, file, app, priority, updated_at)
  VALUES (1, 'big', 'big.yaml', 'main', 0, $t0);
INSERT INTO campaign_files (file, status, campaign_ref, content_hash, updated_at)
  VALUES ('big.yaml', 'ok', 1, 'h', $t0);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $jobs)
INSERT INTO jobs (id, campaign_ref, campaign_id, broadcast, occurrence, app, target, body,
                  state, due, priority, created_at, updated_at)
SELECT i, 1, 'big', 'b' || i, '2026-12-01T00:00:00Z', 'main',
       CASE i % 3 WHEN 0 THEN 'users' WHEN 1 THEN 'online_users' ELSE 'chatrooms' END,
       '{}', 'sent', $t0, 0, $t0, $t0
FROM n;
-- One attempt every 10 ms, the answers mixed as a busy day has them: mostly sent with a
-- broadcast ID, some 429s, some timeouts with the daemon's detail.
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $attempts)
INSERT INTO attempts (job_id, app, target, started_at, ended_at, http_status, outcome,
                      vendor_error, error_description, broadcast_id, detail)
SELECT 1 + i % $jobs, 'main',
       CASE (1 + i % $jobs) % 3 WHEN 0 THEN 'users' WHEN 1 THEN 'online_users' ELSE 'chatrooms' END,
       $t0 + i * 10, $t0 + i * 10 + 180,
       CASE WHEN i % 20 = 0 THEN 429 WHEN i % 50 = 1 THEN NULL ELSE 200 END,
       CASE WHEN i % 20 = 0 THEN 'retry' WHEN i % 50 = 1 THEN 'unknown' ELSE 'sent' END,
       CASE WHEN i % 20 = 0 THEN 'resource_exhausted' ELSE '' END,
       CASE WHEN i % 20 = 0 THEN 'Reached the limit, "try later"' ELSE '' END,
       CASE WHEN i % 20 = 0 OR i % 50 = 1 THEN NULL ELSE CAST(1234567890123456789 + i AS TEXT) END,
       CASE WHEN i % 50 = 1 THEN 'curl error 28: Operation timed out' ELSE '' END
FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $actions)
INSERT INTO operator_actions (at, action, job_id, detail, scope)
SELECT $t0 + i * ($attempts * 10 / $actions) + 5, CASE i % 2 WHEN 0 THEN 'pause' ELSE 'resume' END,
       NULL, 'maintenance, window ' || i, 'endpoint main users'
FROM n;
COMMIT;
PRAGMA journal_mode = WAL;
ANALYZE;
SQL
echo "built $attempts attempts and $actions operator actions in" \
  "$(echo "$(date +%s.%N) - $start" | bc) s ($(du -h "$work/queue.db" | cut -f1))"

rows=$((attempts + actions))
measure() {
  local format="$1"
  # A warm run first: the figures are for a database in the page cache, as on a server.
  "$bin" -c "$work/broadcastd.yaml" --audit --format "$format" > /dev/null
  /usr/bin/time -f '%e %U %S %M' -o "$work/time" \
    "$bin" -c "$work/broadcastd.yaml" --audit --format "$format" > "$work/out.$format"
  local wall user sys rss lines cpu
  read -r wall user sys rss < "$work/time"
  cpu=$(echo "$user + $sys" | bc -l)
  lines=$(wc -l < "$work/out.$format")
  [ "$format" = csv ] && lines=$((lines - 1))  # the header
  [ "$lines" -eq "$rows" ] || { echo "--format $format: $lines lines, not $rows" >&2; exit 1; }
  # Rows/s by the wall clock, and by the CPU time the command used (on a loaded machine
  # the wall clock counts the time other processes had the CPU).
  printf -- '--audit --format %-5s %d rows in %6.2f s (CPU %6.2f s): %8.0f rows/s (%8.0f by CPU)  peak RSS %d KiB  output %d MB\n' \
    "$format" "$rows" "$wall" "$cpu" "$(echo "$rows / $wall" | bc -l)" \
    "$(echo "$rows / $cpu" | bc -l)" "$rss" \
    "$(($(stat -c %s "$work/out.$format") / 1000000))"
  rm -f "$work/out.$format"
}

measure jsonl
measure csv
