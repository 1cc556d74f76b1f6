#!/usr/bin/env bash
# Installs what the build and the tests need from Debian 12's packages, only what is missing.
# Safe to run again; runs as root (CI) or through sudo.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git curl ca-certificates patch
  prometheus-cpp-dev libcurl4-openssl-dev libsimdjson-dev libyaml-cpp-dev
  zlib1g-dev libisal-dev doctest-dev libbenchmark-dev
  libdeflate-dev      # compared with ISA-L and zlib in bench/compression_bench.cc
  dpkg-dev libssl-dev libcrypt-dev   # civetweb rebuilt from Debian's source (scripts/build-civetweb.sh); bcrypt
  openssl             # the tests make their own CA and certificates
  clang libclang-rt-14-dev      # libFuzzer and its sanitizer runtimes (scripts/fuzz.sh)
  clang-format clang-tidy       # version 14, pinned by scripts/lint.sh
  prometheus          # promtool and the real server: the tests' judge of our output
  python3-prometheus-client   # a strict OpenMetrics parser, a second judge of /metrics
  victoria-metrics    # vmagent (a second real scraper), the remote-write store and vmalert (fleet test)
  jsonnet             # generates the monitoring mixin's rules and dashboard (deploy/mixin)
  wrk                 # load through the Node proxy in the adapter's overhead benchmark
  nodejs              # runs the adapter's tests (Node 20 is usually already present)
)

missing=()
for package in "${packages[@]}"; do
  if [[ "$package" == nodejs ]] && command -v node >/dev/null 2>&1; then continue; fi
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The Debian prometheus package starts a system server on :9090; the tests start their own on
# free ports and must not depend on (or be confused by) it.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
  systemctl stop prometheus || true
fi
"$(dirname "$0")/build-civetweb.sh"
echo "setup: all build and test dependencies present"
