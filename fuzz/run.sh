#!/usr/bin/env bash
# Builds campaign_fuzzer in build-fuzz (clang 19, ASan + UBSan + libFuzzer) and
# runs it for N seconds (default 60), seeded with the sample campaigns and the
# test campaigns. Exits non-zero if the fuzzer finds a crash, leak or timeout;
# the reproducer is left in build-fuzz/ (crash-*, leak-*, timeout-*).
#   fuzz/run.sh [SECONDS]
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build-fuzz"

cmake -S "$root" -B "$build" -G Ninja -DBROADCASTD_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++-19 \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target campaign_fuzzer -j2

corpus="$build/corpus"
mkdir -p "$corpus"
cd "$build"
exec ./fuzz/campaign_fuzzer -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
  -max_len=8192 -dict="$root/fuzz/yaml.dict" -print_final_stats=1 \
  "$corpus" "$root/campaigns" "$root/tests/data/campaigns"
