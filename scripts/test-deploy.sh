#!/usr/bin/env bash
# Proves the dashboard, the rules and the Kubernetes manifests against real tools:
#   1. promtool check config/rules and promtool test rules (deploy/prometheus/);
#   2. the monitoring mixin (deploy/mixin): deploy/prometheus/rules.yml, the PrometheusRule in the
#      kustomize base and grafana/dashboards/smartproxy.json are what deploy/mixin/generate.sh
#      makes (--check), every alert's runbook_url names a section of docs/runbook.md, and a copy
#      with a hand-edited output fails the check; then the mixin generated with another selector
#      (job="edge-proxy") passes promtool check/test rules (rules.test.yml with its job rewritten)
#      and the dashboard test of step 5 with Prometheus scraping job "edge-proxy";
#   3. `kubectl kustomize` renders deploy/kubernetes and deploy/kubernetes/podmonitor (Debian 12's
#      kubectl from the package kubernetes-client, unpacked into a cache if not installed), and
#      every rendered object validates against the Kubernetes and prometheus-operator schemas
#      (npm: kubernetes-models, @kubernetes-models/prometheus-operator);
#   3b. deploy/kubernetes/sidecar/{container,native} render against the sample Deployment in
#      deploy/kubernetes/test/my-smartproxy and pass test/check-sidecar.mjs and the schemas; copies
#      with a wrong Deployment or proxy container name fail;
#   4. the systemd unit in deploy/systemd/, offline: `systemd-analyze verify` is clean (also for
#      the socket-activation pair: smartproxy-exporter.socket and the service's drop-in),
#      `systemd-analyze security --offline` rates it at most 1.5, and the sysusers.d file applies
#      (skipped only when systemd-analyze is not installed);
#   5. the dashboard test: grafana/test/dashboard_lint.py (Grafana's dashboard-linter rules),
#      then proxy-sim + exporter + a real Prometheus scraping every second; every panel query
#      must parse and return series, every recorded series must exist;
#   6. deploy/kubernetes/grafana renders the ConfigMap labelled grafana_dashboard: "1" that holds
#      grafana/dashboards/smartproxy.json unchanged.
# Needs a build in $BUILD_DIR (default build) with smartproxy_exporter and proxy-sim, and jsonnet.
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

# The committed outputs of the mixin are what it generates; generate.sh --check prints the diff.
# Each alert's runbook_url ends in #<alert name in lower case>, the GitHub anchor of its "## <alert>"
# section in docs/runbook.md.
mixin_outputs_up_to_date() {
  deploy/mixin/generate.sh --check || return 1
  local alerts anchors headings missing
  alerts=$(sed -n 's/^ *- alert: "\(.*\)"$/\1/p' deploy/prometheus/rules.yml)
  anchors=$(sed -n 's/^ *runbook_url: "https:[^"#]*#\(.*\)"$/\1/p' deploy/prometheus/rules.yml)
  headings=$(sed -n 's/^## \(SmartProxy[A-Za-z]*\)$/\1/p' docs/runbook.md | tr '[:upper:]' '[:lower:]')
  [[ -n $alerts && $(tr '[:upper:]' '[:lower:]' <<<"$alerts") == "$anchors" ]] ||
    { echo "runbook_url anchors ($anchors) are not the alerts ($alerts) in lower case"; return 1; }
  missing=$(comm -23 <(sort <<<"$anchors") <(sort <<<"$headings"))
  [[ -z $missing ]] || { echo "no section in docs/runbook.md for: $missing"; return 1; }
  echo "ok   $(wc -l <<<"$anchors") alerts, each runbook_url names its section of docs/runbook.md"
}

# The check can fail: on a copy of the outputs with one hand edit in each (another job in one
# selector), --check must fail and name each file.
mixin_check_catches_hand_edit() {
  local copy="$work/mixin-copy" file
  local files=(deploy/prometheus/rules.yml deploy/kubernetes/base/prometheusrule.yaml
    grafana/dashboards/smartproxy.json)
  for file in "${files[@]}"; do
    mkdir -p "$copy/$(dirname "$file")"
    sed '0,/job=\(\\\{0,1\}\)"smartproxy\1"/s//job=\1"edge-proxy\1"/' "$file" >"$copy/$file"
    cmp -s "$file" "$copy/$file" && { echo "the hand edit did not change $file"; return 1; }
  done
  local status=0
  deploy/mixin/generate.sh --check --out "$copy" >"$work/check.out" 2>&1 || status=$?
  grep -E '^[-+][^-+]|^STALE' "$work/check.out" | sed 's/^/  /'
  ((status == 1)) || { cat "$work/check.out"; echo "generate.sh --check: status $status, not 1"; return 1; }
  for file in "${files[@]}"; do
    grep -q "^STALE $file:" "$work/check.out" ||
      { echo "generate.sh --check did not catch the hand edit of $file"; return 1; }
  done
  echo "generate.sh --check catches a hand edit of each output"
}

# The mixin with another selector: generated into $edge_proxy, checked by promtool and by
# rules.test.yml with the job rewritten; no output may still select job="smartproxy". The
# dashboard test runs on the same files later.
edge_proxy="$work/edge-proxy"
mixin_edge_proxy_rules() {
  local dir=$edge_proxy
  mkdir -p "$dir"
  cat >"$work/edge-proxy.jsonnet" <<'JSONNET'
(import 'mixin.libsonnet') + { _config+:: { smartproxySelector: 'job="edge-proxy"' } }
JSONNET
  deploy/mixin/generate.sh --mixin "$work/edge-proxy.jsonnet" --out "$dir" || return 1
  if grep -n 'job=\\\{0,1\}"smartproxy' -r "$dir"; then
    echo "the outputs for job=\"edge-proxy\" still select job=\"smartproxy\""; return 1
  fi
  grep -q 'label_values(smartproxy_up{job=\\"edge-proxy\\"}, job)' \
    "$dir/grafana/dashboards/smartproxy.json" ||
    { echo "the dashboard's \$job variable does not query the selector"; return 1; }
  sed -e 's/job="smartproxy"/job="edge-proxy"/g' -e 's/job: smartproxy$/job: edge-proxy/' \
    -e 's/(job smartproxy)/(job edge-proxy)/g' deploy/prometheus/rules.test.yml \
    >"$dir/deploy/prometheus/rules.test.yml"
  if grep -n '^[^#]*\(smartproxy"\|job: smartproxy\|job smartproxy\)' \
    "$dir/deploy/prometheus/rules.test.yml"; then
    echo "rules.test.yml: the job above was not rewritten"; return 1
  fi
  promtool check rules "$dir/deploy/prometheus/rules.yml" &&
    promtool test rules "$dir/deploy/prometheus/rules.test.yml"
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

# Sets the array `renderers`: Debian's kubectl, then a newer kubectl on PATH (kustomize v5) when
# there is one.
kubectl_renderers() {
  local kubectl
  kubectl=$(debian_kubectl) || { echo "cannot get Debian's kubernetes-client"; return 1; }
  renderers=("$kubectl")
  local other
  other=$(command -v kubectl || true)
  if [[ -n $other && $(readlink -f "$other") != $(readlink -f "$kubectl") ]] &&
    "$other" kustomize --help >/dev/null 2>&1; then
    renderers+=("$other")
  fi
}

npm_ci_kubernetes_test() {
  (cd deploy/kubernetes/test && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
    { echo "npm ci failed in deploy/kubernetes/test"; return 1; }
}

render_and_validate() {
  local renderers
  kubectl_renderers || return 1
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
  npm_ci_kubernetes_test || return 1
  node deploy/kubernetes/test/validate.mjs "${files[@]}"
}

# deploy/kubernetes/sidecar/{container,native} inject the exporter into the sample operator
# Deployment deploy/kubernetes/test/my-smartproxy (its proxy container is "smartproxy"). Each
# renderer renders both; check-sidecar.mjs checks the result against the rendered base (same
# exporter container; in containers, or in initContainers with restartPolicy Always; the socket
# emptyDir mounted in the exporter and the proxy container; port, probes, fsGroup, PodMonitor
# selection) and every object is schema-validated as for the base.
sidecar_render_and_check() {
  local renderers
  kubectl_renderers || return 1
  # render_and_validate ran npm ci already; this step on its own needs it once.
  [[ -d deploy/kubernetes/test/node_modules/yaml ]] || npm_ci_kubernetes_test || return 1
  local files=() i=0 renderer variant out
  for renderer in "${renderers[@]}"; do
    echo "kubectl: $renderer"
    "$renderer" kustomize deploy/kubernetes >"$work/sidecar-base.yaml" 2>"$work/kustomize.err" ||
      { cat "$work/kustomize.err"; echo "kubectl kustomize deploy/kubernetes failed"; return 1; }
    for variant in container native; do
      i=$((i + 1))
      out="$work/sidecar-$variant-$i.yaml"
      "$renderer" kustomize "deploy/kubernetes/sidecar/$variant" >"$out" 2>"$work/kustomize.err" ||
        { cat "$work/kustomize.err"; echo "kubectl kustomize deploy/kubernetes/sidecar/$variant failed"
          return 1; }
      node deploy/kubernetes/test/check-sidecar.mjs "$work/sidecar-base.yaml" "$out" "$variant" \
        my-smartproxy smartproxy || return 1
      files+=("$out")
    done
  done
  node deploy/kubernetes/test/validate.mjs "${files[@]}"
}

# The sidecar checks catch a wrong edit: on a copy of the overlays, a patch whose Deployment name
# matches nothing must fail to render, and one whose proxy container name matches nothing (kustomize
# then adds a container with no image and the proxy gets no socket) must fail check-sidecar.mjs.
sidecar_wrong_names_fail() {
  local renderers
  kubectl_renderers || return 1
  local copy="$work/sidecar-copy" renderer variant
  mkdir -p "$copy/test"
  cp -r deploy/kubernetes/sidecar "$copy/" &&
    cp -r deploy/kubernetes/test/my-smartproxy "$copy/test/" || return 1
  "${renderers[0]}" kustomize deploy/kubernetes >"$work/sidecar-base.yaml" || return 1
  for renderer in "${renderers[@]}"; do
    for variant in container native; do
      local patch="$copy/sidecar/$variant/exporter-sidecar.yaml"
      cp "deploy/kubernetes/sidecar/$variant/exporter-sidecar.yaml" "$patch"
      sed -i 's/^  name: my-smartproxy /  name: other-deployment /' "$patch"
      if "$renderer" kustomize "$copy/sidecar/$variant" >/dev/null 2>"$work/kustomize.err"; then
        echo "$renderer: $variant with a wrong Deployment name rendered"; return 1
      fi
      echo "$variant, wrong Deployment name: kustomize fails:"
      grep -v '^# Warning' "$work/kustomize.err" | head -1 | sed 's/^/  /'
      grep -q 'other-deployment' "$work/kustomize.err" ||
        { echo "$renderer: $variant failed, but not for the Deployment name"; return 1; }
      cp "deploy/kubernetes/sidecar/$variant/exporter-sidecar.yaml" "$patch"
      sed -i 's/^        - name: smartproxy /        - name: proxy /' "$patch"
      "$renderer" kustomize "$copy/sidecar/$variant" >"$work/wrong-proxy.yaml" \
        2>"$work/kustomize.err" ||
        { cat "$work/kustomize.err"; echo "$variant, wrong proxy container name: did not render"
          return 1; }
      local status=0
      node deploy/kubernetes/test/check-sidecar.mjs "$work/sidecar-base.yaml" "$work/wrong-proxy.yaml" \
        "$variant" my-smartproxy smartproxy >"$work/check.out" 2>&1 || status=$?
      echo "$variant, wrong proxy container name: check-sidecar.mjs fails"
      sed 's/^/  /' "$work/check.out"
      # Failing for the right reason, not because node could not run the check.
      ((status == 1)) && grep -q 'FAIL .*: container proxy has an image' "$work/check.out" ||
        { echo "$renderer: $variant, wrong proxy container name: not caught by check-sidecar.mjs"
          return 1; }
    done
  done
  echo "wrong names are caught"
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
  # Socket activation: the .socket unit and the service with its drop-in (which verify reads
  # from the unit's directory), clean as a pair; the drop-in must run --web.systemd-socket, and a
  # bad key in it must be seen (or the drop-in is not what verify read).
  local dropin=smartproxy-exporter.service.d/socket-activation.conf
  mkdir -p "$work/systemd/smartproxy-exporter.service.d"
  cp deploy/systemd/smartproxy-exporter.socket "$work/systemd/"
  sed "s|/usr/local/bin/smartproxy_exporter|$exporter|g" "deploy/systemd/$dropin" >"$work/systemd/$dropin"
  grep -q -- '--web.systemd-socket$' "$work/systemd/$dropin" ||
    { echo "deploy/systemd/$dropin does not pass --web.systemd-socket"; return 1; }
  out=$(systemd-analyze verify "$work/systemd/smartproxy-exporter.socket" "$work/systemd/$unit" 2>&1) &&
    [[ -z $out ]] || { echo "$out"; echo "systemd-analyze verify of the socket unit pair: not clean"; return 1; }
  echo "Bogus=1" >>"$work/systemd/$dropin"
  out=$(systemd-analyze verify "$work/systemd/$unit" 2>&1)
  [[ $out == *"Unknown key 'Bogus'"* ]] ||
    { echo "systemd-analyze verify did not read the drop-in $dropin"; return 1; }
  rm -r "$work/systemd/smartproxy-exporter.service.d" "$work/systemd/smartproxy-exporter.socket"
  echo "systemd-analyze verify of smartproxy-exporter.socket + the service with its drop-in: clean"
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

# dashboard_test [DIR JOB]: the dashboard and rules under DIR (default: the repository's), with
# Prometheus scraping the exporter as job JOB (default smartproxy).
dashboard_test() {
  local dir=${1:-.} job=${2:-smartproxy}
  local exporter="$build_dir/exporter/smartproxy_exporter"
  local proxy_sim="$build_dir/tools/proxy_sim/proxy-sim"
  for binary in "$exporter" "$proxy_sim"; do
    [[ -x $binary ]] || { echo "missing $binary: build first (BUILD_DIR=$build_dir)"; return 1; }
  done
  [[ -f $dir/grafana/dashboards/smartproxy.json && -f $dir/deploy/prometheus/rules.yml ]] ||
    { echo "no dashboard and rules under $dir"; return 1; }
  python3 grafana/test/dashboard_test.py --exporter "$exporter" --proxy-sim "$proxy_sim" \
    --dashboard "$dir/grafana/dashboards/smartproxy.json" --rules "$dir/deploy/prometheus/rules.yml" \
    --job "$job"
}

for tool in promtool prometheus node npm python3 dpkg-deb jsonnet jsonnetfmt; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run ./scripts/setup.sh"; exit 1; }
done

step "promtool check and test rules" promtool_rules
step "mixin: rules.yml, PrometheusRule and dashboard are its outputs; runbook_url anchors" \
  mixin_outputs_up_to_date
step "mixin: a hand edit of an output fails generate.sh --check" mixin_check_catches_hand_edit
step "mixin with selector job=\"edge-proxy\": promtool check and test rules" mixin_edge_proxy_rules
step "kustomize render + Kubernetes/prometheus-operator schema validation" render_and_validate
step "sidecar overlays on a sample Deployment: render, check, schema" sidecar_render_and_check
step "sidecar overlays: a wrong Deployment or proxy container name fails" sidecar_wrong_names_fail
step "systemd unit: systemd-analyze verify and security, sysusers.d" systemd_unit
step "dashboard queries and recording rules against a real Prometheus" dashboard_test
step "the same for the mixin with job=\"edge-proxy\" (Prometheus job edge-proxy)" \
  dashboard_test "$edge_proxy" edge-proxy

# ---- Grafana dashboard ConfigMap (deploy/kubernetes/grafana) ----------------------------------
# Rendered by Debian's kubectl (kustomize v2.0.3) and a newer one on PATH if any; the ConfigMap
# must carry grafana_dashboard: "1" (what kube-prometheus-stack's sidecar selects) and its key
# smartproxy.json must hold grafana/dashboards/smartproxy.json byte for byte; then the schema check.
grafana_dashboard_configmap() {
  local kubectl
  kubectl=$(debian_kubectl) || { echo "cannot get Debian's kubernetes-client"; return 1; }
  local renderers=("$kubectl") other
  other=$(command -v kubectl || true)
  if [[ -n $other && $(readlink -f "$other") != $(readlink -f "$kubectl") ]] &&
    "$other" kustomize --help >/dev/null 2>&1; then
    renderers+=("$other")
  fi
  [[ -d deploy/kubernetes/test/node_modules/yaml ]] ||
    (cd deploy/kubernetes/test && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
    { echo "npm ci failed in deploy/kubernetes/test"; return 1; }
  local files=() i=0 renderer out
  for renderer in "${renderers[@]}"; do
    i=$((i + 1))
    out="$work/grafana-$i.yaml"
    "$renderer" kustomize deploy/kubernetes/grafana >"$out" 2>"$work/kustomize.err" ||
      { cat "$work/kustomize.err"; echo "$renderer kustomize deploy/kubernetes/grafana failed"; return 1; }
    (cd deploy/kubernetes/test && node --input-type=module -e '
      import { readFileSync } from "node:fs";
      import { parseAllDocuments } from "yaml";
      const [file, dashboard] = process.argv.slice(1);
      const objects = parseAllDocuments(readFileSync(file, "utf8")).map((d) => d.toJS());
      const fail = (why) => { console.error(`FAIL ${file}: ${why}`); process.exit(1); };
      if (objects.length !== 1 || objects[0].kind !== "ConfigMap") fail("want exactly one ConfigMap");
      const { metadata, data } = objects[0];
      if (metadata.labels?.grafana_dashboard !== "1") fail("no label grafana_dashboard: \"1\"");
      if (Object.keys(data ?? {}).join() !== "smartproxy.json") fail("data keys are not [smartproxy.json]");
      if (data["smartproxy.json"] !== readFileSync(dashboard, "utf8")) {
        fail(`data["smartproxy.json"] differs from ${dashboard}`);
      }
      console.log(`ok   ${file}: ConfigMap/${metadata.name} labelled grafana_dashboard: "1", ` +
        `smartproxy.json identical to ${dashboard} (${data["smartproxy.json"].length} chars)`);
    ' "$out" "$root/grafana/dashboards/smartproxy.json") || return 1
    echo "rendered deploy/kubernetes/grafana with $renderer"
    files+=("$out")
  done
  node deploy/kubernetes/test/validate.mjs "${files[@]}"
}
step "Grafana dashboard ConfigMap: kustomize render, label, data identical, schema" \
  grafana_dashboard_configmap
# ---- end Grafana dashboard ConfigMap ----------------------------------------------------------

echo
if ((failed > 0)); then
  printf 'failed step: %s\n' "${failed_steps[@]}"
fi
echo "test-deploy: $passed passed, $failed failed$( ((skipped == 0)) || echo ", $skipped skipped")"
((failed == 0))
