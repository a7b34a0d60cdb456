#!/usr/bin/env bash
# Installs the build twice, each time into a scratch DESTDIR (nothing is written outside it):
#   1. --prefix P (a scratch folder): every file lands under P, and the unit runs P's binary
#      with P's config;
#   2. --prefix /usr: the Debian package's layout (scripts/package-test.sh): /usr, the config
#      under /etc/broadcastd and the unit in /lib/systemd/system, naming /usr/bin/broadcastd.
#   tests/install/install_test.sh BUILD_DIR
set -euo pipefail
build=$1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

fail() {
  echo "install_test: FAILED: $*" >&2
  exit 1
}

# install DESTDIR PREFIX: cmake --install, its output kept for a failure.
install_into() {
  DESTDIR=$1 cmake --install "$build" --prefix "$2" >"$scratch/install.log" 2>&1 ||
    fail "cmake --install --prefix $2: $(cat "$scratch/install.log")"
}

# only_under DESTDIR ROOT...: every file, link and empty folder under DESTDIR is under one of
# the ROOTs (paths as installed, without DESTDIR).
only_under() {
  local destdir=$1
  shift
  local outside
  outside=$(cd "$destdir" && find . \( -type f -o -type l -o -type d -empty \) -printf '/%P\n' |
    while read -r path; do
      inside=""
      for root in "$@"; do
        case "$path" in "$root"/*) inside=yes ;; esac
      done
      [ -n "$inside" ] || echo "$path"
    done)
  [ -z "$outside" ] || fail "installed outside $*: $outside"
}

# expect DESTDIR PATH...: each PATH (as installed) is there.
expect() {
  local destdir=$1
  shift
  for path in "$@"; do
    [ -e "$destdir$path" ] || fail "$path is not installed"
  done
}

# unit_names FILE BINDIR CONFDIR: the unit runs BINDIR's binary with CONFDIR's config.
unit_names() {
  local unit=$1 bindir=$2 confdir=$3
  grep -qx "ExecStart=$bindir/broadcastd --config $confdir/broadcastd.yaml" "$unit" ||
    fail "ExecStart of $unit is not $bindir/broadcastd with $confdir: $(grep ^ExecStart "$unit")"
  grep -qx "ExecStartPre=$bindir/broadcastd --check-config --config $confdir/broadcastd.yaml" \
    "$unit" || fail "ExecStartPre of $unit does not name $bindir and $confdir"
  grep -qx "LoadCredential=broadcastd:$confdir/credentials" "$unit" ||
    fail "LoadCredential of $unit does not name $confdir"
}

echo "== --prefix P"
destdir=$scratch/destdir
prefix=$scratch/prefix
install_into "$destdir" "$prefix"
only_under "$destdir" "$prefix"
expect "$destdir" "$prefix/bin/broadcastd" "$prefix/libexec/broadcastd/easemob-sim" \
  "$prefix/etc/broadcastd/broadcastd.yaml" "$prefix/etc/broadcastd/campaigns" \
  "$prefix/share/doc/broadcastd/README.md" "$prefix/share/broadcastd/campaign.schema.json" \
  "$prefix/lib/systemd/system/broadcastd.service"
[ "$(stat -c %a "$destdir$prefix/etc/broadcastd/credentials")" = 700 ] ||
  fail "$prefix/etc/broadcastd/credentials is not 700"
unit_names "$destdir$prefix/lib/systemd/system/broadcastd.service" "$prefix/bin" \
  "$prefix/etc/broadcastd"
grep -qx "Documentation=file://$prefix/share/doc/broadcastd/README.md" \
  "$destdir$prefix/lib/systemd/system/broadcastd.service" ||
  fail "the unit's Documentation does not name $prefix"
echo "every file under $prefix; ExecStart=$prefix/bin/broadcastd"

echo "== --prefix /usr (the package's layout)"
destdir=$scratch/usr
install_into "$destdir" /usr
only_under "$destdir" /usr /etc/broadcastd /lib/systemd/system
expect "$destdir" /usr/bin/broadcastd /usr/libexec/broadcastd/easemob-sim \
  /etc/broadcastd/broadcastd.yaml /etc/broadcastd/campaigns \
  /usr/share/doc/broadcastd/README.md /usr/share/broadcastd/campaign.schema.json \
  /usr/share/bash-completion/completions/broadcastd /lib/systemd/system/broadcastd.service \
  /usr/share/broadcastd/prometheus/broadcastd.rules.yml \
  /usr/share/broadcastd/prometheus/broadcastd-dashboard.json
[ "$(stat -c %a "$destdir/etc/broadcastd/credentials")" = 700 ] ||
  fail "/etc/broadcastd/credentials is not 700"
unit_names "$destdir/lib/systemd/system/broadcastd.service" /usr/bin /etc/broadcastd
echo "/usr, /etc/broadcastd and /lib/systemd/system; ExecStart=/usr/bin/broadcastd"
echo "install_test: all checks passed"
