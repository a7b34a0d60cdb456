#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds broadcastd and runs it on the sample
# campaigns against the bundled Easemob simulator (loopback only), then shows
# `broadcastd --status` and what the simulator received.
#   DEMO_SECONDS=25   how long the daemon runs before it is stopped
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${DEMO_SECONDS:-25}

./scripts/install-deps.sh
cmake -S . -B build-demo -G Ninja -DCMAKE_BUILD_TYPE=Release -DBROADCASTD_TESTS=OFF \
  -DBROADCASTD_BENCH=OFF >/dev/null
cmake --build build-demo -j2 --target broadcastd easemob-sim

demo="$root/demo"
rm -rf "$demo"
mkdir -p "$demo/credentials" "$demo/state"
printf 'demo-secret\n' >"$demo/credentials/main.secret"
chmod 600 "$demo/credentials/main.secret"

./build-demo/tools/easemob-sim/easemob-sim --port 0 --port-file "$demo/sim.port" \
  --org demo-org --app demo-app --client-id demo-client \
  --client-secret-file "$demo/credentials/main.secret" --log "$demo/sim-requests.jsonl" \
  >"$demo/sim.log" 2>&1 &
sim_pid=$!
daemon_pid=""
cleanup() {
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null || true
  kill "$sim_pid" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 100); do [ -s "$demo/sim.port" ] && break; sleep 0.1; done
port=$(cat "$demo/sim.port")

cat >"$demo/broadcastd.yaml" <<YAML
database: $demo/state/queue.db
campaigns_dir: $root/campaigns
apps:
  main:
    host: http://127.0.0.1:$port
    org: demo-org
    app: demo-app
    client_id: demo-client
    client_secret_file: main.secret
# The demo's folder is meant to go out at its first start: without this, a new queue holds
# the campaigns it finds until \`broadcastd --confirm ID\` (README, "A new queue holds what it finds").
on_new_queue: send
YAML

bin=./build-demo/broadcastd
echo "== broadcastd --check"
"$bin" --check --config "$demo/broadcastd.yaml"

echo "== running the daemon for $seconds s against the simulator on 127.0.0.1:$port"
CREDENTIALS_DIRECTORY="$demo/credentials" "$bin" --config "$demo/broadcastd.yaml" \
  2>&1 | tee "$demo/daemon.log" &
pipe_pid=$!
sleep 0.5
daemon_pid=$(pgrep -n -f "$bin --config $demo/broadcastd.yaml" || true)
sleep "$seconds"
echo "== broadcastd --status (daemon running)"
"$bin" --status --config "$demo/broadcastd.yaml"
[ -n "$daemon_pid" ] && kill -TERM "$daemon_pid" 2>/dev/null || true
wait "$pipe_pid" 2>/dev/null || true
daemon_pid=""

echo "== the simulator received $(wc -l <"$demo/sim-requests.jsonl") requests; the last ones:"
tail -n 5 "$demo/sim-requests.jsonl"
echo "== demo files are in $demo (daemon.log, sim-requests.jsonl, state/queue.db)"
