#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang, ASan and UBSan into build-fuzz/ (or
# $FUZZ_BUILD_DIR) and runs each for SECONDS (default 60) on a temporary copy of its seed corpus
# in fuzz/corpus/<target>/, after replaying fuzz/regressions/<target>/. Prints exec/s per target.
# Crashing inputs are kept in <build dir>/artifacts/<target>/. Exits non-zero on any crash.
# Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-60}
build_dir=${FUZZ_BUILD_DIR:-build-fuzz}
targets=(fuzz_snapshot_parser fuzz_config fuzz_conversion fuzz_web_config)

CC=clang CXX=clang++ cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSMARTPROXY_FUZZ=ON -DSMARTPROXY_BUILD_TESTS=OFF -DSMARTPROXY_BUILD_BENCH=OFF \
  -DSMARTPROXY_WERROR=ON >/dev/null

work_dir=$(mktemp -d)
trap 'rm -rf "$work_dir"' EXIT
# ninja reports compile errors on stdout: show them when the build fails.
if ! ninja -C "$build_dir" "${targets[@]}" >"$work_dir/build.log" 2>&1; then
  tail -n 40 "$work_dir/build.log" >&2
  echo "fuzz: build failed" >&2
  exit 1
fi
failed=()
summary=()
for target in "${targets[@]}"; do
  binary="$build_dir/fuzz/$target"
  artifacts="$build_dir/artifacts/$target"
  mkdir -p "$artifacts" "$work_dir/$target"
  log="$work_dir/$target.log"

  shopt -s nullglob
  regressions=(fuzz/regressions/"$target"/*)
  shopt -u nullglob
  # Each known crash or hang is replayed alone, so one cannot hide another.
  for input in "${regressions[@]}"; do
    if ! "$binary" -timeout=10 "$input" >"$log" 2>&1; then
      echo "$target: regression input $input still fails:" >&2
      grep -E "ERROR|SUMMARY|invalid exposition" "$log" | tail -n 5 >&2 || true
      failed+=("$target (regression $(basename "$input"))")
    fi
  done

  # A copy, so new inputs libFuzzer finds never grow the committed corpus.
  cp -r "fuzz/corpus/$target/." "$work_dir/$target/"
  status=0
  "$binary" -max_total_time="$duration" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$work_dir/$target" >"$log" 2>&1 || status=$?
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  summary+=("$(printf '%-22s %10s exec/s %12s executions' "$target" "${rate:-?}" "${executions:-?}")")
  if ((status != 0)); then
    echo "$target: crashed (exit $status); input kept in $artifacts/" >&2
    grep -E -A 30 "ERROR|invalid exposition|deadly signal|uncaught" "$log" | head -n 60 >&2 || true
    failed+=("$target")
  fi
done

printf '%s\n' "${summary[@]}"
if ((${#failed[@]} > 0)); then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: OK, ${duration}s per target, no crash"
