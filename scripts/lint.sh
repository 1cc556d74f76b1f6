#!/usr/bin/env bash
# Lints our C++ sources (*.h, *.cc, *.cpp in page_memory/, exporter/, proxy_client/,
# tools/proxy_sim/, tests/, bench/, fuzz/) and exits non-zero on any finding, naming the file (and the check):
#   1. clang-format 14 with .clang-format: every file must be formatted (fix: clang-format -i FILE);
#   2. clang-tidy 14 with .clang-tidy on every .cc file that the compilation database
#      $BUILD_DIR/compile_commands.json (default build/, written by CMake) compiles, LINT_JOBS
#      (default 2) at a time. Files the database does not compile (fuzz/ unless that build was
#      configured with -DSMARTPROXY_FUZZ=ON) are listed as not checked.
#      A file found clean is remembered in $BUILD_DIR/lint-cache/ under a hash of everything its
#      result depends on here (the file, every header of ours, its compile command, .clang-tidy,
#      the clang-tidy version), so a run after a small change re-checks only what it touched; a
#      fresh build directory (CI) checks every file.
# Needs a configured build; installs nothing (scripts/setup.sh installs clang-format and
# clang-tidy).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build_dir=${BUILD_DIR:-build}
jobs=${LINT_JOBS:-2}
dirs=(page_memory exporter proxy_client tools/proxy_sim tests bench fuzz)

# Another major version formats and warns differently: both tools are pinned to 14 (Debian 12).
tool_14() {
  local tool
  tool=$(command -v "$1-14" || command -v "$1" || true)
  if [[ -z $tool ]]; then
    echo "lint: $1 not found: run scripts/setup.sh" >&2
    return 1
  fi
  if ! "$tool" --version | grep -q 'version 14\.'; then
    echo "lint: $1 14 expected, $tool is: $("$tool" --version | grep version)" >&2
    return 1
  fi
  echo "$tool"
}
clang_format=$(tool_14 clang-format)
clang_tidy=$(tool_14 clang-tidy)

# Build directories and hidden ones (caches) are not ours to lint.
mapfile -d '' sources < <(find "${dirs[@]}" -type d \( -name 'build*' -o -name '.*' \) -prune \
  -o -type f \( -name '*.h' -o -name '*.cc' -o -name '*.cpp' \) -print0 | sort -z)
status=0

unformatted=0
for file in "${sources[@]}"; do
  if ! out=$("$clang_format" --dry-run -Werror "$file" 2>&1); then
    places=$(grep -c -- '-Wclang-format-violations' <<<"$out" || true)
    first=$(grep -m 1 -o "^$file:[0-9]*" <<<"$out" || true)
    echo "lint: clang-format: ${first:-$file}: not formatted ($places places; fix: clang-format -i $file)"
    ((places > 0)) || echo "$out"
    unformatted=$((unformatted + 1))
  fi
done
echo "lint: clang-format: ${#sources[@]} files, $unformatted not formatted"
((unformatted == 0)) || status=1

database="$build_dir/compile_commands.json"
if [[ ! -f $database ]]; then
  echo "lint: $database not found: configure a build first (scripts/build.sh)" >&2
  exit 1
fi
# CMake writes one `"file": "/absolute/path"` line per compile command.
compiled=$(grep -o '"file": "[^"]*"' "$database" | sed 's/^"file": "//; s/"$//' | sort -u)
tidy_files=()
unchecked=()
for file in "${sources[@]}"; do
  [[ $file == *.cc ]] || continue
  if grep -qxF "$root/$file" <<<"$compiled"; then
    tidy_files+=("$file")
  else
    unchecked+=("$file")
  fi
done
if ((${#unchecked[@]} > 0)); then
  echo "lint: clang-tidy: not in $database, not checked: ${unchecked[*]}"
fi

cache="$build_dir/lint-cache"
mkdir -p "$cache"
# What every file's result shares: the checks, the tool, and every header of ours.
common=$({ "$clang_tidy" --version; cat .clang-tidy
           printf '%s\0' "${sources[@]}" | grep -z '\.h$' | xargs -0 cat; } | sha256sum | cut -c1-64)
to_check=()
declare -A key_of
for file in "${tidy_files[@]}"; do
  command_line=$(grep -F -B2 "\"file\": \"$root/$file\"" "$database" || true)
  key=$({ echo "$common"; echo "$command_line"; cat "$file"; } | sha256sum | cut -c1-64)
  key_of[$file]=$key
  [[ -e $cache/$key ]] || to_check+=("$file")
done

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
# One log per file, renamed *.failed when clang-tidy reports anything (WarningsAsErrors: '*').
# -Wno-error: a build configured with SMARTPROXY_WERROR would turn clang's own warnings (its
# -Wconversion is wider than GCC's) into errors no check filter hides; compiler warnings are the
# build's business (GCC, -Werror in scripts/test.sh), the checks in .clang-tidy are lint's.
((${#to_check[@]} == 0)) || printf '%s\0' "${to_check[@]}" | xargs -0 -n 1 -P "$jobs" sh -c '
  log="$1/$(printf %s "$4" | tr / _).log"
  "$2" -p "$3" --quiet --extra-arg=-Wno-error "$4" >"$log" 2>&1 || mv "$log" "$log.failed"' _ \
  "$logs" "$clang_tidy" "$build_dir" || true
failed=()
for log in "$logs"/*.failed; do
  [[ -e $log ]] || continue
  failed+=("$log")
done
for file in "${to_check[@]}"; do
  if [[ -e "$logs/$(printf %s "$file" | tr / _).log" ]]; then touch "$cache/${key_of[$file]}"; fi
done
if ((${#failed[@]} > 0)); then
  # A header's finding shows once however many files include it; a log without any finding
  # (a crash, a compile error without a location) is shown whole.
  for log in "${failed[@]}"; do
    grep -q -E ': (warning|error): ' "$log" || { echo "== $(basename "$log" .log.failed)"; cat "$log"; }
  done
  cat "${failed[@]}" | grep -E ': (warning|error): ' | sed "s|^$root/||" | sort -u |
    sed 's/^/lint: clang-tidy: /'
  status=1
fi
echo "lint: clang-tidy: ${#tidy_files[@]} files (${#to_check[@]} checked now, the others unchanged" \
  "since found clean), ${#failed[@]} with findings"
((status == 0)) && echo "lint: OK"
exit "$status"
