#!/usr/bin/env bash
# The main job: the exporter against a simulated SmartProxy, live, until Ctrl-C.
# Installs what is missing and builds first. Listens on :10190 (override: PORT=...).
# GENERATION=19.6|21.1|27 (default 27): the SmartProxy API generation proxy-sim emulates.
set -euo pipefail
cd "$(dirname "$0")/.."
generation=${GENERATION:-27}
case $generation in
  19.6 | 21.1 | 27) ;;
  *) echo "demo: GENERATION must be 19.6, 21.1 or 27, not '$generation'" >&2 && exit 2 ;;
esac

./scripts/setup.sh
BUILD_DIR=build ./scripts/build.sh

port=${PORT:-10190}
demo_dir=$(mktemp -d /tmp/smartproxy-demo.XXXXXX)
socket="$demo_dir/metrics.sock"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$demo_dir"
  echo "demo stopped"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

./build/tools/proxy_sim/proxy-sim --socket "$socket" --routes 12 --ips 5000 --seed 1 --wall-clock \
  --generation "$generation" &
pids+=($!)
for _ in $(seq 100); do [[ -S "$socket" ]] && break; sleep 0.1; done

./build/exporter/smartproxy_exporter --proxy.socket "$socket" --web.listen-address ":$port" &
pids+=($!)
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/-/ready" >/dev/null && break; sleep 0.1; done

cat <<TXT

  smartproxy_exporter is serving a simulated SmartProxy $generation (12 routes, 5000 client IPs;
  generation 27 adds 6 backends, 8 domains, protocols and UDP).

    landing page:  http://127.0.0.1:$port/
    metrics:       curl -s http://127.0.0.1:$port/metrics | grep -v '^#' | head -40
    the raw snapshot the exporter reads:
                   curl -s --unix-socket $socket 'http://localhost/v1/snapshot?ips=5'

  Values change with every scrape. Ctrl-C stops both processes.

TXT
wait
