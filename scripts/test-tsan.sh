#!/usr/bin/env bash
# Builds with ThreadSanitizer into build-tsan/ (or $BUILD_DIR) and runs the concurrency tests
# under it (issue 6, "Sanitizers and soak"): many scrapes sharing one fetch, SIGHUP reload
# (also of the web config: TLS material and the bcrypt cache swapped under live connections)
# during scrapes, shutdown during a scrape. The exporter and proxy-sim started by the
# integration tests are TSan builds too; every report, from the tests or from a child process,
# goes to a file in $BUILD_DIR/tsan-reports/ and fails the run.
# Third-party frames only are suppressed, in tests/tsan.supp.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build_dir=${BUILD_DIR:-build-tsan}

BUILD_DIR="$build_dir" BUILD_TYPE=RelWithDebInfo ./scripts/build.sh \
  -DSMARTPROXY_TSAN=ON -DSMARTPROXY_SANITIZE=OFF -DSMARTPROXY_BUILD_BENCH=OFF -DSMARTPROXY_WERROR=ON

# The tests with threads or signals are in the doctest suite "concurrency", which becomes their
# ctest label (tests/CMakeLists.txt): `ctest -L concurrency` runs them.

reports="$root/$build_dir/tsan-reports"
rm -rf "$reports"
mkdir -p "$reports"
status=0
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tests/tsan.supp:log_path=$reports/report"
ctest --test-dir "$build_dir" -L concurrency --output-on-failure || status=$?

if compgen -G "$reports/report*" >/dev/null; then
  echo "test-tsan.sh: ThreadSanitizer reports:"
  for report in "$reports"/report*; do
    echo "== $report"
    cat "$report"
  done
  exit 1
fi
if [[ $status -ne 0 ]]; then
  echo "test-tsan.sh: tests failed (status $status)"
  exit "$status"
fi
echo "test-tsan.sh: no ThreadSanitizer report"
