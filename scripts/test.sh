#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs every check CI runs:
# formatting, the build with warnings as errors, the test suite, the sample
# campaigns through --check, the Debian package built from that same build,
# installed, checked and purged (scripts/package-test.sh), the suite again under
# AddressSanitizer and UndefinedBehaviorSanitizer, the suites that run threads under
# ThreadSanitizer, and the campaign loader's fuzzer for a while.
#   FUZZ_SECONDS=60  how long the fuzzer runs (0 skips it)
#   SKIP_SANITIZERS=1 skips the sanitizer build (quicker local runs)
#   SKIP_TSAN=1       skips the ThreadSanitizer build of the threaded suites
#   SKIP_PACKAGE=1    skips the package test (it installs and purges a package)
#   SKIP_SYSTEMD=1    skips the operator path under systemd in a container (scripts/systemd-test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=2

echo "== dependencies"
./scripts/install-deps.sh

echo "== format"
./scripts/check-format.sh

echo "== function length"
./scripts/check-function-length.sh

echo "== alerting rules (promtool test rules)"
promtool check rules monitoring/broadcastd.rules.yml
promtool test rules monitoring/broadcastd.rules.test.yml

echo "== build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBROADCASTD_WERROR=ON \
  -DCMAKE_INSTALL_PREFIX=/usr
cmake --build build -j"$jobs"

echo "== tests"
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== sample campaigns"
./build/broadcastd --check --config config/samples.yaml

echo "== alerting rules and dashboard against a real Prometheus"
./scripts/prometheus-check.sh build

if [ "${SKIP_PACKAGE:-0}" != 1 ]; then
  echo "== Debian package"
  if [ "$(id -u)" -eq 0 ]; then
    ./scripts/package-test.sh build
  else
    sudo ./scripts/package-test.sh build
  fi
fi

if [ "${SKIP_SYSTEMD:-0}" != 1 ]; then
  echo "== the operator path under systemd (a Debian 12 container, the package built above)"
  if [ "$(id -u)" -eq 0 ]; then
    ./scripts/systemd-test.sh build
  else
    sudo ./scripts/systemd-test.sh build
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

if [ "${SKIP_TSAN:-0}" != 1 ]; then
  # Three kinds of threads share state with the loop: the endpoints' senders and token
  # fetches (src/daemon/daemon.cc), the HTTP listener (src/daemon/http_listener.cc)
  # and the ingest checkers (src/ingest/campaign_ingester.cc). Only the suites that run
  # them are built and run, the real binary included for the end-to-end one (the e2e
  # ingest test's 800 files take longer than its waits allow under ThreadSanitizer; the
  # checkers' threads run in the ingest suites). tests/tsan.supp: third-party code only.
  echo "== threaded suites under ThreadSanitizer"
  tsan_suites='DaemonTest|EngineWorkersTest|HttpListenerTest|CampaignIngesterTest'
  tsan_suites+='|IngesterFolderTest|IngestScaleTest|ParallelCheckTest|EndpointWorkersE2ETest'
  cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBROADCASTD_WERROR=ON \
    -DBROADCASTD_TSAN=ON -DBROADCASTD_BENCH=OFF
  cmake --build build-tsan -j"$jobs" --target daemon_test http_listener_test ingest_test \
    endpoint_workers_e2e_test
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp" \
    ctest --test-dir build-tsan --output-on-failure -j"$jobs" -R "^($tsan_suites)\."
fi

if [ "${FUZZ_SECONDS:-60}" != 0 ]; then
  echo "== fuzzing the campaign loader for ${FUZZ_SECONDS:-60} s"
  ./fuzz/run.sh "${FUZZ_SECONDS:-60}"
fi
echo "== all checks passed"
