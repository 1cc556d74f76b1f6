#!/usr/bin/env bash
# Proves the dashboard, the rules and the Kubernetes manifests against real tools:
#   1. promtool check config/rules and promtool test rules (deploy/prometheus/);
#   2. the PrometheusRule in the kustomize base is what deploy/kubernetes/gen-prometheusrule.sh
#      makes from deploy/prometheus/rules.yml;
#   3. `kubectl kustomize` renders deploy/kubernetes and deploy/kubernetes/podmonitor (Debian 12's
#      kubectl from the package kubernetes-client, unpacked into a cache if not installed), and
#      every rendered object validates against the Kubernetes and prometheus-operator schemas
#      (npm: kubernetes-models, @kubernetes-models/prometheus-operator);
#   4. the systemd unit in deploy/systemd/, offline: `systemd-analyze verify` is clean,
#      `systemd-analyze security --offline` rates it at most 1.5, and the sysusers.d file applies
#      (skipped only when systemd-analyze is not installed);
#   5. the dashboard test: proxy-sim + exporter + a real Prometheus scraping every second; every
#      panel query must parse and return series, every recorded series must exist.
# Needs a build in $BUILD_DIR (default build) with smartproxy_exporter and proxy-sim.
# Runs every step, prints "N passed, N failed" (and "N skipped" if any) and exits non-zero if any
# step failed.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build_dir=${BUILD_DIR:-build}
[[ $build_dir = /* ]] || build_dir="$root/$build_dir"

work=$(mktemp -d /tmp/test-deploy.XXXXXX)
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
skipped=0
failed_steps=()
# step NAME COMMAND...: runs one proof, records the result, never aborts the script. A command
# that returns 77 (the automake convention) was skipped: it printed why.
step() {
  local name=$1
  shift
  echo "== $name"
  local status=0
  "$@" || status=$?
  if ((status == 0)); then
    passed=$((passed + 1))
  elif ((status == 77)); then
    skipped=$((skipped + 1))
    echo "SKIPPED: $name"
  else
    failed=$((failed + 1))
    failed_steps+=("$name")
    echo "FAILED: $name"
  fi
}

promtool_rules() {
  promtool check config deploy/prometheus/prometheus.yml &&
    promtool check rules deploy/prometheus/rules.yml &&
    promtool test rules deploy/prometheus/rules.test.yml
}

prometheusrule_up_to_date() {
  deploy/kubernetes/gen-prometheusrule.sh "$work/prometheusrule.yaml" &&
    diff -u deploy/kubernetes/base/prometheusrule.yaml "$work/prometheusrule.yaml" &&
    echo "deploy/kubernetes/base/prometheusrule.yaml matches deploy/prometheus/rules.yml"
}

# Debian 12's kubectl (package kubernetes-client, kustomize v2.0.3 built in). Installed: used as
# is. Otherwise the .deb is fetched with apt-get download and unpacked into a cache, because
# installing it would replace another kubectl that may own /usr/bin/kubectl.
debian_kubectl() {
  if dpkg-query -W -f='${Status}' kubernetes-client 2>/dev/null | grep -q 'ok installed'; then
    echo /usr/bin/kubectl
    return
  fi
  local cache=deploy/kubernetes/test/.cache/kubernetes-client
  if [[ ! -x $cache/usr/bin/kubectl ]]; then
    mkdir -p "$cache"
    (cd "$work" && { apt-get download -qq kubernetes-client 2>/dev/null ||
      { apt-get update -qq >/dev/null && apt-get download -qq kubernetes-client; }; }) >&2 &&
      dpkg-deb -x "$work"/kubernetes-client_*.deb "$cache" || return 1
  fi
  echo "$root/$cache/usr/bin/kubectl"
}

render_and_validate() {
  local kubectl
  kubectl=$(debian_kubectl) || { echo "cannot get Debian's kubernetes-client"; return 1; }
  local renderers=("$kubectl")
  # A newer kubectl on PATH (kustomize v5) renders too, when there is one.
  local other
  other=$(command -v kubectl || true)
  if [[ -n $other && $(readlink -f "$other") != $(readlink -f "$kubectl") ]] &&
    "$other" kustomize --help >/dev/null 2>&1; then
    renderers+=("$other")
  fi
  local files=() i=0 renderer variant out
  for renderer in "${renderers[@]}"; do
    echo "kubectl: $renderer ($("$renderer" version --client 2>/dev/null | head -1))"
    for variant in deploy/kubernetes deploy/kubernetes/podmonitor; do
      i=$((i + 1))
      out="$work/rendered-$i.yaml"
      # kustomize v5 warns on stderr that `bases` is deprecated; v2.0.3 needs it for directories.
      "$renderer" kustomize "$variant" >"$out" 2>"$work/kustomize.err" ||
        { cat "$work/kustomize.err"; echo "kubectl kustomize $variant failed"; return 1; }
      local kind
      for kind in Deployment Service NetworkPolicy PrometheusRule \
        "$([[ $variant = */podmonitor ]] && echo PodMonitor || echo ServiceMonitor)"; do
        grep -q "^kind: $kind\$" "$out" || { echo "$variant: no $kind rendered"; return 1; }
      done
      echo "rendered $variant: $(grep -c '^kind:' "$out") objects"
      files+=("$out")
    done
  done
  (cd deploy/kubernetes/test && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
    { echo "npm ci failed in deploy/kubernetes/test"; return 1; }
  node deploy/kubernetes/test/validate.mjs "${files[@]}"
}

# deploy/systemd/, offline: no systemd runs here (nor need it). `systemd-analyze verify` refuses a
# unit whose ExecStart binary is missing, so it checks a copy that runs the fresh build; it exits 0
# on warnings such as an unknown key or a bad value, so any output fails. The security rating must
# stay at or below 1.5 (systemd 252 rates the unit 1.3): a lost hardening setting raises it.
systemd_unit() {
  if ! command -v systemd-analyze >/dev/null; then
    echo "systemd-analyze not found (Debian package systemd): the unit in deploy/systemd is NOT checked"
    return 77
  fi
  local exporter="$build_dir/exporter/smartproxy_exporter"
  [[ -x $exporter ]] || { echo "missing $exporter: build first (BUILD_DIR=$build_dir)"; return 1; }
  local unit=smartproxy-exporter.service
  mkdir -p "$work/systemd"
  sed "s|/usr/local/bin/smartproxy_exporter|$exporter|g" "deploy/systemd/$unit" >"$work/systemd/$unit"
  grep -q "^ExecStart=$exporter " "$work/systemd/$unit" ||
    { echo "ExecStart of deploy/systemd/$unit does not run /usr/local/bin/smartproxy_exporter"; return 1; }
  systemd-analyze --version | head -1
  local out
  out=$(systemd-analyze verify "$work/systemd/$unit" 2>&1) && [[ -z $out ]] ||
    { echo "$out"; echo "systemd-analyze verify deploy/systemd/$unit: not clean"; return 1; }
  echo "systemd-analyze verify: clean"
  # --threshold is on the internal 0-100 scale: 15 is an exposure of 1.5.
  systemd-analyze security --offline=true --threshold=15 --no-pager "$work/systemd/$unit" \
    >"$work/security.txt" 2>&1
  local security=$?
  grep -E '^✗|Overall exposure' "$work/security.txt" | sed 's/  */ /g'
  ((security == 0)) || { echo "systemd-analyze security: exposure above 1.5 (or an error)"; return 1; }
  # The sysusers.d file, applied to an empty root: creates the user and the socket's group.
  local root="$work/sysusers-root"
  mkdir -p "$root/etc/sysusers.d"
  cp deploy/systemd/smartproxy-exporter.sysusers "$root/etc/sysusers.d/smartproxy-exporter.conf"
  systemd-sysusers --root="$root" smartproxy-exporter.conf 2>&1 &&
    grep -q '^smartproxy-exporter:x:[0-9]*:[0-9]*:.*:/:/usr/sbin/nologin$' "$root/etc/passwd" &&
    grep -q '^smartproxy:x:[0-9]*:smartproxy-exporter$' "$root/etc/group" ||
    { echo "systemd-sysusers did not create smartproxy-exporter in group smartproxy"; return 1; }
}

dashboard_test() {
  local exporter="$build_dir/exporter/smartproxy_exporter"
  local proxy_sim="$build_dir/tools/proxy_sim/proxy-sim"
  for binary in "$exporter" "$proxy_sim"; do
    [[ -x $binary ]] || { echo "missing $binary: build first (BUILD_DIR=$build_dir)"; return 1; }
  done
  python3 grafana/test/dashboard_test.py --exporter "$exporter" --proxy-sim "$proxy_sim" \
    --dashboard grafana/dashboards/smartproxy.json --rules deploy/prometheus/rules.yml
}

for tool in promtool prometheus node npm python3 dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run ./scripts/setup.sh"; exit 1; }
done

step "promtool check and test rules" promtool_rules
step "PrometheusRule generated from rules.yml" prometheusrule_up_to_date
step "kustomize render + Kubernetes/prometheus-operator schema validation" render_and_validate
step "systemd unit: systemd-analyze verify and security, sysusers.d" systemd_unit
step "dashboard queries and recording rules against a real Prometheus" dashboard_test

echo
if ((failed > 0)); then
  printf 'failed step: %s\n' "${failed_steps[@]}"
fi
echo "test-deploy: $passed passed, $failed failed$( ((skipped == 0)) || echo ", $skipped skipped")"
((failed == 0))
