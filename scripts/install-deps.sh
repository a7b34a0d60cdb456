#!/usr/bin/env bash
# Installs every Debian package the build, the tests, the fuzzer and the demo need.
# Idempotent; run as root (or with sudo) on Debian 12.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl python3 clang-format
  universal-ctags
  libsqlite3-dev sqlite3 libsqlitecpp-dev
  libcurl4-openssl-dev
  libyaml-cpp-dev
  libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libvalijson-dev
  libcli11-dev
  libhowardhinnant-date-dev tzdata
  libsystemd-dev
  libcpp-httplib-dev libssl-dev
  prometheus chromium
  clang-19 libclang-rt-19-dev
  faketime
  # PostgreSQL: the client libraries, and the server the high-availability tests start
  libpq-dev postgresql
  # signed campaigns: ssh-keygen checks the signatures (and the tests make keys with it)
  openssh-client
  # the package (scripts/package-test.sh): man pages, CPack's dependency list,
  # systemd-analyze
  scdoc groff-base man-db bsdextrautils dpkg-dev systemd
  # the operator path under a real systemd (scripts/systemd-test.sh): a Debian root booted
  # in a container, entered with nsenter (util-linux), cached as a zstd tarball
  debootstrap systemd-container util-linux zstd
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
