#!/usr/bin/python3
"""The fleet figures of docs/fleet.md, measured on real processes (loopback, temp dir, free
ports, every process stopped at the end):
  A. one pod: proxy-sim --routes 12 (otherwise its defaults: 100 IPs, 6 backends, 8 domains)
     and the exporter at its default config: series per scrape (+5 series Prometheus adds per
     target: up, scrape_duration_seconds, scrape_samples_scraped, scrape_series_added,
     scrape_samples_post_metric_relabeling), also with metrics.ips.top 0 and with
     --web.disable-exporter-metrics; RSS idle (started, never scraped) and after 200 scrapes;
  B. 50 pods, one Prometheus agent (deploy/fleet/prometheus-agent.yml.tmpl, SHARDS=1) scraping
     every 15 s into VictoriaMetrics for --agent-seconds: the agent's RSS, samples/s received;
  C. the same 50 pods scraped every 1 s for --store-seconds (many samples per series, as a day
     at 15 s would give), then VictoriaMetrics' /internal/force_flush and its own metrics:
     bytes per sample = vm_data_size_bytes / vm_rows of the storage parts (indexdb apart).
Prints a table and the extrapolation to 1,000 and 10,000 pods.

Usage: measure.py --exporter BIN --proxy-sim BIN [--agent-seconds 75] [--store-seconds 150]
"""

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(ROOT, "tests/fleet"))
from fleet_lib import (Processes, Store, http_get, poll, render_template, rss_kib,  # noqa: E402
                       start_exporters, start_server, start_sims)

PROMETHEUS_SERIES_PER_TARGET = 5
PODS = 50


def scrape_series(port):
    _, body = http_get(f"http://127.0.0.1:{port}/metrics")
    return sum(1 for line in body.decode().splitlines() if line and not line.startswith("#"))


def one_pod(args, directory, processes):
    figures = {}
    directory = os.path.join(directory, "one-pod")
    os.mkdir(directory)
    processes.directory = directory
    sockets = start_sims(processes, args.proxy_sim, directory, 1, 1, int(time.time()) * 1000, 12)
    configs = {}
    for name, text in (("ips", "metrics:\n  ips:\n    top: 0\n"),
                       ("ips-domains", "metrics:\n  ips:\n    top: 0\n  domains:\n    top: 0\n")):
        configs[name] = os.path.join(directory, f"{name}.yml")
        with open(configs[name], "w", encoding="utf-8") as f:
            f.write(text)
    variants = [("default", []), ("ips.top 0", [f"--config.file={configs['ips']}"]),
                ("ips.top 0, --web.disable-exporter-metrics",
                 [f"--config.file={configs['ips']}", "--web.disable-exporter-metrics"]),
                ("ips.top 0, domains.top 0", [f"--config.file={configs['ips-domains']}"]),
                ("ips.top 0, domains.top 0, --web.disable-exporter-metrics",
                 [f"--config.file={configs['ips-domains']}", "--web.disable-exporter-metrics"])]
    for name, extra in variants:
        sub = Processes(directory)
        port = start_exporters(sub, args.exporter, sockets, extra)[0]
        pid = sub.pid("exporter00")
        if name == "default":
            time.sleep(1)
            figures["rss idle KiB"] = rss_kib(pid)
        series = scrape_series(port)
        figures[f"series per scrape ({name})"] = series
        if name == "default":
            for _ in range(200):
                scrape_series(port)
            figures["rss after 200 scrapes KiB"] = rss_kib(pid)
            figures["rss peak KiB"] = rss_kib(pid, "VmHWM")
        sub.stop_all()
        os.rename(os.path.join(directory, "exporter00.log"),
                  os.path.join(directory, f"exporter-{len(figures)}.log"))
    return figures


def start_store(directory, processes):
    return Store(start_server(processes, "victoria-metrics", lambda port: [
        "victoria-metrics", f"-storageDataPath={directory}/vm", f"-httpListenAddr=127.0.0.1:{port}",
        "-search.latencyOffset=1s", "-retentionPeriod=1d"], "/health"))


def start_agent(directory, processes, name, store, targets_file, interval, timeout):
    config = os.path.join(directory, f"{name}.yml")
    with open(config, "w", encoding="utf-8") as f:
        f.write(render_template(os.path.join(ROOT, "deploy/fleet/prometheus-agent.yml.tmpl"), {
            "SHARD": 0, "SHARDS": 1, "SCRAPE_INTERVAL": interval, "SCRAPE_TIMEOUT": timeout,
            "TARGETS_FILE": targets_file, "BATCH_SEND_DEADLINE": "5s",
            "REMOTE_WRITE_URL": f"{store.base}/api/v1/write"}))
    return start_server(processes, name, lambda port: [
        "prometheus", "--enable-feature=agent", f"--config.file={config}",
        f"--storage.agent.path={directory}/{name}", f"--web.listen-address=127.0.0.1:{port}"],
        "/-/ready")


def fleet(args, directory, processes):
    figures = {}
    sockets = start_sims(processes, args.proxy_sim, directory, PODS, 1000,
                         int(time.time()) * 1000, 12)
    ports = start_exporters(processes, args.exporter, sockets)
    targets_file = os.path.join(directory, "targets.json")
    with open(targets_file, "w", encoding="utf-8") as f:
        json.dump([{"targets": [f"127.0.0.1:{p}" for p in ports]}], f)
    store = start_store(directory, processes)

    # B: one agent, 50 targets, every 15 s.
    agent_port = start_agent(directory, processes, "agent-15s", store, targets_file, "15s", "10s")
    started = time.time()
    rows_before = None
    rss = []
    while time.time() - started < args.agent_seconds:
        time.sleep(5)
        rss.append(rss_kib(processes.pid("agent-15s")))
        if rows_before is None and time.time() - started > 20:
            rows_before = (time.time(), store.own_metrics().get(
                'vm_rows_inserted_total{type="promremotewrite"}', 0))
    rows_after = (time.time(), store.own_metrics().get(
        'vm_rows_inserted_total{type="promremotewrite"}', 0))
    _, body = http_get(f"http://127.0.0.1:{agent_port}/metrics")
    agent = {}
    for line in body.decode().splitlines():
        for key in ("prometheus_agent_active_series", "go_memstats_heap_inuse_bytes",
                    "process_resident_memory_bytes"):
            if line.startswith(key + " "):
                agent[key] = float(line.split()[1])
    figures["agent RSS KiB (50 targets, 15 s), last"] = rss[-1]
    figures["agent RSS KiB (50 targets, 15 s), max"] = max(rss)
    figures["agent active series"] = agent.get("prometheus_agent_active_series")
    figures["agent Go heap in use MiB"] = round(agent.get("go_memstats_heap_inuse_bytes", 0) / 2**20, 1)
    figures["store samples/s received (50 pods, 15 s)"] = round(
        (rows_after[1] - rows_before[1]) / (rows_after[0] - rows_before[0]), 1)
    processes.stop("agent-15s")

    # C: the same pods every 1 s, for many samples per series; then VictoriaMetrics' own view.
    start_agent(directory, processes, "agent-1s", store, targets_file, "1s", "900ms")
    time.sleep(args.store_seconds)
    processes.stop("agent-1s")
    time.sleep(6)  # the last remote-write batches
    http_get(store.base + "/internal/force_flush")
    time.sleep(2)
    # Over the whole run (VictoriaMetrics' series index is per day): more than the current
    # series, because the simulated proxies' top-20 IP sets change.
    figures["store distinct series over the run"] = len(store.series('{job="smartproxy"}', started - 60))
    vm = store.own_metrics()
    figures["store bytes per sample before force_merge"] = round(
        sum(v for k, v in vm.items() if k.startswith("vm_data_size_bytes{") and '"storage/' in k)
        / max(1, sum(v for k, v in vm.items() if k.startswith("vm_rows{") and '"storage/' in k)), 3)
    # Merge the young parts as the background merges would over hours (partition of this month).
    http_get(store.base + "/internal/force_merge", timeout=300)
    poll("the merges to end", lambda: not any(
        v for k, v in store.own_metrics().items() if k.startswith("vm_active_merges{")), 300, 1)
    time.sleep(2)
    vm = store.own_metrics()
    size = sum(v for k, v in vm.items()
               if k.startswith("vm_data_size_bytes{") and '"storage/' in k)
    rows = sum(v for k, v in vm.items() if k.startswith("vm_rows{") and '"storage/' in k)
    index = sum(v for k, v in vm.items()
                if k.startswith("vm_data_size_bytes{") and '"indexdb' in k)
    series = store.query("count({__name__!=\"\"})")
    figures["store rows (samples)"] = rows
    figures["store storage bytes"] = size
    figures["store indexdb bytes"] = index
    figures["store series"] = float(series[0]["value"][1]) if series else None
    figures["store bytes per sample (storage)"] = round(size / rows, 3) if rows else None
    figures["store bytes per sample (storage + indexdb)"] = round((size + index) / rows, 3) if rows else None
    figures["store samples per series"] = round(rows / figures["store series"], 1) if series else None
    figures["store RSS KiB"] = rss_kib(processes.pid("victoria-metrics"))
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exporter", required=True)
    parser.add_argument("--proxy-sim", required=True)
    parser.add_argument("--agent-seconds", type=float, default=75)
    parser.add_argument("--store-seconds", type=float, default=150)
    args = parser.parse_args()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda number, frame: sys.exit(128 + number))
    directory = tempfile.mkdtemp(prefix="spm.", dir="/tmp")
    processes = Processes(directory)
    try:
        one = Processes(directory)
        try:
            figures = one_pod(args, directory, one)
        finally:
            one.stop_all()
        figures.update(fleet(args, directory, processes))
    finally:
        processes.stop_all()
        shutil.rmtree(directory, ignore_errors=True)
    for key, value in figures.items():
        print(f"{key:50} {value}")
    stored = figures["series per scrape (default)"] + PROMETHEUS_SERIES_PER_TARGET
    per_sample = figures["store bytes per sample (storage)"]
    print(f"\nstored series per pod (default): {stored}; samples/s per pod at 15 s: {stored / 15:.1f}")
    for pods in (1_000, 10_000):
        samples = stored * pods / 15
        print(f"{pods:>6} pods: {stored * pods:,} series, {samples:,.0f} samples/s, "
              f"{samples * 86400 * per_sample / 1e9:,.2f} GB/day at {per_sample} B/sample")
    print(json.dumps(figures))


if __name__ == "__main__":
    sys.exit(main())
