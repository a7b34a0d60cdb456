#!/usr/bin/env bash
# Ingestion of signed campaigns at scale (the sibling of ingest_at_scale.sh): FILES campaign
# files (one users broadcast each, send_at in 2099, so nothing sends), each with a detached
# signature (ssh-keygen -Y sign -n broadcastd, one key). Per run, from an empty database:
#   off   - signatures off: start to the end of the first scan (the daemon's CPU settled);
#   on    - signatures on (users: 1): the same, every signature checked by ssh-keygen;
#   again - signatures on, second start on the full database: the verdicts are kept, so
#           no ssh-keygen runs (the files with signatures are read once more to see them).
# "Scan done" is when the daemon's CPU last moved before 1.5 s without any, as in
# ingest_at_scale.sh; ssh-keygen's CPU is its children's, counted apart (cutime+cstime).
# Usage: bench/signed_ingest_at_scale.sh [--files N] [--runs N]
#   (BROADCASTD, EASEMOB_SIM, BENCH_DIR: see bench/lib.sh). Figures: docs/BENCHMARKS.md.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

files=10000 runs=1
while [ $# -gt 0 ]; do
  case "$1" in
    --files) files="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    *) echo "usage: $0 [--files N] [--runs N]" >&2; exit 2 ;;
  esac
done

bench_init
sim_start

start=$(now_ms)
awk -v n="$files" -v dir="$work/campaigns" 'BEGIN {
  for (i = 1; i <= n; i++) {
    f = sprintf("%s/c%06d.yaml", dir, i)
    printf "id: c%06d\nbroadcasts:\n  - name: b\n    target: users\n    send_at: \"2099-01-01T00:00:00Z\"\n    message: {type: txt, msg: \"hello %d\"}\n", i, i > f
    close(f)
  }
}'
ssh-keygen -q -t ed25519 -N '' -C signer -f "$work/signer"
printf 'signer@example.com %s\n' "$(cat "$work/signer.pub")" > "$work/allowed_signers"
# One ssh-keygen signs many files (FILE.sig beside each).
(cd "$work/campaigns" && find . -name 'c*.yaml' -print0 |
  xargs -0 -n 500 ssh-keygen -q -Y sign -n broadcastd -f "$work/signer" 2> /dev/null)
find "$work/campaigns" -name '*.yaml' -exec touch -d '1 hour ago' {} +
find "$work/campaigns" -name '*.sig' -exec touch -d '1 hour ago' {} +
echo "wrote and signed $files campaign files in $(($(now_ms) - start)) ms; $runs run(s)"

children_cpu() { awk '{print $16 + $17}' "/proc/$1/stat"; }
# The daemon's CPU and its reaped children's (ssh-keygen): cpu_settle's ticks, children
# included, since the daemon itself idles while a checker thread waits for ssh-keygen.
all_ticks() { awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat"; }
all_settle() {
  local pid="$1" quiet="${2:-1500}" last now t_last
  last="$(all_ticks "$pid")"
  t_last="$(now_ms)"
  while :; do
    sleep 0.05
    now="$(all_ticks "$pid" 2> /dev/null)" || break
    if [ "$now" != "$last" ]; then
      last="$now"
      t_last="$(now_ms)"
    elif [ $(($(now_ms) - t_last)) -ge "$quiet" ]; then
      break
    fi
  done
  echo "$t_last"
}

# scan_once: a start on the database as it is to the end of its first scan. Sets
# scan_s (seconds), scan_child (ssh-keygen CPU seconds), scan_signed (campaign.signed lines).
scan_once() {
  daemon_start
  wait_log daemon.ready 1800 > /dev/null
  local t
  t=$(all_settle "$daemon_pid" 1500)
  scan_child=$(echo "scale=2; $(children_cpu "$daemon_pid") / $CLK_TCK" | bc)
  scan_signed=$(tail -n +"$((daemon_mark + 1))" "$work/daemon.log" | grep -c ' campaign.signed ' || true)
  scan_s=$(echo "scale=2; ($t - $daemon_t0) / 1000" | bc)
  daemon_stop
}

off=() on=() again=() on_child=() again_child=()
for run in $(seq "$runs"); do
  write_config "$sim_port"
  rm -f "$work"/queue.db*
  scan_once
  off+=("$scan_s")

  write_config "$sim_port" "signatures:
  allowed_signers: $work/allowed_signers
  required: {users: 1}"
  rm -f "$work"/queue.db*
  scan_once
  on+=("$scan_s") on_child+=("$scan_child")
  [ "$scan_signed" -ge "$files" ] || echo "warning: only $scan_signed campaign.signed lines of $files" >&2
  scan_once
  again+=("$scan_s") again_child+=("$scan_child")
  echo "run $run: off ${off[-1]} s; on ${on[-1]} s (ssh-keygen CPU ${on_child[-1]} s);" \
    "second start ${again[-1]} s (ssh-keygen CPU ${again_child[-1]} s)"
done
echo "median: off $(median "${off[@]}") s, on $(median "${on[@]}") s, second start $(median "${again[@]}") s"
