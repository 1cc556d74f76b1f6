#!/usr/bin/env bash
# Runs every test: installs what is missing, builds (warnings are errors: SMARTPROXY_WERROR),
# lints (scripts/lint.sh: clang-format and clang-tidy), then
#   1. the C++ suites (doctest via ctest), including the integration tests against proxy-sim,
#      promtool and a real Prometheus server;
#   2. the SmartProxy adapter's tests (node --test), including the chain test through the
#      C++ exporter;
#   3. the dashboard, alert/recording rules and Kubernetes manifests against promtool, kubectl
#      kustomize, the Kubernetes and prometheus-operator schemas and a real Prometheus
#      (scripts/test-deploy.sh), then the fleet: 50 proxy-sims and exporters scraped by two
#      sharded Prometheus agents into VictoriaMetrics, rules evaluated by vmalert
#      (scripts/test-fleet.sh);
#   4. the C++ suites again under AddressSanitizer + UndefinedBehaviorSanitizer (LeakSanitizer on);
#   5. the concurrency tests under ThreadSanitizer (scripts/test-tsan.sh);
#   6. a bounded libFuzzer run of every fuzz target (scripts/fuzz.sh).
# Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

./scripts/setup.sh

echo "== build (RelWithDebInfo)"
BUILD_DIR=build ./scripts/build.sh -DSMARTPROXY_WERROR=ON

echo "== lint (scripts/lint.sh)"
./scripts/lint.sh

echo "== C++ tests"
ctest --test-dir build --output-on-failure -j2

echo "== adapter tests (node --test)"
SMARTPROXY_EXPORTER_BIN="$root/build/exporter/smartproxy_exporter" \
  node --test "$root/adapters/smartproxy/test/"

echo "== dashboard, rules and manifests (scripts/test-deploy.sh)"
BUILD_DIR=build ./scripts/test-deploy.sh

echo "== fleet: 50 exporters, two sharded Prometheus agents, VictoriaMetrics, vmalert (scripts/test-fleet.sh)"
BUILD_DIR=build ./scripts/test-fleet.sh

if [[ "${SKIP_SANITIZERS:-0}" != 1 ]]; then
  echo "== build with ASan + UBSan"
  BUILD_DIR=build-asan BUILD_TYPE=Debug ./scripts/build.sh -DSMARTPROXY_SANITIZE=ON -DSMARTPROXY_BUILD_BENCH=OFF \
    -DSMARTPROXY_WERROR=ON
  echo "== C++ tests under ASan + UBSan"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j2
  echo "== concurrency paths under ThreadSanitizer (scripts/test-tsan.sh)"
  ./scripts/test-tsan.sh
  echo "== fuzzing: each libFuzzer target for 60 s, regressions replayed (scripts/fuzz.sh)"
  ./scripts/fuzz.sh 60
fi

echo "test.sh: every suite passed"
