#!/usr/bin/env bash
# The shipped alerting rules and dashboard (monitoring/) against a real Prometheus: runs
# the daemon of BUILD (default: build) on a campaign sent to the bundled simulator, with
# http_listen on; starts prometheus (Debian package) on a scratch config that scrapes it
# every second and loads the rules; then asks its HTTP API for every metric selector of
# every rule and every query of the dashboard, each of which must return a series (a name
# the daemon does not export returns none), and checks that every rule evaluates without
# error. About 30 s. Every process it starts is stopped, on failure too.
#   scripts/prometheus-check.sh [BUILD]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=$(realpath "${1:-build}")
bin=$build/broadcastd
sim=$build/tools/easemob-sim/easemob-sim
for tool in "$bin" "$sim" prometheus python3; do
  command -v "$tool" >/dev/null || { echo "prometheus-check: $tool not found" >&2; exit 1; }
done

scratch=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT
fail() {
  echo "prometheus-check: FAILED: $*" >&2
  for log in daemon.log prometheus.log; do
    echo "--- $log (last lines)" >&2
    tail -n 20 "$scratch/$log" >&2 || true
  done
  exit 1
}
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_for() {  # SECONDS WHAT COMMAND...
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || fail "no $what after waiting"
    sleep 0.2
  done
}

mkdir -p "$scratch/credentials" "$scratch/campaigns" "$scratch/state"
printf 'check-secret\n' >"$scratch/credentials/main.secret"
chmod 600 "$scratch/credentials/main.secret"
"$sim" --port 0 --port-file "$scratch/sim.port" --org o --app a --client-id c \
  --client-secret-file "$scratch/credentials/main.secret" >"$scratch/sim.log" 2>&1 &
pids+=($!)
wait_for 10 "simulator port" test -s "$scratch/sim.port"

metrics_port=$(free_port)
cat >"$scratch/broadcastd.yaml" <<YAML
database: $scratch/state/queue.db
campaigns_dir: $scratch/campaigns
http_listen: "127.0.0.1:$metrics_port"
apps:
  main:
    host: http://127.0.0.1:$(cat "$scratch/sim.port")
    org: o
    app: a
    client_id: c
    client_secret_file: main.secret
# The campaign below is in the folder before the daemon's first start and must go out.
on_new_queue: send
YAML
cat >"$scratch/campaigns/now.yaml" <<'YAML'
id: prometheus-check
broadcasts:
  - name: hello
    target: users
    from: admin
    message: {type: txt, msg: "sent at once"}
YAML
chmod 644 "$scratch/campaigns/now.yaml"
CREDENTIALS_DIRECTORY="$scratch/credentials" "$bin" --config "$scratch/broadcastd.yaml" \
  >"$scratch/daemon.log" 2>&1 &
pids+=($!)
wait_for 20 "answer from /metrics" curl -sf "http://127.0.0.1:$metrics_port/metrics"

prometheus_port=$(free_port)
cat >"$scratch/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: ["$root/monitoring/broadcastd.rules.yml"]
scrape_configs:
  - job_name: broadcastd
    static_configs: [{targets: ["127.0.0.1:$metrics_port"]}]
YAML
prometheus --config.file="$scratch/prometheus.yml" --storage.tsdb.path="$scratch/tsdb" \
  --web.listen-address="127.0.0.1:$prometheus_port" >"$scratch/prometheus.log" 2>&1 &
pids+=($!)
api="http://127.0.0.1:$prometheus_port/api/v1"
# A few scrapes, so that increase() and changes() over a range have samples to work on.
wait_for 30 "five scrapes of the daemon" sh -c \
  "curl -sfG '$api/query' --data-urlencode 'query=count_over_time(up{job=\"broadcastd\"}[1m]) >= 5' |
   grep -q '\"value\"'"

# Every selector and query must return a series; the dashboard's Grafana variables are
# given what "All" would (and a range for $__rate_interval). Tried again for up to 30 s:
# the send to the simulator must have happened for the lag panel's query.
API="$api" RULES="$root/monitoring/broadcastd.rules.yml" \
  DASHBOARD="$root/monitoring/broadcastd-dashboard.json" python3 - <<'PY' || fail "see above"
import json, os, re, sys, time, urllib.parse, urllib.request

api = os.environ["API"]

def get(path, **params):
    url = api + path + ("?" + urllib.parse.urlencode(params) if params else "")
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)["data"]

# Metric selectors of the rules: a metric name, with its braces if it has any. Function
# names (followed by "(") and keywords are not names the daemon exports.
rule_exprs = re.findall(r"^\s*expr:\s*(?:>-\s*\n)?((?:.*\n)*?)(?=\s*(?:for|labels):)",
                        open(os.environ["RULES"]).read(), re.M)
selector = re.compile(r'(?<![\w":])([a-zA-Z_:][\w:]*)(?![\w:])\s*(\{[^}]*\})?(?!\s*\()')
keywords = {"and", "or", "unless", "by", "without", "on", "ignoring", "bool"}
selectors = set()
for expr in rule_exprs:
    for name, braces in selector.findall(expr):
        if name not in keywords and not name.isdigit():
            selectors.add(name + braces)
alerts = len(re.findall(r"^\s*- alert:", open(os.environ["RULES"]).read(), re.M))
if len(rule_exprs) != alerts or not any(s.startswith("broadcastd_") for s in selectors):
    sys.exit(f"read {len(rule_exprs)} rule expressions, selectors {sorted(selectors)}")

dashboard = json.load(open(os.environ["DASHBOARD"]))
queries = [t["expr"].replace("$instance", ".+").replace("$__rate_interval", "1m")
           for p in dashboard["panels"] for t in p["targets"]]

deadline = time.time() + 30
while True:
    empty = [q for q in sorted(selectors) + queries if not get("/query", query=q)["result"]]
    if not empty or time.time() > deadline:
        break
    time.sleep(1)
for q in empty:
    print(f"prometheus-check: no series for {q}")

# Every rule loaded and evaluated without error.
rules = [r for g in get("/rules")["groups"] for r in g["rules"]]
bad = [f'{r["name"]}: {r.get("lastError")}' for r in rules if r["health"] != "ok"]
for b in bad:
    print(f"prometheus-check: rule {b}")
if empty or bad or len(rules) != alerts:
    sys.exit(1)
print(f"prometheus-check: {len(selectors)} rule selectors and {len(queries)} dashboard "
      f"queries return series; {len(rules)} rules evaluate")
PY
echo "prometheus-check: passed in $SECONDS s"
