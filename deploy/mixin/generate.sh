#!/usr/bin/env bash
# Writes the outputs of the monitoring mixin (deploy/mixin) from its jsonnet sources:
#   deploy/prometheus/rules.yml                  recording rules and alerts
#   deploy/kubernetes/base/prometheusrule.yaml   the same as a prometheus-operator PrometheusRule
#   grafana/dashboards/smartproxy.json           the dashboard
# Usage: deploy/mixin/generate.sh [--check] [--mixin FILE] [--out DIR]
#   --mixin FILE  a jsonnet file that evaluates to the mixin, e.g. one that imports
#                 'mixin.libsonnet' and overrides _config (imports resolve against deploy/mixin);
#                 default deploy/mixin/mixin.libsonnet
#   --out DIR     write the files under DIR, at the same relative paths (default: the repository)
#   --check       write nothing: generate into a temp dir and compare with the files under --out;
#                 print a diff and exit 1 if any differs, also if a jsonnet source is not formatted
#                 as jsonnetfmt formats it
# Needs jsonnet and jsonnetfmt (Debian package jsonnet; scripts/setup.sh installs it).
set -euo pipefail
mixin_dir=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$mixin_dir/../.." && pwd)

mixin=$mixin_dir/mixin.libsonnet
out=$root
check=false
while (($# > 0)); do
  case $1 in
    --check) check=true ;;
    --mixin) mixin=$(realpath "${2:?--mixin needs a file}"); shift ;;
    --out) out=$(realpath -m "${2:?--out needs a directory}"); shift ;;
    -h | --help) sed -n '2,15s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "generate.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
for tool in jsonnet jsonnetfmt; do
  command -v "$tool" >/dev/null ||
    { echo "generate.sh: $tool not found (Debian package jsonnet: run ./scripts/setup.sh)" >&2; exit 1; }
done

# evaluate EXPR [JSONNET OPTION...]: EXPR applied to outputs.jsonnet's result for the mixin.
evaluate() {
  local expr=$1
  shift
  jsonnet -J "$mixin_dir" --tla-code-file mixin="$mixin" "$@" \
    -e "function(mixin) local outputs = (import 'outputs.jsonnet')(mixin); $expr"
}

# generate DIR: writes every output under DIR and prints their paths, relative to DIR.
generate() {
  local dir=$1 files file
  files=$(evaluate 'std.lines(std.objectFields(outputs.text) + std.objectFields(outputs.json))' -S) ||
    return 1
  # jsonnet -m does not create directories.
  for file in $files; do
    mkdir -p "$dir/$(dirname "$file")"
  done
  # YAML with its keys quoted ("groups":): unquote the plain ones, as quote_keys=false would.
  for file in $(evaluate outputs.text -S -m "$dir"); do
    case $file in
      *.yml | *.yaml) sed -i 's/^\( *\(- \)\{0,1\}\)"\([A-Za-z_][A-Za-z0-9_]*\)":/\1\3:/' "$file" || return 1 ;;
    esac
  done
  # jsonnet writes JSON indented by 3 with "[ ]" and "{ }" for empty ones: indent by 2, "[]", "{}".
  for file in $(evaluate outputs.json -m "$dir"); do
    awk '{
      match($0, /^ */)
      indent = ""
      while (length(indent) < RLENGTH / 3 * 2) indent = indent " "
      line = indent substr($0, RLENGTH + 1)
      sub(/\[ \],?$/, "[]&", line); sub(/\[\]\[ \]/, "[]", line)
      sub(/\{ \},?$/, "{}&", line); sub(/\{\}\{ \}/, "{}", line)
      print line
    }' "$file" >"$file.tmp" && mv "$file.tmp" "$file" || return 1
  done
  echo "$files"
}

if ! $check; then
  files=$(generate "$out")
  for file in $files; do
    echo "wrote $out/$file"
  done
  exit 0
fi

tmp=$(mktemp -d /tmp/mixin-check.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
files=$(generate "$tmp")
stale=0
for file in $files; do
  if diff -u --label "$out/$file (committed)" --label "$file (generated)" "$out/$file" "$tmp/$file" \
    >"$tmp/diff" 2>&1; then
    echo "ok   $file is what the mixin generates"
  else
    stale=1
    head -n 100 "$tmp/diff"
    (($(wc -l <"$tmp/diff") <= 100)) || echo "... ($(($(wc -l <"$tmp/diff") - 100)) more diff lines)"
    echo "STALE $file: differs from what the mixin generates (run deploy/mixin/generate.sh)"
  fi
done
for file in $(cd "$mixin_dir" && find . -name '*.libsonnet' -o -name '*.jsonnet' | sort); do
  if ! jsonnetfmt --test "$mixin_dir/$file"; then
    stale=1
    echo "NOT FORMATTED deploy/mixin/${file#./}: run jsonnetfmt -i on it"
  fi
done
((stale == 1)) || echo "ok   the mixin's jsonnet sources are formatted as jsonnetfmt formats them"
exit $stale
