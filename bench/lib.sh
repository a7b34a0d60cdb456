# Shared by the bench/*.sh scripts (sourced): a work folder, the simulator, the daemon's
# config and process, its log, and /proc figures. Each script runs the real binaries:
#   BROADCASTD (default build/broadcastd) and EASEMOB_SIM (default
#   build/tools/easemob-sim/easemob-sim), on 127.0.0.1.
# BENCH_DIR=DIR (new or empty) keeps the work folder (logs, databases, request logs) for a look afterwards.

bench_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BROADCASTD="${BROADCASTD:-$bench_root/build/broadcastd}"
EASEMOB_SIM="${EASEMOB_SIM:-$bench_root/build/tools/easemob-sim/easemob-sim}"
BENCH_PY="$bench_root/bench/benchlib.py"
CLK_TCK="$(getconf CLK_TCK)"

bench_pids=()
bench_cleanup() {
  local pid
  for pid in "${bench_pids[@]}"; do kill -TERM "$pid" 2> /dev/null || true; done
  # A daemon whose loop is busy (a long scan) sees SIGTERM only afterwards: 10 s, then KILL.
  for _ in $(seq 100); do
    for pid in "${bench_pids[@]}"; do kill -0 "$pid" 2> /dev/null && break; done
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.1
  done
  for pid in "${bench_pids[@]}"; do kill -KILL "$pid" 2> /dev/null || true; done
  for pid in "${bench_pids[@]}"; do wait "$pid" 2> /dev/null || true; done
  [ -n "${BENCH_DIR:-}" ] || rm -rf "$work"
}

bench_init() {
  for f in "$BROADCASTD" "$EASEMOB_SIM"; do
    [ -x "$f" ] || { echo "missing $f (set BROADCASTD / EASEMOB_SIM or build it)" >&2; exit 2; }
  done
  work="${BENCH_DIR:-$(mktemp -d /tmp/bench.XXXXXX)}"
  if [ -n "${BENCH_DIR:-}" ] && [ -n "$(ls -A "$work" 2> /dev/null)" ]; then
    echo "BENCH_DIR $work is not empty" >&2
    exit 2
  fi
  mkdir -p "$work"
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  mkdir -p "$work/credentials" "$work/campaigns"
  echo "sim-secret" > "$work/credentials/main.secret"
  touch "$work/daemon.log"
}

# settle_files: campaign files written a moment ago wait to settle before a scan takes
# them; dating them an hour back lets the next scan take them at once.
settle_files() { find "$work/campaigns" -name '*.yaml' -exec touch -d '1 hour ago' {} +; }

now_ms() { date +%s%3N; }

# sim_start [ARGS...]: the simulator on a free port, its request log in $work/requests.jsonl.
# Sets sim_pid and sim_port.
sim_start() {
  rm -f "$work/sim.port" "$work/requests.jsonl"
  "$EASEMOB_SIM" --port 0 --port-file "$work/sim.port" --org org --app app \
    --client-id id --client-secret-file "$work/credentials/main.secret" \
    --log "$work/requests.jsonl" "$@" > "$work/sim.out" 2>&1 &
  sim_pid=$!
  bench_pids+=("$sim_pid")
  for _ in $(seq 200); do [ -s "$work/sim.port" ] && break; sleep 0.05; done
  sim_port="$(cat "$work/sim.port")"
}

sim_stop() {
  kill -TERM "$sim_pid" 2> /dev/null || true
  wait "$sim_pid" 2> /dev/null || true
}

# write_config [HOST_PORT] [EXTRA_YAML]: $work/broadcastd.yaml for one app "main".
write_config() {
  local port="${1:-${sim_port:-9}}"
  cat > "$work/broadcastd.yaml" <<YAML
database: $work/queue.db
campaigns_dir: $work/campaigns
apps:
  main:
    host: http://127.0.0.1:$port
    org: org
    app: app
    client_id: id
    client_secret_file: main.secret
# The benchmarks fill the folder before the first start and measure what is sent.
on_new_queue: send
${2:-}
YAML
}

# daemon_start [ARGS...]: the daemon in the background, log in $work/daemon.log (appended;
# daemon_log_mark remembers where this start begins). Sets daemon_pid and daemon_t0 (ms).
daemon_start() {
  daemon_mark="$(wc -l < "$work/daemon.log" 2> /dev/null || echo 0)"
  daemon_t0="$(now_ms)"
  CREDENTIALS_DIRECTORY="$work/credentials" "$BROADCASTD" -c "$work/broadcastd.yaml" "$@" \
    2>> "$work/daemon.log" &
  daemon_pid=$!
  bench_pids+=("$daemon_pid")
}

daemon_stop() {
  kill -TERM "$daemon_pid" 2> /dev/null || true
  wait "$daemon_pid" 2> /dev/null || true
}

# wait_log EVENT [SECONDS] [AFTER_LINE]: waits for a log line "... EVENT ..." after line
# AFTER_LINE (default: this start's first line); prints its time (ms since the epoch).
wait_log() {
  local event="$1" limit="${2:-600}" after="${3:-$daemon_mark}" line deadline
  deadline=$(($(date +%s) + limit))
  while :; do
    line="$(tail -n +"$((after + 1))" "$work/daemon.log" | grep -m1 " $event\b" || true)"
    if [ -n "$line" ]; then
      date -d "${line%% *}" +%s%3N
      return 0
    fi
    if ! kill -0 "$daemon_pid" 2> /dev/null || [ "$(date +%s)" -ge "$deadline" ]; then
      echo "no $event in the daemon's log (see $work/daemon.log):" >&2
      tail -5 "$work/daemon.log" >&2
      return 1
    fi
    sleep 0.02
  done
}

log_lines() { wc -l < "$work/daemon.log"; }

# cpu_seconds PID: utime+stime of the whole process, in seconds.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
cpu_seconds() { echo "scale=3; $(cpu_ticks "$1") / $CLK_TCK" | bc; }
# status_kb PID FIELD: VmRSS, VmHWM, ... in kB; ctxt PID: voluntary context switches.
status_kb() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }
ctxt() { awk '$1 == "voluntary_ctxt_switches:" {print $2}' "/proc/$1/status"; }

# cpu_settle PID [QUIET_MS]: waits until the process has used no CPU for QUIET_MS (default
# 500; at most 900 s in all); prints the time (ms) its CPU last moved.
cpu_settle() {
  local pid="$1" quiet="${2:-500}" last now t_last i
  last="$(cpu_ticks "$pid")"
  t_last="$(now_ms)"
  for i in $(seq 18000); do
    sleep 0.05
    now="$(cpu_ticks "$pid" 2> /dev/null)" || break
    if [ "$now" != "$last" ]; then
      last="$now"
      t_last="$(now_ms)"
    elif [ $(($(now_ms) - t_last)) -ge "$quiet" ]; then
      break
    fi
  done
  echo "$t_last"
}

# median V...: the median of the numbers given (the lower middle for an even count).
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# Windows as one list, e.g. "users=1/20 online_users=1/10 chatrooms=1/1,10/20": the same
# windows for the daemon (config limits:, no daily cap in practice) and the simulator.
sim_window_args() {
  local spec target w
  for spec in $1; do
    target="${spec%%=*}"
    IFS=, read -ra parts <<< "${spec#*=}"
    for w in "${parts[@]}"; do printf -- '--window\n%s=%s\n' "$target" "$w"; done
    printf -- '--daily-%s\n100000000\n' "${target//_/-}"
  done
}
limits_yaml() {
  local spec target w list
  echo "limits:"
  for spec in $1; do
    target="${spec%%=*}"
    list=""
    IFS=, read -ra parts <<< "${spec#*=}"
    for w in "${parts[@]}"; do
      list+="${list:+, }{count: ${w%%/*}, seconds: ${w#*/}}"
    done
    echo "  $target: {windows: [$list], daily: 100000000}"
  done
}

# backlog_file NAME TARGET COUNT: a campaign of COUNT broadcasts on TARGET, each due at
# once (no send_at), settled.
backlog_file() {
  local name="$1" target="$2" count="$3" extra=""
  [ "$target" = chatrooms ] && extra="    chatroom_msg_level: normal"
  {
    echo "id: $name"
    echo "broadcasts:"
    for i in $(seq "$count"); do
      printf '  - name: b%d\n    target: %s\n%s\n    message: {type: txt, msg: "m %d"}\n' \
        "$i" "$target" "$extra" "$i"
    done
  } | grep -v '^$' > "$work/campaigns/$name.yaml"
  touch -d '1 hour ago' "$work/campaigns/$name.yaml"
}

# first_request_ms: the first broadcast request at the simulator (ms), empty if none yet.
first_request_ms() {
  grep -m1 '/broadcast"' "$work/requests.jsonl" 2> /dev/null |
    python3 -c 'import json,sys; l=sys.stdin.readline(); print(int(json.loads(l)["time_us"]) // 1000 if l else "")'  || true
}

# pace_run SECONDS WINDOWS MARGIN_MS [SIMULATOR ARGS...]: a backlog on every endpoint in
# WINDOWS (more jobs than the windows allow in SECONDS), the daemon sending them for
# SECONDS from its first broadcast request (pace_t0, ms) to pace_t1. MARGIN_MS empty: the
# daemon's default safety margin. JITTER="MIN-MAX" puts bench/delay_proxy.py (a random
# MIN..MAX ms per chunk, each way) between the daemon and the simulator. Leaves the
# simulator's log in $work/requests.jsonl; stops both.
pace_run() {
  local seconds="$1" windows="$2" margin="$3" target count port
  shift 3
  rm -f "$work"/queue.db* "$work"/campaigns/*.yaml
  local -a sim_args
  mapfile -t sim_args < <(sim_window_args "$windows")
  sim_start "${sim_args[@]}" "$@"
  port="$sim_port"
  if [ -n "${JITTER:-}" ]; then
    rm -f "$work/proxy.port"
    python3 "$bench_root/bench/delay_proxy.py" "$work/proxy.port" "$sim_port" \
      "${JITTER%-*}" "${JITTER#*-}" &
    proxy_pid=$!
    bench_pids+=("$proxy_pid")
    for _ in $(seq 100); do [ -s "$work/proxy.port" ] && break; sleep 0.05; done
    port="$(cat "$work/proxy.port")"
  fi
  write_config "$port" "${margin:+safety_margin_ms: $margin}
$(limits_yaml "$windows")"
  while read -r target count; do
    backlog_file "backlog-$target" "$target" "$count"
  done < <(python3 "$BENCH_PY" backlog "$seconds" $windows)
  daemon_start
  wait_log daemon.ready 300 > /dev/null
  pace_t0=""
  for _ in $(seq 600); do
    pace_t0="$(first_request_ms)"
    [ -n "$pace_t0" ] && break
    sleep 0.1
  done
  [ -n "$pace_t0" ] || { echo "no broadcast request in 60 s; see $work" >&2; exit 1; }
  pace_t1=$((pace_t0 + seconds * 1000))
  sleep "$(echo "scale=3; ($pace_t1 - $(now_ms)) / 1000 + 0.5" | bc)"
  daemon_stop
  [ -n "${JITTER:-}" ] && { kill "$proxy_pid" 2> /dev/null || true; wait "$proxy_pid" 2> /dev/null || true; }
  sim_stop
}
