#!/usr/bin/env bash
# Builds the Debian package from an existing build folder, installs it on this
# machine, checks what an operator gets, and removes it again (dpkg --purge),
# leaving the machine as it was. Called by scripts/test.sh after the main build
# and tests; run as root on Debian 12.
#   scripts/package-test.sh [BUILD_DIR]     (default: build)
# Checks: broadcastd --version; systemd-analyze verify and security --offline
# (exposure at most MAX_EXPOSURE, default 1.5) on the installed unit; the man
# pages (groff -ww -z, man -l); the conffile; bash completion; one send by the
# installed binary through the installed simulator; nothing left after purge.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${1:-build}
max_exposure=${MAX_EXPOSURE:-1.5}
unit=/lib/systemd/system/broadcastd.service

fail() {
  echo "package-test: FAILED: $*" >&2
  exit 1
}
installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' broadcastd 2>/dev/null)" = installed ]
}

[ "$(id -u)" -eq 0 ] || fail "run as root: it installs and purges the package"
[ -f "$build/CMakeCache.txt" ] || fail "no build in $build: run the main build first"
if installed; then
  fail "broadcastd is installed already; this test would replace and then purge it"
fi
for path in /etc/broadcastd /var/lib/broadcastd /var/lib/private/broadcastd "$unit"; do
  [ ! -e "$path" ] || fail "$path exists already; this test would remove it"
done

echo "== package: configure for /usr and pack the existing build"
# Only the install paths change; the objects are the ones already built and tested.
cmake -S . -B "$build" -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
cmake --build "$build" -j2 --target broadcastd easemob-sim man
rm -f "$build"/broadcastd_*.deb
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls "$build"/broadcastd_*.deb)
echo "built $deb"
dpkg-deb -c "$deb"

scratch=$(mktemp -d)
sim_pid=""
daemon_pid=""
cleanup() {
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null || true
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  if installed; then
    dpkg --purge broadcastd >/dev/null || true
  fi
  rm -rf "$scratch"
}
trap cleanup EXIT

echo "== install"
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$(realpath "$deb")" \
  >"$scratch/apt.log" 2>&1 || { cat "$scratch/apt.log"; fail "apt-get install"; }
grep -E "^(Setting up|The following NEW)" "$scratch/apt.log" || true

echo "== broadcastd --version"
version=$(grep -m1 '^CMAKE_PROJECT_VERSION:' "$build/CMakeCache.txt" | cut -d= -f2)
got=$(/usr/bin/broadcastd --version)
echo "$got"
[ "$got" = "broadcastd $version" ] || fail "--version says '$got', expected 'broadcastd $version'"

echo "== files"
for path in /usr/bin/broadcastd /usr/libexec/broadcastd/easemob-sim "$unit" \
  /etc/broadcastd/broadcastd.yaml /usr/share/broadcastd/campaign.schema.json \
  /usr/share/doc/broadcastd/README.md /usr/share/doc/broadcastd/examples/broadcastd.example.yaml \
  /usr/share/doc/broadcastd/examples/campaigns/welcome-back.yaml \
  /usr/share/bash-completion/completions/broadcastd \
  /usr/share/broadcastd/prometheus/broadcastd.rules.yml \
  /usr/share/broadcastd/prometheus/broadcastd-dashboard.json; do
  [ -f "$path" ] || fail "$path is not installed"
done
# The installed alerting rules pass their unit tests where they are installed.
promtool test rules /usr/share/broadcastd/prometheus/broadcastd.rules.test.yml >/dev/null ||
  fail "the installed alerting rules fail promtool test rules"
for dir in /etc/broadcastd/campaigns /etc/broadcastd/credentials; do
  [ -d "$dir" ] || fail "$dir is not installed"
done
[ "$(stat -c %a /etc/broadcastd/credentials)" = 700 ] || fail "/etc/broadcastd/credentials is not 700"
conffiles=$(dpkg-query -W -f='${Conffiles}\n' broadcastd)
grep -q ' /etc/broadcastd/broadcastd.yaml ' <<<"$conffiles" ||
  fail "/etc/broadcastd/broadcastd.yaml is not a conffile"
grep -q "^ExecStart=/usr/bin/broadcastd --config /etc/broadcastd/broadcastd.yaml$" "$unit" ||
  fail "the unit's ExecStart does not name the installed paths"
grep -q "^ExecStartPre=/usr/bin/broadcastd --check-config " "$unit" ||
  fail "the unit's ExecStartPre is not --check-config"
bash -c 'source /usr/share/bash-completion/completions/broadcastd && complete -p broadcastd' \
  >/dev/null || fail "bash completion does not load"

echo "== systemd-analyze verify $unit"
verify=$(systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify: $verify"
# verify also reports problems of other units it loads; ours must have none.
if grep -i "broadcastd" <<<"$verify"; then fail "systemd-analyze verify reports the unit"; fi
echo "clean"

echo "== systemd-analyze security --offline=true $unit"
systemd-analyze security --offline=true "$unit" >"$scratch/security.txt" 2>&1 || true
grep -E "✗|Overall" "$scratch/security.txt" || true
exposure=$(sed -n 's/.*Overall exposure level for broadcastd.service: \([0-9.]*\).*/\1/p' \
  "$scratch/security.txt")
[ -n "$exposure" ] || fail "no exposure figure: $(cat "$scratch/security.txt")"
awk -v e="$exposure" -v max="$max_exposure" 'BEGIN { exit !(e <= max) }' ||
  fail "exposure $exposure is above $max_exposure"
echo "exposure $exposure (at most $max_exposure)"

echo "== man pages"
for page in /usr/share/man/man8/broadcastd.8.gz /usr/share/man/man5/broadcastd.yaml.5.gz \
  /usr/share/man/man5/broadcastd-campaign.5.gz; do
  [ -f "$page" ] || fail "$page is not installed"
  warnings=$(zcat "$page" | groff -man -ww -z 2>&1)
  [ -z "$warnings" ] || fail "groff -man -ww -z $page: $warnings"
  shown=$(MANWIDTH=80 man -l "$page" 2>&1 | col -b)
  grep -q "^NAME" <<<"$shown" || fail "man -l $page shows no NAME section"
  echo "$page: $(sed -n '/^NAME/{n;p;q}' <<<"$shown" | sed 's/^ *//')"
done
# Output captured first: grep -q closing a pipe early would fail it under pipefail.
by_name=$(MANWIDTH=80 man 8 broadcastd 2>/dev/null | col -b) || true
grep -q "EXIT STATUS" <<<"$by_name" || fail "man 8 broadcastd does not find the page"

echo "== one send: the installed binary through the installed simulator"
mkdir -p "$scratch/credentials" "$scratch/campaigns" "$scratch/state"
# Named as LoadCredential=broadcastd:/etc/broadcastd/credentials names main.secret.
printf 'package-test-secret\n' >"$scratch/credentials/broadcastd_main.secret"
chmod 600 "$scratch/credentials/broadcastd_main.secret"
/usr/libexec/broadcastd/easemob-sim --port 0 --port-file "$scratch/sim.port" --org pkg-org \
  --app pkg-app --client-id pkg-client \
  --client-secret-file "$scratch/credentials/broadcastd_main.secret" \
  --log "$scratch/sim.jsonl" >"$scratch/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 100); do [ -s "$scratch/sim.port" ] && break; sleep 0.1; done
[ -s "$scratch/sim.port" ] || fail "the simulator did not start: $(cat "$scratch/sim.log")"
cat >"$scratch/broadcastd.yaml" <<YAML
database: $scratch/state/queue.db
campaigns_dir: $scratch/campaigns
apps:
  main:
    host: http://127.0.0.1:$(cat "$scratch/sim.port")
    org: pkg-org
    app: pkg-app
    client_id: pkg-client
    client_secret_file: main.secret
# welcome-back.yaml is in the folder before the first start and must go out.
on_new_queue: send
YAML
cp /usr/share/doc/broadcastd/examples/campaigns/welcome-back.yaml "$scratch/campaigns/"
# A bad campaign beside it: the unit's ExecStartPre (--check-config) still passes,
# and the daemon rejects that file and sends the other.
printf 'broadcasts: [{target: nobody}]\n' >"$scratch/campaigns/broken.yaml"
CREDENTIALS_DIRECTORY="$scratch/credentials" /usr/bin/broadcastd --check-config \
  --config "$scratch/broadcastd.yaml" || fail "--check-config"
CREDENTIALS_DIRECTORY="$scratch/credentials" /usr/bin/broadcastd \
  --config "$scratch/broadcastd.yaml" >"$scratch/daemon.log" 2>&1 &
daemon_pid=$!
sent=""
for _ in $(seq 150); do
  if grep -q "broadcast.sent" "$scratch/daemon.log"; then sent=yes && break; fi
  kill -0 "$daemon_pid" 2>/dev/null || break
  sleep 0.1
done
kill -TERM "$daemon_pid" 2>/dev/null || true
wait "$daemon_pid" || fail "the daemon did not stop cleanly: $(cat "$scratch/daemon.log")"
daemon_pid=""
cat "$scratch/daemon.log"
[ -n "$sent" ] || fail "no broadcast.sent"
grep -q "campaign.rejected file=broken.yaml" "$scratch/daemon.log" || fail "broken.yaml not rejected"
broadcasts=$(grep -vc '/token"' "$scratch/sim.jsonl" || true)
[ "$broadcasts" -eq 1 ] || fail "the simulator received $broadcasts broadcasts, expected 1"
/usr/bin/broadcastd --status --config "$scratch/broadcastd.yaml" | tee "$scratch/status.txt"
grep -q "sent" "$scratch/status.txt" || fail "--status does not show the sent job"
kill "$sim_pid" 2>/dev/null || true
wait "$sim_pid" 2>/dev/null || true
sim_pid=""

echo "== purge"
dpkg --purge broadcastd >/dev/null
for path in /usr/bin/broadcastd /usr/libexec/broadcastd "$unit" /etc/broadcastd \
  /usr/share/doc/broadcastd /usr/share/broadcastd /usr/share/man/man8/broadcastd.8.gz; do
  [ ! -e "$path" ] || fail "$path is left after dpkg --purge"
done
if installed; then
  fail "broadcastd is still installed"
fi
echo "package-test: all checks passed ($(basename "$deb"), exposure $exposure)"
