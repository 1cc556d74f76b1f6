#!/usr/bin/env bash
# The fleet test (docs/fleet.md): 50 proxy-sims and 50 exporters on loopback, two Prometheus
# agents (deploy/fleet/prometheus-agent.yml.tmpl, hashmod shards 0 and 1, scraping every 2 s)
# remote-writing into VictoriaMetrics, vmalert evaluating deploy/prometheus/rules.yml against it.
# Asserts sharding (each target in exactly one shard, no series under both), every recording
# rule and every dashboard query answered by the store, the store's sum of active connections
# equal to the sims' sum at the same step, and up == 0 for a stopped exporter only
# (tests/fleet/fleet_test.py says how). About a minute (45-60 s). Every process it starts is stopped
# and its temp dir removed, also on failure or Ctrl-C.
# Needs a build in $BUILD_DIR (default build) with smartproxy_exporter and proxy-sim, and the
# Debian packages prometheus and victoria-metrics (./scripts/setup.sh). FLEET_TARGETS changes the
# fleet's size (default 50); FLEET_KEEP=1 keeps the temp dir with every process' log.
# Exits non-zero if any assertion failed; each failure is printed with FAIL.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build_dir=${BUILD_DIR:-build}
[[ $build_dir = /* ]] || build_dir="$root/$build_dir"

exporter="$build_dir/exporter/smartproxy_exporter"
proxy_sim="$build_dir/tools/proxy_sim/proxy-sim"
for binary in "$exporter" "$proxy_sim"; do
  [[ -x $binary ]] || { echo "missing $binary: build first (BUILD_DIR=$build_dir)"; exit 1; }
done
for tool in prometheus promtool victoria-metrics vmalert; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run ./scripts/setup.sh"; exit 1; }
done

# The Debian packages' own servers are not used (the test starts its own on free ports); stop
# them as scripts/setup.sh does for prometheus, so that they cannot be mistaken for ours.
if command -v systemctl >/dev/null 2>&1; then
  for unit in prometheus victoria-metrics; do
    if systemctl is-active --quiet "$unit" 2>/dev/null; then systemctl stop "$unit" || true; fi
  done
fi

# Debian's python3 (stdlib only), not a pyenv one first on PATH. The test runs in the
# background so that this trap can stop it (it stops its children itself; they also get SIGKILL
# if it dies).
pid=
trap '[[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null; [[ -n $pid ]] && wait "$pid" 2>/dev/null' EXIT
trap 'exit 130' INT TERM
keep=()
[[ ${FLEET_KEEP:-0} = 1 ]] && keep=(--keep)
/usr/bin/python3 tests/fleet/fleet_test.py --exporter "$exporter" --proxy-sim "$proxy_sim" \
  --targets "${FLEET_TARGETS:-50}" "${keep[@]}" &
pid=$!
status=0
wait "$pid" || status=$?
pid=
exit "$status"
