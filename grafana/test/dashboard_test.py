#!/usr/bin/env python3
"""The dashboard and recording-rule test against a real Prometheus.

First, on the JSON alone: the rules of Grafana's dashboard linter (dashboard_lint.py; each
failure names the rule and the panel), and a self-test that breaking the dashboard once per rule
makes that rule fail. Then starts proxy-sim (--wall-clock), smartproxy_exporter and a Prometheus
server that scrapes the exporter every second as job --job (default smartproxy: the job the mixin
in deploy/mixin selects by default) and loads the rules (deploy/prometheus/rules.yml); waits for a
few scrapes; then
  1. resolves every template variable of the dashboard through the label-values API (each must
     have at least one value),
  2. runs every PromQL expression of every panel twice, through /api/v1/query: once with every
     real value selected (a multi-value variable interpolated as Grafana does, a regex-escaped
     (a|b)), once with "All" (its allValue, .+), and $__rate_interval etc. as concrete durations:
     each must parse and return at least one series,
  3. checks that every rule of rules.yml is loaded, healthy, and that every recorded series exists.
Every started process is stopped and the temp dir removed, also on failure. Standard library only.

A dashboard and rules generated for another selector (deploy/mixin/generate.sh with
smartproxySelector 'job="edge-proxy"') pass with --job edge-proxy, and fail with the default job:
the $job variable and the recording rules then select nothing.

Usage: dashboard_test.py --exporter BIN --proxy-sim BIN --dashboard JSON --rules YML [--job NAME]
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dashboard_lint  # noqa: E402  (the static rules; next to this file)

# Grafana's built-in interval variables, as Grafana would set them for a 1 s scrape interval
# ($__rate_interval = max(4 * scrape interval, $__interval + scrape interval)).
BUILTIN_DURATIONS = {
    "__rate_interval": "4s",
    "__interval": "1s",
    "__range": "1m",
}
SCRAPES_BEFORE_QUERYING = 8
DEADLINE_SECONDS = 60


class TestFailure(Exception):
    pass


def poll(what, check, deadline_seconds=DEADLINE_SECONDS, interval=0.2):
    """Calls check() until it returns a truthy value; raises TestFailure after the deadline."""
    deadline = time.monotonic() + deadline_seconds
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except (OSError, ValueError, TestFailure) as error:
            last_error = error
        time.sleep(interval)
    raise TestFailure(f"timed out after {deadline_seconds}s waiting for {what}"
                      + (f" (last error: {last_error})" if last_error else ""))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_file(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


class Processes:
    """Starts processes with their output in files; stop_all() ends each one it started."""

    def __init__(self, directory):
        self.directory = directory
        self.started = []

    def start(self, name, argv):
        out = open(os.path.join(self.directory, f"{name}.out"), "wb")
        err = open(os.path.join(self.directory, f"{name}.err"), "wb")
        process = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        self.started.append((name, process, out, err))
        return process

    def output(self, name):
        return (read_file(os.path.join(self.directory, f"{name}.out")) +
                read_file(os.path.join(self.directory, f"{name}.err")))

    def check_running(self):
        for name, process, _, _ in self.started:
            if process.poll() is not None:
                raise TestFailure(f"{name} exited with {process.returncode}:\n{self.output(name)}")

    def stop_all(self):
        for name, process, out, err in reversed(self.started):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            out.close()
            err.close()


class Prometheus:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"

    def get(self, path, params=None):
        url = self.base + path + ("?" + urllib.parse.urlencode(params, doseq=True) if params else "")
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            body = error.read().decode("utf-8", "replace")
            try:
                return json.loads(body)
            except ValueError:
                raise TestFailure(f"GET {url}: HTTP {error.code}: {body}") from None

    def query(self, expr):
        """Returns the result list of an instant query; raises TestFailure if it does not parse."""
        answer = self.get("/api/v1/query", {"query": expr})
        if answer.get("status") != "success":
            raise TestFailure(f"{answer.get('errorType')}: {answer.get('error')}")
        data = answer["data"]
        if data["resultType"] in ("scalar", "string"):
            return [data["result"]]
        return data["result"]

    def label_values(self, label, selector):
        answer = self.get(f"/api/v1/label/{urllib.parse.quote(label)}/values",
                          {"match[]": selector})
        if answer.get("status") != "success":
            raise TestFailure(f"{answer.get('errorType')}: {answer.get('error')}")
        return answer["data"]


def substitute(text, values):
    """Replaces $name, ${name} and [[name]] (also ${name:format}) by values[name]."""
    def replace(match):
        name = match.group(1) or match.group(2) or match.group(3)
        if name not in values:
            raise TestFailure(f"no value for template variable {name!r} in {text!r}")
        return values[name]
    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)", replace, text)


all_panels = dashboard_lint.all_panels


def grafana_regex(values):
    """A multi-value or includeAll variable as Grafana's Prometheus datasource interpolates it
    (prometheusSpecialRegexEscape): each value regex-escaped inside the PromQL string, several
    values as (a|b)."""
    escaped = [re.sub(r"[$^*{}\[\]'+?.()|]", lambda m: "\\\\" + m.group(),
                      v.replace("\\", "\\" * 4))
               for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def resolve_variables(dashboard, prometheus):
    """Resolves each query variable through the label-values API, in dashboard order, and returns
    two substitutions: every real value selected, and "All" (allValue) where the variable has it."""
    selected = dict(BUILTIN_DURATIONS)
    everything = dict(BUILTIN_DURATIONS)
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "datasource":
            continue
        if variable["type"] != "query":
            raise TestFailure(f"variable {variable['name']}: type {variable['type']} not covered")
        query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
        match = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", query.strip())
        if not match:
            raise TestFailure(f"variable {variable['name']}: query {query!r} is not label_values(selector, label)")
        selector, label = substitute(match.group(1), selected), match.group(2)
        found = prometheus.label_values(label, selector)
        if not found:
            raise TestFailure(f"variable {variable['name']}: {query} has no values")
        name = variable["name"]
        if variable.get("multi") or variable.get("includeAll"):
            selected[name] = grafana_regex(found)
        else:
            selected[name] = found[0]
        everything[name] = variable["allValue"] if variable.get("includeAll") else selected[name]
        print(f"ok   variable ${name} = {selected[name]} ({len(found)} values)"
              + (f", All = {everything[name]}" if variable.get("includeAll") else ""))
    return {"every value selected": selected, "All": everything}


def check_panels(dashboard, prometheus, values, mode):
    failures = 0
    count = 0
    for panel in all_panels(dashboard["panels"]):
        for target in panel.get("targets", []):
            expr = target.get("expr")
            if not expr:
                raise TestFailure(f"panel {panel['title']!r} target {target.get('refId')}: no expr")
            count += 1
            concrete = substitute(expr, values)
            try:
                result = prometheus.query(concrete)
                if not result:
                    raise TestFailure("returned no series")
                print(f"ok   {panel['title']} [{target['refId']}] ({mode}): {len(result)} series")
            except TestFailure as error:
                failures += 1
                print(f"FAIL {panel['title']} [{target['refId']}] ({mode}): {concrete}\n     {error}")
    return count, failures


def check_rules(rules_path, prometheus):
    source = read_file(rules_path)
    # A rule's record/alert key, first in its list item or not, its name quoted or not.
    records = re.findall(r"^\s*(?:- )?record:\s*\"?([^\"\s]+)", source, re.MULTILINE)
    alerts = re.findall(r"^\s*(?:- )?alert:\s*\"?([^\"\s]+)", source, re.MULTILINE)
    if not records or not alerts:
        raise TestFailure(f"{rules_path}: found {len(records)} recording and {len(alerts)} alert rules")
    loaded = prometheus.get("/api/v1/rules")["data"]["groups"]
    rules = [rule for group in loaded for rule in group["rules"]]
    loaded_names = {rule["name"] for rule in rules}
    missing = sorted(set(records + alerts) - loaded_names)
    if missing:
        raise TestFailure(f"rules not loaded by Prometheus: {missing}")

    def all_evaluated():
        current = prometheus.get("/api/v1/rules")["data"]["groups"]
        return all(rule.get("lastEvaluation", "").startswith("20") and rule["health"] != "unknown"
                   for group in current for rule in group["rules"])
    poll("every rule to be evaluated", all_evaluated)
    failures = 0
    for group in prometheus.get("/api/v1/rules")["data"]["groups"]:
        for rule in group["rules"]:
            if rule["health"] != "ok":
                failures += 1
                print(f"FAIL rule {rule['name']}: health {rule['health']}: {rule.get('lastError')}")
    for record in records:
        try:
            series = poll(f"recorded series {record}", lambda: prometheus.query(record), 20)
            print(f"ok   recorded {record}: {len(series)} series")
        except TestFailure as error:
            failures += 1
            print(f"FAIL recorded {record}: {error}")
    if failures == 0:
        print(f"ok   {len(alerts)} alert rules loaded and healthy")
    return len(records) + len(alerts), failures


def check_dashboard_static(dashboard):
    """The dashboard's contract that needs no Prometheus: Grafana's dashboard-linter rules
    (dashboard_lint.py), and ours on top: schemaVersion 39+, a $route variable, thresholds."""
    problems = [str(problem) for problem in dashboard_lint.lint(dashboard)]
    if dashboard.get("schemaVersion", 0) < 39:
        problems.append(f"schemaVersion {dashboard.get('schemaVersion')} < 39")
    if "route" not in {v["name"] for v in dashboard["templating"]["list"]}:
        problems.append("no $route variable")
    for panel in all_panels(dashboard["panels"]):
        defaults = panel.get("fieldConfig", {}).get("defaults", {})
        if panel["type"] != "row" and not defaults.get("thresholds"):
            problems.append(f"{dashboard_lint.panel_name(panel)}: no thresholds")
    for problem in problems:
        print(f"FAIL dashboard lint: {problem}")
    if not problems:
        print(f"ok   dashboard {dashboard['uid']!r}: schemaVersion {dashboard['schemaVersion']}, "
              f"dashboard-linter rules ({', '.join(LINT_RULES)}), thresholds on every panel")
    return not problems


# Each breakage must make exactly its rule fire: proof that a rule can fail, not only pass.
LINT_BREAKAGES = [
    ("uid-title-rule", lambda d: d.pop("uid")),
    ("uneditable-dashboard-rule", lambda d: d.update(editable=True)),
    ("template-datasource-rule", lambda d: d["templating"]["list"][0].update(name="ds")),
    ("template-job-rule", lambda d: _variable(d, "job").update(multi=False)),
    ("template-instance-rule", lambda d: _variable(d, "instance").pop("allValue")),
    ("template-label-promql-rule", lambda d: _variable(d, "job")["query"].update(query="up")),
    ("template-on-time-change-reload-rule", lambda d: _variable(d, "instance").update(refresh=1)),
    ("panel-datasource-rule", lambda d: _first_panel(d)["targets"][0].update(
        datasource={"type": "prometheus", "uid": "prometheus"})),
    ("panel-title-description-rule", lambda d: _first_panel(d).pop("description")),
    ("panel-units-rule", lambda d: _first_panel(d)["fieldConfig"]["defaults"].update(
        unit="suffix: conn")),
    ("target-job-rule", lambda d: _first_panel(d)["targets"][0].update(
        expr='smartproxy_up{job="smartproxy", instance=~"$instance"}')),
    ("target-instance-rule", lambda d: _first_panel(d)["targets"][0].update(
        expr='smartproxy_up{job=~"$job"}')),
    ("target-rate-interval-rule", lambda d: _first_panel(d)["targets"][0].update(
        expr='rate(smartproxy_up{job=~"$job", instance=~"$instance"}[5m])')),
]
LINT_RULES = [rule for rule, _ in LINT_BREAKAGES]


def _variable(dashboard, name):
    return next(v for v in dashboard["templating"]["list"] if v["name"] == name)


def _first_panel(dashboard):
    return next(p for p in all_panels(dashboard["panels"]) if p["type"] != "row")


def check_lint_catches_breakage(dashboard):
    """Breaks a copy of the dashboard once per rule; the lint must report that rule, and no other
    rule the intact dashboard passes."""
    failures = 0
    already = {problem.rule for problem in dashboard_lint.lint(dashboard)}
    for rule, breakage in LINT_BREAKAGES:
        broken = json.loads(json.dumps(dashboard))
        breakage(broken)
        fired = {problem.rule for problem in dashboard_lint.lint(broken)}
        if rule not in fired or fired - already - {rule}:
            failures += 1
            print(f"FAIL lint self-test: breaking {rule} made {sorted(fired) or 'no rule'} fire")
    if not failures:
        print(f"ok   lint self-test: each of {len(LINT_BREAKAGES)} breakages fails its own rule")
    return failures == 0


def run(args, directory, processes):
    with open(args.dashboard, encoding="utf-8") as f:
        dashboard = json.load(f)
    static_ok = check_dashboard_static(dashboard)
    static_ok = check_lint_catches_breakage(dashboard) and static_ok

    socket_path = os.path.join(directory, "s.sock")
    processes.start("proxy-sim", [args.proxy_sim, "--socket", socket_path, "--routes", "12",
                                  "--ips", "200", "--seed", "7", "--wall-clock"])
    poll("proxy-sim to listen",
         lambda: processes.check_running() or "proxy-sim listening on" in processes.output("proxy-sim"))

    processes.start("exporter", [args.exporter, f"--proxy.socket={socket_path}",
                                 "--web.listen-address=127.0.0.1:0"])

    def exporter_port():
        processes.check_running()
        match = re.search(r"msg=listening .*?port=(\d+)", processes.output("exporter"))
        return match and int(match.group(1))
    port = poll("the exporter's listening line", exporter_port)

    prometheus_port = free_port()
    config = os.path.join(directory, "prometheus.yml")
    with open(config, "w", encoding="utf-8") as f:
        f.write(f"""global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
rule_files:
  - {json.dumps(os.path.abspath(args.rules))}
scrape_configs:
  - job_name: {json.dumps(args.job)}
    static_configs:
      - targets: ["127.0.0.1:{port}"]
""")
    processes.start("prometheus", ["prometheus", f"--config.file={config}",
                                   f"--storage.tsdb.path={os.path.join(directory, 'data')}",
                                   f"--web.listen-address=127.0.0.1:{prometheus_port}"])
    prometheus = Prometheus(prometheus_port)

    def ready():
        processes.check_running()
        with urllib.request.urlopen(prometheus.base + "/-/ready", timeout=2) as response:
            return response.status == 200
    poll("Prometheus to be ready", ready)

    def scraped_enough():
        processes.check_running()
        result = prometheus.query(f'count_over_time(smartproxy_up{{job="{args.job}"}}[1m])')
        return result and float(result[0]["value"][1]) >= SCRAPES_BEFORE_QUERYING
    poll(f"{SCRAPES_BEFORE_QUERYING} scrapes of the exporter", scraped_enough)
    up = prometheus.query(f'smartproxy_up{{job="{args.job}"}}')
    if not up or up[0]["value"][1] != "1":
        raise TestFailure(f"smartproxy_up is not 1: {up}\n{processes.output('exporter')}")
    print(f"ok   Prometheus on :{prometheus_port} scraped the exporter on :{port} as job {args.job} "
          f"{SCRAPES_BEFORE_QUERYING}+ times")

    queries = panel_failures = 0
    for mode, values in resolve_variables(dashboard, prometheus).items():
        count, failures = check_panels(dashboard, prometheus, values, mode)
        queries += count
        panel_failures += failures
    rules, rule_failures = check_rules(args.rules, prometheus)
    print(f"dashboard test: {queries} panel queries, {panel_failures} failed; "
          f"{rules} rules, {rule_failures} failed")
    return static_ok and panel_failures + rule_failures == 0 and queries > 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exporter", required=True)
    parser.add_argument("--proxy-sim", required=True)
    parser.add_argument("--dashboard", required=True)
    parser.add_argument("--rules", required=True)
    parser.add_argument("--job", default="smartproxy",
                        help="the scrape job's name (the job the rules and dashboard select)")
    args = parser.parse_args()
    if shutil.which("prometheus") is None:
        print("FAIL prometheus not found (Debian package prometheus)")
        return 1
    # SIGTERM/SIGINT unwind through the finally below, so the children are stopped.
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda number, frame: sys.exit(128 + number))

    directory = tempfile.mkdtemp(prefix="sp-dash.")
    processes = Processes(directory)
    try:
        return 0 if run(args, directory, processes) else 1
    except TestFailure as error:
        print(f"FAIL {error}")
        return 1
    finally:
        processes.stop_all()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
