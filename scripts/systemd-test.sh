#!/usr/bin/env bash
# Boots a real systemd in a container and walks the README's operator path with the
# Debian package built earlier (scripts/package-test.sh leaves it in BUILD_DIR; it is
# built here from that build when it is not there). Called by scripts/test.sh after the
# package test; run as root on Debian 12.
#   scripts/systemd-test.sh [BUILD_DIR]     (default: build)
# Needs: debootstrap, systemd-container (systemd-nspawn), util-linux (nsenter), zstd, and
# a Debian mirror (read from apt's sources; MIRROR=URL overrides it) the first time only.
# The container's root is a Debian 12 minbase with systemd and what the package depends on,
# cached as a tarball under $CACHE_DIR (default /var/cache/broadcastd-ci) keyed on its
# package list: a fresh machine builds it (minutes, mostly downloads: 8 on the machine this
# was written on, with deb.debian.org), later runs unpack it (a few seconds). The walk
# itself takes about 3 minutes.
# The container shares the host's network (the simulator listens on a free loopback port)
# and is powered off and removed at the end, also on failure.
# Each step prints one line, its name and result; the last line gives the total time.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
cache_dir=${CACHE_DIR:-/var/cache/broadcastd-ci}
started=$SECONDS
machine=broadcastd-ci-$$
step_name=setup

say() { printf '%-34s %s\n' "$1" "$2"; }
fail() {
  say "$step_name" "FAILED: $*" >&2
  if [ -n "${pid1:-}" ]; then
    echo "-- the last journal lines of broadcastd.service:" >&2
    inside journalctl -u broadcastd --no-pager -n 40 -o short-precise >&2 || true
  fi
  exit 1
}
[ "$(id -u)" -eq 0 ] || fail "run as root: it boots a container"
for tool in debootstrap systemd-nspawn nsenter zstd dpkg-deb; do
  command -v "$tool" >/dev/null || fail "$tool is missing (scripts/install-deps.sh installs it)"
done

work=$(mktemp -d /var/tmp/broadcastd-systemd.XXXXXX)
root=$work/root
nspawn_pid=""
pid1=""

# A command inside the container, with a clean environment.
inside() {
  nsenter -t "$pid1" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb \
    SYSTEMD_PAGER= LANG=C.UTF-8 "$@"
}

cleanup() {
  local rc=$?
  set +e
  if [ -n "$pid1" ] && kill -0 "$pid1" 2>/dev/null; then
    inside systemctl poweroff >/dev/null 2>&1
  fi
  if [ -n "$nspawn_pid" ]; then
    for _ in $(seq 100); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$nspawn_pid" 2>/dev/null; then
      kill -TERM "$nspawn_pid" 2>/dev/null
      sleep 2
      kill -KILL "$nspawn_pid" 2>/dev/null
    fi
    wait "$nspawn_pid" 2>/dev/null
  fi
  # Whatever nspawn left mounted under the root goes before the root does.
  findmnt -rn -o TARGET | grep -F "$work/" | sort -r | xargs -r -n1 umount -l 2>/dev/null
  rm -rf --one-file-system "$work"
  echo "systemd-test: $([ "$rc" -eq 0 ] && echo passed || echo FAILED) in $((SECONDS - started)) s"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Polls CMD every 0.2 s for up to SECONDS; fails the step with WHAT when it never succeeds.
wait_for() {
  local seconds=$1 what=$2
  shift 2
  local end=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$end" ] || fail "no $what within ${seconds} s"
    sleep 0.2
  done
}

# --- the package, and one a version later for the upgrade ---
deb=$(ls "$build"/broadcastd_*.deb 2>/dev/null | head -n1 || true)
if [ -z "$deb" ]; then
  [ -f "$build/CMakeCache.txt" ] || fail "no build in $build: run the main build first"
  cmake -S . -B "$build" -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
  cmake --build "$build" -j2 --target broadcastd easemob-sim man >/dev/null
  (cd "$build" && cpack -G DEB >/dev/null)
  deb=$(ls "$build"/broadcastd_*.deb)
fi
version=$(dpkg-deb -f "$deb" Version)
dpkg-deb -R "$deb" "$work/next"
sed -i "s/^Version: .*/Version: ${version}+ci1/" "$work/next/DEBIAN/control"
dpkg-deb -b "$work/next" "$work/broadcastd_next.deb" >/dev/null
rm -rf "$work/next"

# --- the container's root: built once per package list, then unpacked from the cache ---
# debootstrap takes real packages only: a virtual one (libspdlog1.10-fmt9) becomes the
# package that provides it. One apt-cache call for all (each call reads the whole cache).
wanted=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/(.*)//; s/|.*//; s/ //g' | grep -v '^$')
# shellcheck disable=SC2086 # one argument per package
real=$(apt-cache show --no-all-versions $wanted </dev/null 2>/dev/null |
  sed -n 's/^Package: //p' || true)
depends=$(for name in $wanted; do
  if grep -qx "$name" <<<"$real"; then
    echo "$name"
  else
    apt-cache showpkg "$name" </dev/null | sed -n '/^Reverse Provides:/{n;s/ .*//p}'
  fi
done | sort -u)
packages=$(printf '%s\n' systemd systemd-sysv dbus curl procps iproute2 ca-certificates \
  $depends | sort -u | paste -sd,)
key=$(printf 'bookworm minbase %s\n' "$packages" | sha256sum | cut -c1-16)
tarball=$cache_dir/bookworm-$key.tar.zst
step_name="root (bookworm, $key)"
mkdir -p "$root"
if [ -f "$tarball" ]; then
  tar --numeric-owner -xpf "$tarball" -I zstd -C "$root"
  say "$step_name" "ok (cached $tarball)"
else
  mirror=${MIRROR:-$({ sed -n 's/^URIs: *\([^ ]*\/debian\)\/*$/\1/p
    s/^deb  *\([^ ]*\/debian\)\/* bookworm .*/\1/p' /etc/apt/sources.list.d/*.sources \
    /etc/apt/sources.list 2>/dev/null || true; } | head -n1)}
  [ -n "$mirror" ] || fail "no Debian mirror in apt's sources: set MIRROR"
  debootstrap --variant=minbase --include="$packages" bookworm "$root" "$mirror" \
    >"$work/debootstrap.log" 2>&1 || { tail -n 30 "$work/debootstrap.log"; fail "debootstrap"; }
  rm -f "$root"/var/cache/apt/archives/*.deb
  mkdir -p "$cache_dir"
  tar --numeric-owner -cpf "$tarball.tmp" -I 'zstd -T2' -C "$root" .
  mv "$tarball.tmp" "$tarball"
  say "$step_name" "ok (built with debootstrap from $mirror, cached as $tarball)"
fi

# --- boot ---
step_name=boot
setsid systemd-nspawn -b -D "$root" --register=no --keep-unit --console=read-only -M "$machine" \
  </dev/null >"$work/nspawn.log" 2>&1 &
nspawn_pid=$!
# PID 1 is nspawn's child once it runs systemd, and answers once its bus is up.
booting() {
  pid1=$(pgrep -P "$nspawn_pid" | head -n1 || true)
  [ -n "$pid1" ] && [ "$(cat "/proc/$pid1/comm" 2>/dev/null)" = systemd ] &&
    [ -n "$(inside systemctl is-system-running 2>/dev/null || true)" ]
}
wait_for 30 "systemd answering in the container" booting ||
  { cat "$work/nspawn.log"; fail "the container's systemd did not start"; }
state=$(timeout 60 nsenter -t "$pid1" -a systemctl is-system-running --wait 2>/dev/null || true)
case "$state" in running | degraded) ;; *) fail "the system is '$state', not running" ;; esac
say "$step_name" "ok ($state)"

# --- the walk ---
unit_state() { inside systemctl show -p ActiveState --value broadcastd; }
main_pid() { inside systemctl show -p MainPID --value broadcastd; }
is_active() { [ "$(unit_state)" = active ]; }
journal() { inside journalctl -u broadcastd --no-pager -o cat "$@"; }
status() { inside broadcastd --status "$@"; }
sim_dir=/var/lib/ci-sim
sim_sends() { grep -vc '/token"' "$root$sim_dir/requests.jsonl" 2>/dev/null || true; }
# The simulator as a transient unit; the same port each time once one is chosen.
start_sim() {
  inside systemctl stop ci-sim >/dev/null 2>&1 || true
  inside systemctl reset-failed ci-sim >/dev/null 2>&1 || true
  rm -f "$root$sim_dir/port"
  inside systemd-run --quiet --unit=ci-sim /usr/libexec/broadcastd/easemob-sim \
    --port "${sim_port:-0}" --port-file "$sim_dir/port" --org ci-org --app ci-app \
    --client-id ci-client --client-secret-file /etc/broadcastd/credentials/main.secret \
    --log "$sim_dir/requests.jsonl" "$@"
  wait_for 10 "simulator port" test -s "$root$sim_dir/port"
  sim_port=$(cat "$root$sim_dir/port")
}
write_config() {
  cat >"$root/etc/broadcastd/broadcastd.yaml" <<YAML
# edited by the operator: an upgrade keeps this file
campaigns_dir: /etc/broadcastd/campaigns
apps:
  main:
    host: http://127.0.0.1:$sim_port
    org: ci-org
    app: ci-app
    client_id: ci-client
    client_secret_file: main.secret
$(printf '%s\n' "$@")
YAML
}
# A campaign of COUNT chatroom broadcasts, due now or at SEND_AT.
campaign() {
  local id=$1 count=$2 send_at=${3:-}
  echo "id: $id"
  echo "broadcasts:"
  for i in $(seq "$count"); do
    echo "  - name: b$i"
    echo "    target: chatrooms"
    [ -z "$send_at" ] || echo "    send_at: \"$send_at\""
    echo "    message: {type: txt, msg: \"$id $i\"}"
  done
}
drop() {  # FILE, the campaign on stdin: written beside, then moved in whole
  cat >"$root/root/$1"
  inside install -m 644 "/root/$1" "/etc/broadcastd/campaigns/$1"
}
# The count of jobs in STATE, from --status --json's jobs_by_state.
jobs_in() {
  status --json | sed -n "/\"jobs_by_state\"/,/}/s/.*\"$1\": *\([0-9]*\).*/\1/p"
}
# Predicates for wait_for.
sends_at_least() { [ "$(sim_sends)" -ge "$1" ]; }
jobs_are() { [ "$(jobs_in "$1")" -eq "$2" ]; }
logged_more_than() { [ "$(journal "${@:3}" -g "$1" | wc -l)" -gt "$2" ]; }
unit_is() { [ "$(unit_state)" = "$1" ]; }
restarts_above() { [ "$(inside systemctl show -p NRestarts --value broadcastd)" -gt "$1" ]; }

step_name=install
cp "$deb" "$root/root/broadcastd.deb"
cp "$work/broadcastd_next.deb" "$root/root/broadcastd_next.deb"
inside env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  /root/broadcastd.deb >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; fail "apt-get install"; }
inside test -f /lib/systemd/system/broadcastd.service || fail "no unit installed"
[ "$(unit_state)" = inactive ] || fail "the install started the service"
say "$step_name" "ok ($(inside broadcastd --version))"

step_name=start
mkdir -p "$root$sim_dir"
printf 'ci-secret\n' >"$root/etc/broadcastd/credentials/main.secret"
chmod 600 "$root/etc/broadcastd/credentials/main.secret"
start_sim
write_config
inside broadcastd --check-config >/dev/null || fail "--check-config refuses the config"
inside systemctl enable --now broadcastd >/dev/null 2>&1 || fail "systemctl enable --now"
is_active || fail "the unit is $(unit_state)"
journal | grep -q "daemon.ready" || fail "no daemon.ready in the journal"
say "$step_name" "ok (active, pid $(main_pid), user $(inside ps -o user= -p "$(main_pid)"))"

step_name="campaign sent"
campaign ci-now 1 | drop ci-now.yaml
wait_for 30 "send at the simulator" sends_at_least 1
wait_for 30 "broadcast.sent in the journal" logged_more_than '^broadcast\.sent' 0
[ "$(sim_sends)" -eq 1 ] || fail "the simulator received $(sim_sends) broadcasts, expected 1"
[ "$(jobs_in sent)" -eq 1 ] || fail "--status shows $(jobs_in sent) sent jobs, expected 1"
say "$step_name" "ok (simulator: 1 broadcast; --status: 1 sent)"

step_name="systemctl status"
shown=$(inside systemctl status broadcastd --no-pager 2>&1 || true)
line=$(grep -m1 'Status: "' <<<"$shown" || true)
[ -n "$line" ] || fail "no Status line inside systemctl status: $shown"
grep -q "Active: active (running)" <<<"$shown" || fail "not active (running): $shown"
say "$step_name" "ok (${line#"${line%%[![:space:]]*}"})"

step_name="journal priorities"
[ -n "$(journal -p info..info -g '^broadcast\.sent')" ] || fail "broadcast.sent is not at info"
[ -z "$(journal -p warning -g '^broadcast\.sent')" ] || fail "broadcast.sent is above info"
say "$step_name" "ok (broadcast.sent at info; errors and warnings checked below)"

step_name="reload (good config)"
pid=$(main_pid)
write_config "safety_margin_ms: 150"
inside systemctl reload broadcastd || fail "systemctl reload failed on a good config"
wait_for 10 "config.reloaded" logged_more_than '^config\.reloaded' 0
[ "$(main_pid)" = "$pid" ] || fail "the reload restarted the daemon"
# The reload's check runs without the unit's credentials (systemd 252): it says so once,
# and blames no credential file.
[ -z "$(journal -g 'warning: apps\.main')" ] || fail "the reload's check warns about a credential"
say "$step_name" "ok (config.reloaded, same pid)"

step_name="reload (bad config)"
write_config "safety_margin_ms: 150" "no_such_key: 1"
if inside systemctl reload broadcastd 2>/dev/null; then fail "systemctl reload succeeded"; fi
[ -n "$(journal -p err -g 'no_such_key')" ] || fail "no reason at priority err in the journal"
[ "$(journal -g config.reloaded | wc -l)" -eq 1 ] || fail "the daemon reloaded the bad config"
[ "$(main_pid)" = "$pid" ] && is_active || fail "the daemon did not keep running"
write_config "safety_margin_ms: 150"
inside systemctl reload broadcastd || fail "reload after the fix"
say "$step_name" "ok (reload exit non-zero, reason at err, old config kept)"

step_name="restart with jobs queued"
campaign ci-later 3 "2099-01-01T00:00:00Z" | drop ci-later.yaml
wait_for 30 "3 scheduled jobs" jobs_are scheduled 3
inside systemctl restart broadcastd || fail "systemctl restart"
[ "$(main_pid)" != "$pid" ] && is_active || fail "not restarted"
[ "$(jobs_in scheduled)" -eq 3 ] || fail "$(jobs_in scheduled) scheduled jobs after the restart"
say "$step_name" "ok (3 scheduled kept, new pid $(main_pid))"

step_name="stop with a request in flight"
start_sim --delay-ms chatrooms=60000
starts=$(journal -g '^broadcast\.start' | wc -l)
campaign ci-slow 1 | drop ci-slow.yaml
wait_for 30 "broadcast.start" logged_more_than '^broadcast\.start' "$starts"
inside systemctl stop broadcastd || fail "systemctl stop"
[ "$(unit_state)" = inactive ] || fail "the unit is $(unit_state) after stop"
[ "$(jobs_in unknown)" -eq 1 ] || fail "$(jobs_in unknown) unknown jobs, expected 1"
[ -n "$(journal -p err -g '^broadcast\.unknown')" ] || fail "no broadcast.unknown at err"
start_sim
inside systemctl start broadcastd || fail "start after the stop"
job=$(status --state unknown --json | sed -n 's/.*"id": *\([0-9][0-9]*\).*/\1/p' | head -n1)
inside broadcastd --resolve-not-sent "$job" >/dev/null || fail "--resolve-not-sent $job"
say "$step_name" "ok (job $job unknown, broadcast.unknown at err; resolved)"

step_name="watchdog"
inside mkdir -p /run/systemd/system/broadcastd.service.d
inside sh -c 'printf "[Service]\nWatchdogSec=4\n" >/run/systemd/system/broadcastd.service.d/ci.conf'
inside systemctl daemon-reload
inside systemctl restart broadcastd
pid=$(main_pid)
restarts=$(inside systemctl show -p NRestarts --value broadcastd)
inside kill -STOP "$pid"
wait_for 30 "a restart after the watchdog" restarts_above "$restarts"
wait_for 20 "active after the watchdog restart" unit_is active
inside journalctl --no-pager -o cat | grep -q "broadcastd.service: Watchdog timeout" ||
  fail "no watchdog timeout in the journal"
[ "$(main_pid)" != "$pid" ] || fail "the same pid after the watchdog"
[ "$(jobs_in scheduled)" -eq 3 ] || fail "$(jobs_in scheduled) scheduled jobs after the watchdog"
inside rm -r /run/systemd/system/broadcastd.service.d
inside systemctl daemon-reload
say "$step_name" "ok (SIGSTOP -> watchdog abort -> restarted, 3 scheduled kept)"

step_name="bad campaign"
printf 'id: ci-bad\nbroadcasts: [{target: nobody}]\n' | drop ci-bad.yaml
wait_for 30 "campaign.rejected at warning" logged_more_than 'campaign.rejected file=ci-bad.yaml' 0 \
  -p warning
is_active || fail "the unit is $(unit_state)"
status | grep -q "ci-bad.yaml" || fail "--status does not show ci-bad.yaml"
inside rm /etc/broadcastd/campaigns/ci-bad.yaml
say "$step_name" "ok (rejected at warning, shown by --status, the service runs on)"

step_name="bad config"
before=$(journal -p err -g 'no_such_key' | wc -l)
write_config "safety_margin_ms: 150" "no_such_key: 1"
inside systemctl restart broadcastd 2>/dev/null && fail "a start on a bad config succeeded"
wait_for 60 "the unit failed" unit_is failed
result=$(inside systemctl show -p Result --value broadcastd)
attempts=$(($(journal -p err -g 'no_such_key' | wc -l) - before))
inside journalctl --no-pager -o cat -u broadcastd | grep -q "Start request repeated too quickly" ||
  fail "no start limit message"
# StartLimitBurst=5: five starts, each refused once by ExecStartPre with the reason.
[ "$attempts" -eq 5 ] || fail "the reason is in the journal $attempts times, expected 5"
write_config "safety_margin_ms: 150"
inside systemctl reset-failed broadcastd
inside systemctl start broadcastd || fail "start after the fix"
say "$step_name" "ok (failed, result $result, the reason $attempts times)"

step_name=upgrade
pid=$(main_pid)
inside env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  /root/broadcastd_next.deb >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; fail "upgrade"; }
[ "$(inside dpkg-query -W -f='${Version}' broadcastd)" = "${version}+ci1" ] || fail "not upgraded"
grep -q "edited by the operator" "$root/etc/broadcastd/broadcastd.yaml" ||
  fail "the upgrade replaced the config"
wait_for 20 "active after the upgrade" unit_is active
[ "$(main_pid)" != "$pid" ] || fail "the upgrade did not restart the service"
[ "$(jobs_in scheduled)" -eq 3 ] || fail "$(jobs_in scheduled) scheduled jobs after the upgrade"
say "$step_name" "ok (${version}+ci1, conffile kept, restarted, 3 scheduled kept)"

step_name=purge
inside env DEBIAN_FRONTEND=noninteractive dpkg --purge broadcastd >"$work/purge.log" 2>&1 ||
  { cat "$work/purge.log"; fail "dpkg --purge"; }
for path in /usr/bin/broadcastd /lib/systemd/system/broadcastd.service \
  /etc/broadcastd/broadcastd.yaml /var/lib/private/broadcastd /var/lib/broadcastd; do
  inside test ! -e "$path" || fail "$path is left after the purge"
done
# What dpkg leaves: the files the operator put there, and the folders holding them.
left=$(inside find /etc/broadcastd -type f | sort | paste -sd' ')
expected="/etc/broadcastd/campaigns/ci-later.yaml /etc/broadcastd/campaigns/ci-now.yaml"
expected+=" /etc/broadcastd/campaigns/ci-slow.yaml /etc/broadcastd/credentials/main.secret"
[ "$left" = "$expected" ] || fail "after the purge /etc/broadcastd holds: $left"
inside pgrep -x broadcastd >/dev/null && fail "a daemon runs after the purge"
say "$step_name" "ok (package, conffile and queue gone, the operator's files kept, no daemon)"

# A purge leaves the operator's campaign files; a reinstall makes a new, empty queue. It
# must hold what it finds (on_new_queue: hold, the default), not send it a second time.
step_name="reinstall sends nothing again"
before=$(sim_sends)
inside env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  /root/broadcastd.deb >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; fail "apt-get install"; }
write_config
inside systemctl enable --now broadcastd >/dev/null 2>&1 || fail "systemctl enable --now"
wait_for 30 "campaign.adopted for the 3 files" logged_more_than '^campaign\.adopted' 2
status | grep -q "ADOPTED  3 campaigns" || fail "--status does not show 3 adopted campaigns"
# A new file goes out; had any adopted job been released, it would have gone out too.
campaign ci-after 1 | drop ci-after.yaml
wait_for 30 "the new campaign's send" sends_at_least $((before + 1))
[ "$(sim_sends)" -eq $((before + 1)) ] ||
  fail "the simulator received $(($(sim_sends) - before)) broadcasts after the reinstall, expected 1"
say "$step_name" "ok (3 campaigns adopted and held, only the new file sent)"
