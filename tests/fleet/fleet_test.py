#!/usr/bin/python3
"""The fleet test: sharded Prometheus agents remote-writing into VictoriaMetrics, 50 sidecars.

Starts on loopback, in a temp dir, on free ports: N proxy-sims (simulated time, seed 1000+i)
and N smartproxy_exporters (default config), VictoriaMetrics (the store), two Prometheus agents
rendered from deploy/fleet/prometheus-agent.yml.tmpl (shard 0 and 1 of a hashmod on the target
address, scraping every 2 s, remote-writing into the store), vmalert evaluating
deploy/prometheus/rules.yml against the store and writing the recorded series back into it, and
an Alertmanager stand-in for vmalert's notifications. Then asserts:
  1. sharding: each target is active in exactly one agent, each shard has some; in the store
     every target's series carry exactly one shard label, equal to that agent's, and no series
     exists under both shards (the self-test shows the check catches a duplicate);
  2. every rule of rules.yml is loaded by vmalert without error and every recorded series
     has data in the store;
  3. every dashboard query (template variables resolved through the store's label-values API,
     once with every value selected and once with "All", $__rate_interval = 8s for a 2 s
     scrape interval) returns data from the store;
  4. the fleet's active connections in the store (the raw sum and the recorded
     job:smartproxy_connections_active:sum) equal the sims' sum at the same step: the agents
     are paused (SIGSTOP) so that every reader of the store sees the same last sample per
     target; the step k of each target's last sample (snapshots its sim has served, one per
     scrape) is read back from the store: that scrape's smartproxy_exporter_scrapes_total,
     checked against its snapshot age (a sim in simulated time stamps its k-th snapshot
     start + k s); the sims' value at step k is recomputed by a fresh proxy-sim with the same
     seed asked k times (the traffic model depends only on seed and step);
  5. stopping one exporter makes the store show up == 0 for that target only (49 at 1) and
     job:smartproxy_up:sum drop to N-1.
Every started process is stopped and the temp dir removed, also on failure or a signal.

Usage: fleet_test.py --exporter BIN --proxy-sim BIN [--targets 50] [--keep]
"""

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fleet_lib import (Processes, Store, TestFailure, http_get, poll, render_template,  # noqa: E402
                       rss_kib, start_exporters, start_server, start_sims, unix_http_get)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARDS = 2
SCRAPE_INTERVAL_S = 2
ROUTES = 12
SEED_BASE = 1000
# Grafana's $__rate_interval is max(4 * scrape interval, $__interval + scrape interval).
BUILTIN_DURATIONS = {"__rate_interval": f"{4 * SCRAPE_INTERVAL_S}s",
                     "__interval": f"{SCRAPE_INTERVAL_S}s", "__range": "1m"}
SAMPLES_BEFORE_CHECKS = 5
# What vmalert writes besides the recorded series (which have a colon in their names).
VMALERT_SERIES = ("ALERTS", "ALERTS_FOR_STATE")


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = []

    def ok(self, message):
        self.passed += 1
        print(f"ok   {message}", flush=True)

    def fail(self, message):
        self.failed.append(message)
        print(f"FAIL {message}", flush=True)

    def check(self, condition, message, detail=""):
        if condition:
            self.ok(message)
        else:
            self.fail(message + (f": {detail}" if detail else ""))
        return condition


# ---- pure checks (each has a self-test on input that must fail) -----------------------------

def sharding_problems(series, assignment):
    """series: label sets from the store; assignment: instance -> shard of the agent that has it
    active. Returns the problems: a target series without a shard label, a target missing from
    the store, a target under a shard other than its agent's or under two, a series (labels
    without shard) under two shards."""
    problems = []
    by_key = {}
    shards_of = {}
    for labels in series:
        name = labels.get("__name__", "")
        if "instance" not in labels or ":" in name or name in VMALERT_SERIES:
            continue  # vmalert's own: recorded series and alert states carry no shard
        shard = labels.get("shard")
        if shard is None:
            problems.append(f"series without a shard label: {labels}")
            continue
        key = tuple(sorted((k, v) for k, v in labels.items() if k != "shard"))
        by_key.setdefault(key, set()).add(shard)
        shards_of.setdefault(labels["instance"], set()).add(shard)
    duplicated = [key for key, shards in by_key.items() if len(shards) > 1]
    for key in duplicated[:5]:
        problems.append(f"series under shards {sorted(by_key[key])}: {dict(key)}")
    if len(duplicated) > 5:
        problems.append(f"... {len(duplicated)} series duplicated across shards in all")
    for instance, shard in sorted(assignment.items()):
        found = shards_of.get(instance, set())
        if found != {shard}:
            problems.append(f"target {instance} (agent shard {shard}) is under shards "
                            f"{sorted(found) or 'none'} in the store")
    for instance in sorted(set(shards_of) - set(assignment)):
        problems.append(f"target {instance} in the store is active in no agent")
    return problems


def scrape_delay(k, sample_time_s, age_s, start_s):
    """The delay from a scrape's timestamp to the exporter's conversion that step k implies.
    In simulated time the sim's k-th snapshot has timestamp start + k s, and the exporter's
    age = conversion time - that timestamp, so delay = k - (sample time - age - start): it
    must lie within the scrape (0 .. the 1.5 s timeout) if k is the right step."""
    return k - (sample_time_s - age_s - start_s)


def up_problems(up, stopped):
    """up: instance -> latest up value in the store. Problems unless the stopped target is 0 and
    every other one is 1."""
    problems = []
    if up.get(stopped) != 0:
        problems.append(f"stopped target {stopped}: up = {up.get(stopped)}")
    for instance, value in sorted(up.items()):
        if instance != stopped and value != 1:
            problems.append(f"target {instance}: up = {value}")
    return problems


def self_test(results):
    """The pure checks above must fail on input that is wrong in one way each."""
    a = {"job": "smartproxy", "instance": "i1", "__name__": "up"}
    b = {"job": "smartproxy", "instance": "i2", "__name__": "up"}
    good = [dict(a, shard="0"), dict(b, shard="1")]
    cases = [
        ("a duplicate across shards", good + [dict(a, shard="1")], {"i1": "0", "i2": "1"}),
        ("a target under the wrong shard", good, {"i1": "1", "i2": "1"}),
        ("a target missing from the store", good[:1], {"i1": "0", "i2": "1"}),
        ("a series without shard", good + [dict(a, __name__="x")], {"i1": "0", "i2": "1"}),
    ]
    checks = [(f"sharding: {name}", bool(sharding_problems(series, assignment)))
              for name, series, assignment in cases]
    checks += [
        ("sharding: correct input (with vmalert's series) passes", not sharding_problems(
            good + [dict(a, __name__="ALERTS"), dict(a, __name__="job:x:sum")],
            {"i1": "0", "i2": "1"})),
        ("up: only the stopped target at 0 passes", up_problems({"i1": 0, "i2": 1}, "i1") == []),
        ("up: a second target at 0 fails", bool(up_problems({"i1": 0, "i2": 0}, "i1"))),
        ("up: the stopped target at 1 fails", bool(up_problems({"i1": 1}, "i1"))),
        # age = conversion - (start + k): scrape 4, conversion 3 ms or 1.2 s after the scrape.
        ("step: 3 ms delay", last_step([(1007.0, 1)], {1007.0: 4}, {1007.0: 1007.003 - 1004.0},
                                       1000.0)[:2] == (4, 1007.003 - 1007.0)),
        ("step: 1.2 s delay", last_step([(1007.0, 1)], {1007.0: 4}, {1007.0: 1008.2 - 1004.0},
                                        1000.0)[0] == 4),
        ("step: scrapes_total off by two fails", last_step(
            [(1007.0, 1)], {1007.0: 6}, {1007.0: 1007.003 - 1004.0}, 1000.0)[3] is not None),
        # The last scrape's other samples missing: counted on from the one before.
        ("step: counted on one scrape", last_step(
            [(1005.0, 1), (1007.0, 2)], {1005.0: 2}, {1005.0: 1005.01 - 1002.0}, 1000.0)[0] == 3),
        ("step: a lost scrape fails", last_step(
            [(1005.0, 1), (1009.0, 2)], {1005.0: 2}, {1005.0: 1005.01 - 1002.0}, 1000.0)[3]
         is not None),
    ]
    wrong = [name for name, passed in checks if not passed]
    results.check(not wrong, f"self-test: the sharding, up and step checks fail on broken input "
                  f"({len(checks)} cases)", f"wrong: {wrong}")


# ---- the fleet ----------------------------------------------------------------------------------

class AlertSink(BaseHTTPRequestHandler):
    """Alertmanager's POST /api/v2/alerts, answered 200 and dropped (vmalert needs a notifier
    to start with alerting rules)."""

    def do_POST(self):  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def agent_targets(port):
    _, body = http_get(f"http://127.0.0.1:{port}/api/v1/targets?state=active")
    return json.loads(body)["data"]["activeTargets"]


def read_rules_file(path):
    text = open(path, encoding="utf-8").read()
    # `record:`/`alert:` keys at any position in a rule, names quoted or not (the mixin's
    # generator quotes them); standard library only, so no YAML parser.
    names = re.findall(r"^\s*(?:-\s+)?(record|alert):\s*[\"']?([^\"'\s#]+)", text, re.MULTILINE)
    return ([n for kind, n in names if kind == "record"],
            [n for kind, n in names if kind == "alert"])


def all_panels(panels):
    for panel in panels:
        yield panel
        yield from all_panels(panel.get("panels", []))


def substitute(text, values):
    def replace(match):
        name = match.group(1) or match.group(2) or match.group(3)
        if name not in values:
            raise TestFailure(f"no value for template variable {name!r} in {text!r}")
        return values[name]
    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)", replace, text)


def grafana_regex(values):
    """A multi-value variable as Grafana's Prometheus datasource interpolates it: each value
    regex-escaped, several as (a|b)."""
    escaped = [re.sub(r"[$^*{}\[\]'+?.()|]", lambda m: "\\\\" + m.group(),
                      v.replace("\\", "\\" * 4)) for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def resolve_variables(dashboard, store, since):
    """Every template variable resolved through the store: two substitutions, every real value
    selected and "All" (allValue, or every value when there is none)."""
    selected = dict(BUILTIN_DURATIONS)
    everything = dict(BUILTIN_DURATIONS)
    for variable in dashboard.get("templating", {}).get("list", []):
        name, kind = variable["name"], variable["type"]
        if kind == "datasource":
            selected[name] = everything[name] = "store"  # never part of an expression
            continue
        if kind == "query":
            query = variable["query"]
            query = query.get("query", "") if isinstance(query, dict) else query
            match = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", query.strip())
            if not match:
                raise TestFailure(f"variable {name}: {query!r} is not label_values(selector, label)")
            found = store.label_values(match.group(2), substitute(match.group(1), selected), since)
        elif kind in ("custom", "interval"):
            found = [o["value"] for o in variable.get("options", []) if o.get("value") != "$__all"]
            found = found or [v.strip() for v in str(variable.get("query", "")).split(",") if v.strip()]
        elif kind in ("constant", "textbox"):
            found = [str(variable.get("query", ""))]
        else:
            raise TestFailure(f"variable {name}: type {kind} not covered by the fleet test")
        if not found:
            raise TestFailure(f"variable {name} has no values in the store")
        if variable.get("multi") or variable.get("includeAll"):
            selected[name] = grafana_regex(found)
        else:
            selected[name] = found[0]
        everything[name] = (variable.get("allValue") or selected[name]
                            if variable.get("includeAll") else selected[name])
        print(f"     variable ${name}: {len(found)} values", flush=True)
    return {"every value selected": selected, "All": everything}


def replay_active(proxy_sim, directory, processes, lock, seed, step, start_ms):
    """connections.active of a sim with this seed at this step: a fresh proxy-sim, asked `step`
    times (its k-th snapshot carries timestamp start + k s)."""
    name = f"replay{seed}"
    path = os.path.join(directory, f"r{seed}.sock")
    with lock:
        processes.start(name, [proxy_sim, "--socket", path, "--routes", str(ROUTES),
                               "--seed", str(seed), "--start-time", str(start_ms)])
    try:
        poll(f"{name} to listen", lambda: "proxy-sim listening on" in processes.output(name), 30,
             0.05)
        snapshot = None
        for _ in range(step):
            snapshot = json.loads(unix_http_get(path))
        if snapshot["timestamp"] != start_ms + step * 1000:
            raise TestFailure(f"{name}: snapshot {step} has timestamp {snapshot['timestamp']}, "
                              f"want {start_ms + step * 1000}")
        return snapshot["connections"]["active"]
    finally:
        processes.stop(name)


def all_samples(store, expr, at):
    """instance -> [(timestamp s, value)] of each series' raw samples in the 5 minutes up to `at`."""
    return {series["metric"]["instance"]: [(float(t), float(v)) for t, v in series["values"]]
            for series in store.query(f"{expr}[5m]", at)}


def last_step(active, scrapes, age, start_s):
    """The step of a target's last stored connections sample: (k, delay, later, problem).
    The step is the number of snapshots the sim served, one per scrape: the exporter's
    smartproxy_exporter_scrapes_total of the same scrape (same timestamp), checked against the
    snapshot's age (scrape_delay). Taken from the last scrape with all three samples in the
    store; when the pause caught the newest scrapes half-written (remote write splits a scrape
    across requests), each later connections sample is one more snapshot, so k grows by the
    number of them (`later`), which must be one scrape interval apart."""
    if not active:
        return 0, 0, 0, "no connections sample in the store"
    common = [i for i, (t, _) in enumerate(active) if t in scrapes and t in age]
    if not common:
        return 0, 0, 0, "no scrape with connections, scrapes_total and age in the store"
    first = common[-1]
    t = active[first][0]
    k = round(scrapes[t])
    delay = scrape_delay(k, t, age[t], start_s)
    if not -0.002 <= delay <= 1.5 or k < 1:
        return 0, 0, 0, f"scrape {k} does not match the snapshot's age (delay {delay:.3f} s)"
    later = len(active) - 1 - first
    gaps = [active[i + 1][0] - active[i][0] for i in range(first, len(active) - 1)]
    if any(abs(gap - SCRAPE_INTERVAL_S) > 0.5 for gap in gaps):
        return 0, 0, 0, f"samples after the last aligned scrape are not one interval apart: {gaps}"
    return k + later, delay, later, None


def run(args, directory, processes, results):
    self_test(results)
    rules_path = os.path.join(ROOT, "deploy/prometheus/rules.yml")
    dashboard_path = os.path.join(ROOT, "grafana/dashboards/smartproxy.json")
    template = args.agent_template
    records, alerts = read_rules_file(rules_path)
    with open(dashboard_path, encoding="utf-8") as f:
        dashboard = json.load(f)
    print(f"     {rules_path}: {len(records)} recording, {len(alerts)} alerting rules; "
          f"{dashboard_path}", flush=True)

    start_ms = int(time.time()) * 1000
    sockets = start_sims(processes, args.proxy_sim, directory, args.targets, SEED_BASE, start_ms,
                         ROUTES)
    ports = start_exporters(processes, args.exporter, sockets)
    instances = [f"127.0.0.1:{port}" for port in ports]
    instance_index = {instance: i for i, instance in enumerate(instances)}
    results.ok(f"{args.targets} proxy-sims and {args.targets} exporters running")

    vm_port = start_server(processes, "victoria-metrics", lambda port: [
        "victoria-metrics", f"-storageDataPath={directory}/vm", f"-httpListenAddr=127.0.0.1:{port}",
        # Samples become visible after 1 s instead of 30 s; no cached responses between queries.
        "-search.latencyOffset=1s", "-search.disableCache", "-retentionPeriod=1d"], "/health")
    store = Store(vm_port)

    sink = ThreadingHTTPServer(("127.0.0.1", 0), AlertSink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()

    targets_file = os.path.join(directory, "targets.json")
    with open(targets_file + ".tmp", "w", encoding="utf-8") as f:
        json.dump([{"targets": instances}], f)
    os.rename(targets_file + ".tmp", targets_file)
    agent_ports = []
    for shard in range(SHARDS):
        config = os.path.join(directory, f"agent-{shard}.yml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(render_template(template, {
                "SHARD": shard, "SHARDS": SHARDS, "SCRAPE_INTERVAL": f"{SCRAPE_INTERVAL_S}s",
                "SCRAPE_TIMEOUT": "1500ms", "TARGETS_FILE": targets_file,
                "REMOTE_WRITE_URL": f"http://127.0.0.1:{vm_port}/api/v1/write",
                "BATCH_SEND_DEADLINE": "1s"}))
        check = subprocess.run(["promtool", "check", "config", "--agent", config],
                               capture_output=True, text=True)
        results.check(check.returncode == 0, f"shard {shard}: rendered agent config passes "
                      "promtool check config --agent", check.stdout + check.stderr)
        agent_ports.append(start_server(processes, f"agent{shard}", lambda port: [
            "prometheus", "--enable-feature=agent", f"--config.file={config}",
            f"--storage.agent.path={directory}/agent-{shard}",
            f"--web.listen-address=127.0.0.1:{port}"], "/-/ready"))

    vmalert_port = start_server(processes, "vmalert", lambda port: [
        "vmalert", f"-rule={rules_path}", f"-datasource.url=http://127.0.0.1:{vm_port}",
        f"-remoteWrite.url=http://127.0.0.1:{vm_port}",
        f"-notifier.url=http://127.0.0.1:{sink.server_address[1]}",
        f"-evaluationInterval={SCRAPE_INTERVAL_S}s", "-remoteWrite.flushInterval=1s",
        f"-httpListenAddr=127.0.0.1:{port}"], "/health")
    fleet_started = time.time()

    # 1. Sharding.
    def targets_up():
        processes.check_running()
        active = [agent_targets(port) for port in agent_ports]
        if sum(len(a) for a in active) < args.targets:
            return None
        if not all(t["health"] == "up" for a in active for t in a):
            return None
        return active
    active = poll(f"the agents to scrape all {args.targets} targets", targets_up, 60)
    assignment = {}
    problems = []
    for shard, targets in enumerate(active):
        for target in targets:
            instance = target["labels"]["instance"]
            if instance in assignment:
                problems.append(f"{instance} active in shard {assignment[instance]} and {shard}")
            assignment[instance] = str(shard)
    counts = [len(t) for t in active]
    results.check(not problems and set(assignment) == set(instances) and min(counts) > 0,
                  f"agents: each of the {args.targets} targets active in exactly one shard "
                  f"(shard 0: {counts[0]}, shard 1: {counts[1]})", "; ".join(problems))

    def warm():
        processes.check_running()
        found = store.query(f'count_over_time(up{{job="smartproxy"}}[2m]) >= {SAMPLES_BEFORE_CHECKS}')
        return {series["metric"]["instance"] for series in found} == set(instances)
    poll(f"{SAMPLES_BEFORE_CHECKS} samples of up per target in the store", warm, 90, 0.5)
    series = store.series('{job="smartproxy"}', fleet_started - 60)
    problems = sharding_problems(series, assignment)
    per_shard = {}
    for labels in series:
        if "shard" in labels:
            per_shard[labels["shard"]] = per_shard.get(labels["shard"], 0) + 1
    results.check(not problems, "store: every target's series under exactly its agent's shard, "
                  f"none under both ({len(series)} series; by shard: "
                  f"{dict(sorted(per_shard.items()))})", "\n     ".join(problems))

    # 2. Rules.
    def rules_evaluated():
        _, body = http_get(f"http://127.0.0.1:{vmalert_port}/api/v1/rules")
        groups = json.loads(body)["data"]["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        return rules if all(rule.get("lastEvaluation", "").startswith("20") for rule in rules) \
            else None
    loaded = poll("vmalert to evaluate every rule", rules_evaluated, 30)
    names = {rule["name"] for rule in loaded}
    missing = sorted(set(records + alerts) - names)
    errors = [f"{rule['name']}: {rule['lastError']}" for rule in loaded if rule.get("lastError")]
    results.check(not missing and not errors, f"vmalert: all {len(records)} recording and "
                  f"{len(alerts)} alerting rules of rules.yml loaded and evaluated without error",
                  f"missing {missing}; errors {errors}")
    for record in records:
        try:
            found = poll(f"{record} in the store", lambda: store.query(record), 20)
            results.ok(f"recorded {record}: {len(found)} series in the store")
        except TestFailure as error:
            results.fail(f"recorded {record}: {error}")

    # 3. Dashboard queries.
    queries = 0
    failures = 0
    for mode, values in resolve_variables(dashboard, store, fleet_started - 60).items():
        for panel in all_panels(dashboard.get("panels", [])):
            for target in panel.get("targets", []):
                expr = target.get("expr")
                if not expr:
                    continue
                queries += 1
                try:
                    found = store.query(substitute(expr, values))
                    if not found:
                        raise TestFailure("no series")
                except TestFailure as error:
                    failures += 1
                    results.fail(f"dashboard {panel.get('title')!r} [{target.get('refId')}] "
                                 f"({mode}): {substitute(expr, values)}: {error}")
    results.check(queries > 0 and failures == 0,
                  f"dashboard: {queries - failures} of {queries} panel queries return data from "
                  "the store (every value selected, and All)")

    # 4. Sum of active connections at the same step.
    for shard in range(SHARDS):
        processes.pause(f"agent{shard}")
    frozen_at = time.time()
    print(f"     agents paused at {frozen_at:.3f}", flush=True)

    def recorded_after_freeze():
        # An evaluation whose query ran at least 3 s after the pause sees only samples that
        # arrived before it (the store shows samples after 1 s).
        samples = store.query("job:smartproxy_connections_active:sum[30s]")
        later = [(float(t), float(v)) for s in samples for t, v in s["values"]
                 if float(t) >= frozen_at + 3]
        return later
    recorded = poll("an evaluation of job:smartproxy_connections_active:sum after the pause",
                    recorded_after_freeze, 30)
    at = time.time()
    active_samples = all_samples(store, 'smartproxy_connections_active{job="smartproxy"}', at)
    age_samples = {i: dict(v) for i, v in
                   all_samples(store, 'smartproxy_snapshot_age_seconds{job="smartproxy"}', at).items()}
    scrape_samples = {i: dict(v) for i, v in all_samples(
        store, 'smartproxy_exporter_scrapes_total{job="smartproxy"}', at).items()}
    raw_sum = store.query('sum(smartproxy_connections_active{job="smartproxy"})', at)
    for shard in range(SHARDS):
        processes.resume(f"agent{shard}")
    steps = {}
    problems = []
    max_delay = 0.0
    later_scrapes = 0
    for instance in instances:
        k, delay, later, problem = last_step(active_samples.get(instance, []),
                                             scrape_samples.get(instance, {}),
                                             age_samples.get(instance, {}), start_ms / 1000)
        if problem:
            problems.append(f"{instance}: {problem}")
            continue
        max_delay = max(max_delay, delay)
        later_scrapes += later
        steps[instance] = k
    results.check(not problems, f"aligned: each target's last stored sample has one step "
                  f"(steps {min(steps.values(), default=0)}..{max(steps.values(), default=0)}, "
                  f"scrape-to-conversion delay at most {max_delay * 1000:.0f} ms; "
                  f"{later_scrapes} last samples counted on from an earlier scrape)",
                  "; ".join(problems))
    store_values = {i: active_samples[i][-1][1] for i in steps}
    lock = threading.Lock()
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        futures = {instance: pool.submit(replay_active, args.proxy_sim, directory, processes, lock,
                                         SEED_BASE + instance_index[instance], k, start_ms)
                   for instance, k in steps.items()}
        sim_values = {instance: future.result() for instance, future in futures.items()}
    sims_sum = sum(sim_values.values())
    wrong = [f"{i}: store {store_values[i]:.0f}, sim {sim_values[i]} at step {steps[i]}"
             for i in steps if store_values[i] != sim_values[i]]
    results.check(not wrong, "each target's last stored value equals its sim's at that step",
                  "; ".join(wrong[:5]))
    stored_sum = float(raw_sum[0]["value"][1]) if raw_sum else None
    results.check(len(steps) == args.targets and stored_sum == sims_sum,
                  f"store: sum(smartproxy_connections_active) = {stored_sum} equals the sims' "
                  f"sum at the same steps = {sims_sum}")
    recorded_values = sorted({v for _, v in recorded})
    results.check(recorded_values == [sims_sum],
                  f"store: job:smartproxy_connections_active:sum recorded by vmalert after the "
                  f"pause = {recorded_values} equals the sims' sum {sims_sum}")

    # 5. One exporter stopped.
    stopped_index = args.targets // 3
    stopped = instances[stopped_index]
    processes.stop(f"exporter{stopped_index:02d}")
    stopped_at = time.time()

    def up_values():
        return {s["metric"]["instance"]: float(s["value"][1])
                for s in store.query('up{job="smartproxy"}')}

    def stopped_seen():
        up = up_values()
        # Every target scraped again after the stop, so all values are current.
        fresh = store.query(f'count(timestamp(up{{job="smartproxy"}}) > {stopped_at + 1:.3f})')
        return up if up.get(stopped) == 0 and fresh and \
            float(fresh[0]["value"][1]) == args.targets else None
    try:
        up = poll(f"up == 0 for {stopped} in the store", stopped_seen, 30)
        problems = up_problems(up, stopped)
        if len(up) != args.targets:
            problems.append(f"{len(up)} up series, want {args.targets}")
    except TestFailure as error:
        problems = [str(error), f"up: {up_values()}"]
    results.check(not problems, f"store: stopping exporter {stopped} shows up == 0 for it and "
                  f"up == 1 for the other {args.targets - 1}", "; ".join(problems))
    want = args.targets - 1
    try:
        poll(f"job:smartproxy_up:sum = {want}", lambda: [
            s for s in store.query("job:smartproxy_up:sum") if float(s["value"][1]) == want], 30)
        results.ok(f"store: job:smartproxy_up:sum recorded as {want}")
    except TestFailure as error:
        results.fail(f"{error}: {store.query('job:smartproxy_up:sum')}")

    # Figures for docs/fleet.md (informational).
    agent_rss = [rss_kib(processes.pid(f"agent{s}")) for s in range(SHARDS)]
    exporter_rss = sorted(rss_kib(processes.pid(f"exporter{i:02d}"))
                          for i in range(args.targets) if i != stopped_index)
    vm = store.own_metrics()
    received = vm.get('vm_rows_inserted_total{type="promremotewrite"}', 0)
    print(f"     RSS: agents {agent_rss} KiB ({counts} targets); exporters median "
          f"{exporter_rss[len(exporter_rss) // 2]} KiB, max {exporter_rss[-1]} KiB; "
          f"VictoriaMetrics {rss_kib(processes.pid('victoria-metrics'))} KiB, "
          f"{received:.0f} rows received",
          flush=True)
    print(f"     fleet ran {time.time() - fleet_started:.0f} s", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exporter", required=True)
    parser.add_argument("--proxy-sim", required=True)
    parser.add_argument("--targets", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs)")
    parser.add_argument("--agent-template",
                        default=os.path.join(ROOT, "deploy/fleet/prometheus-agent.yml.tmpl"),
                        help="the agent shard template (another one to see the checks fail)")
    args = parser.parse_args()
    for tool in ("prometheus", "promtool", "victoria-metrics", "vmalert"):
        if shutil.which(tool) is None:
            print(f"FAIL {tool} not found (Debian packages prometheus, victoria-metrics)")
            return 1
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda number, frame: sys.exit(128 + number))

    began = time.monotonic()
    directory = tempfile.mkdtemp(prefix="spf.", dir="/tmp")  # short: Unix socket paths
    processes = Processes(directory)
    results = Results()
    try:
        run(args, directory, processes, results)
    except TestFailure as error:
        results.fail(str(error))
    finally:
        processes.stop_all()
        if args.keep:
            print(f"     logs kept in {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)
            if results.failed:
                print("     (FLEET_KEEP=1 / --keep keeps the temp dir with every process' log)")
    print(f"fleet test: {results.passed} passed, {len(results.failed)} failed "
          f"({time.monotonic() - began:.0f} s)")
    for failure in results.failed:
        print(f"  failed: {failure.splitlines()[0][:300]}")
    return 1 if results.failed else 0


if __name__ == "__main__":
    sys.exit(main())
