#!/usr/bin/env bash
# Builds a database with JOBS queued jobs (default 1,000,000) on one endpoint and prints
# the time and peak memory of `broadcastd --status` and `--status --json` (summary and the
# default listing). Usage: bench/status_at_scale.sh [BROADCASTD] [JOBS]
# Needs sqlite3 and GNU time (/usr/bin/time). Figures: docs/BENCHMARKS.md.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$here/build/broadcastd}"
jobs="${2:-1000000}"
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
now_ms="$(($(date +%s) * 1000))"

start=$(date +%s.%N)
sqlite3 "$work/queue.db" <<SQL
BEGIN;
INSERT INTO campaigns (id, campaign_id, file, app, priority, updated_at)
  VALUES (1, 'big', 'big.yaml', 'main', 0, $now_ms);
INSERT INTO campaign_files (file, status, campaign_ref, content_hash, updated_at)
  VALUES ('big.yaml', 'ok', 1, 'h', $now_ms);
INSERT INTO campaign_files (file, status, content_hash, last_error, updated_at)
  VALUES ('bad.yaml', 'rejected', 'h2', 'bad.yaml:1:1: id is required [schema.required]',
          $now_ms);
-- Half already due (ready), half due over the next 30 days (scheduled), a few unknown.
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $jobs)
INSERT INTO jobs (campaign_ref, campaign_id, broadcast, occurrence, app, target, body, state,
                  due, priority, created_at, updated_at)
SELECT 1, 'big', 'b' || i, 'once', 'main', CASE i % 3 WHEN 0 THEN 'users' WHEN 1 THEN 'online_users' ELSE 'chatrooms' END,
       '{"msg":"' || hex(randomblob(64)) || '"}',
       CASE WHEN i % 100000 = 7 THEN 'unknown' WHEN i % 2 = 0 THEN 'ready' ELSE 'scheduled' END,
       CASE WHEN i % 2 = 0 THEN $now_ms - i * 1000 ELSE $now_ms + i * 2592 END,
       0, $now_ms, $now_ms
FROM n;
COMMIT;
ANALYZE;
SQL
echo "built $jobs jobs in $(echo "$(date +%s.%N) - $start" | bc) s ($(du -h "$work/queue.db" | cut -f1))"

measure() {
  local label="$1"; shift
  # A warm run first: the figures are for a database in the page cache, as on a server.
  "$bin" -c "$work/broadcastd.yaml" "$@" > /dev/null
  /usr/bin/time -v "$bin" -c "$work/broadcastd.yaml" "$@" > "$work/out" 2> "$work/time"
  local wall rss
  wall="$(grep 'Elapsed (wall clock)' "$work/time" | awk '{print $NF}')"
  rss="$(grep 'Maximum resident set size' "$work/time" | awk '{print $NF}')"
  printf '%-32s wall %s  peak RSS %d KiB  output %d bytes\n' "$label" "$wall" "$rss" \
    "$(wc -c < "$work/out")"
}

measure "--status" --status
measure "--status --json" --status --json
measure "--status --json --state ready" --status --json --state ready
measure "--status --limit 200" --status --limit 200
