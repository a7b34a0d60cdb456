#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs every check CI runs:
# formatting, the build with warnings as errors, the test suite, the sample
# campaigns through --check, the Debian package built from that same build,
# installed, checked and purged (scripts/package-test.sh), the suite again under
# AddressSanitizer and UndefinedBehaviorSanitizer, and the campaign loader's
# fuzzer for a while.
#   FUZZ_SECONDS=60  how long the fuzzer runs (0 skips it)
#   SKIP_SANITIZERS=1 skips the sanitizer build (quicker local runs)
#   SKIP_PACKAGE=1    skips the package test (it installs and purges a package)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=2

echo "== dependencies"
./scripts/install-deps.sh

echo "== format"
./scripts/check-format.sh

echo "== build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBROADCASTD_WERROR=ON \
  -DCMAKE_INSTALL_PREFIX=/usr
cmake --build build -j"$jobs"

echo "== tests"
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== sample campaigns"
./build/broadcastd --check --config config/samples.yaml

if [ "${SKIP_PACKAGE:-0}" != 1 ]; then
  echo "== Debian package"
  if [ "$(id -u)" -eq 0 ]; then
    ./scripts/package-test.sh build
  else
    sudo ./scripts/package-test.sh build
  fi
fi

if [ "${SKIP_SANITIZERS:-0}" != 1 ]; then
  echo "== tests under AddressSanitizer + UndefinedBehaviorSanitizer"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DBROADCASTD_WERROR=ON \
    -DBROADCASTD_SANITIZE=ON -DBROADCASTD_BENCH=OFF
  cmake --build build-asan -j"$jobs"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp" ctest --test-dir build-asan --output-on-failure -j"$jobs"
fi

if [ "${FUZZ_SECONDS:-60}" != 0 ]; then
  echo "== fuzzing the campaign loader for ${FUZZ_SECONDS:-60} s"
  ./fuzz/run.sh "${FUZZ_SECONDS:-60}"
fi
echo "== all checks passed"
