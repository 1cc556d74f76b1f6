#!/usr/bin/env python3
"""Full-scrape benchmark: proxy-sim and smartproxy_exporter as real processes, /metrics over HTTP.

Measures, per client-IP count and per ips.top setting (issue 3, section 9): scrape latency
p50/p99 (keep-alive, no gzip; and a few gzip scrapes), exporter CPU per scrape and per series
(utime+stime deltas from /proc/<pid>/stat), exporter peak RSS (VmHWM), proxy-sim CPU per
snapshot, and the same with 4 concurrent scrapers released together by a barrier, with the
number of snapshots the proxy served against the number of scrapes.

Snapshot fetches are counted on the proxy side: proxy-sim (deterministic mode, the default)
advances simulated time by exactly one step (1 s) per GET /v1/snapshot, so the difference of
two "timestamp" fields read by probes before and after a phase is the number of snapshots the
proxy served in between (plus one for the probe itself).

Python 3 standard library only. Every loop is bounded by a count and a deadline.
"""

import argparse
import gzip
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
STEP_MS = 1000  # proxy-sim's default simulation step
UP_LINE = b"\nsmartproxy_up 1\n"
SCRAPES_RE = re.compile(rb"\nsmartproxy_exporter_scrapes_total (\d+)")


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=30):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def cpu_seconds(pid):
    """utime+stime of the whole process (all threads, exited ones included), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def task_cpu(pid):
    """(on-CPU ns summed over the live threads from /proc/<pid>/task/*/schedstat, thread ids)."""
    total, tids = 0, []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
            tids.append(tid)
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total, frozenset(tids)


class CpuMeter:
    """Process CPU between start() and stop(), in seconds. utime+stime from /proc/<pid>/stat
    counts in clock ticks (10 ms); when no thread came or went, the per-thread schedstat sum
    gives the same quantity in ns, so that is used then (source says which)."""

    def __init__(self, pid):
        self.pid = pid

    def start(self):
        self.stat0, (self.ns0, self.tids0) = cpu_seconds(self.pid), task_cpu(self.pid)

    def stop(self):
        stat1, (ns1, tids1) = cpu_seconds(self.pid), task_cpu(self.pid)
        self.stat_seconds = stat1 - self.stat0
        if tids1 == self.tids0:
            self.seconds, self.source = (ns1 - self.ns0) / 1e9, "schedstat"
        else:
            self.seconds, self.source = self.stat_seconds, "stat"
        return self.seconds


def status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def wait_for(predicate, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise RuntimeError(f"timed out waiting for {what}")


def proxy_timestamp(socket_path):
    """One snapshot probe (ips=1, small body); returns the snapshot's timestamp in ms."""
    conn = UnixHTTPConnection(socket_path)
    try:
        conn.request("GET", "/v1/snapshot?ips=1")
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"proxy probe: HTTP {response.status}")
        return json.loads(body)["timestamp"]
    finally:
        conn.close()


def series_count(body):
    return sum(1 for line in body.split(b"\n") if line and not line.startswith(b"#"))


def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, int(round(p / 100.0 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


class Scraper:
    """One keep-alive HTTP connection to the exporter's /metrics."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def scrape(self, accept_gzip=False):
        headers = {"Accept-Encoding": "gzip"} if accept_gzip else {"Accept-Encoding": "identity"}
        started = time.perf_counter()
        self.conn.request("GET", "/metrics", headers=headers)
        response = self.conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise RuntimeError(f"/metrics: HTTP {response.status}")
        encoding = response.getheader("Content-Encoding", "")
        return body, elapsed, encoding

    def close(self):
        self.conn.close()


class Processes:
    """proxy-sim and the exporter; stopped (SIGTERM, then SIGKILL) on exit, even on failure."""

    def __init__(self, build_dir, workdir):
        self.build_dir = build_dir
        self.workdir = workdir
        self.started = []

    def start_proxy(self, ips, routes, seed):
        path = os.path.join(self.workdir, "p.sock")
        binary = os.path.join(self.build_dir, "tools/proxy_sim/proxy-sim")
        proc = subprocess.Popen(
            [binary, "--socket", path, "--routes", str(routes), "--ips", str(ips), "--seed",
             str(seed)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.started.append(proc)
        line = proc.stdout.readline().decode()
        if "proxy-sim listening on" not in line:
            raise RuntimeError(f"proxy-sim did not start: {line!r}")
        return proc, path

    def start_exporter(self, socket_path, top):
        binary = os.path.join(self.build_dir, "exporter/smartproxy_exporter")
        args = [binary, f"--proxy.socket={socket_path}", "--web.listen-address=127.0.0.1:0"]
        if top is not None:
            config = os.path.join(self.workdir, f"config-{top}.yml")
            with open(config, "w") as f:
                f.write(f"metrics:\n  ips:\n    top: {top}\n")
            args.append(f"--config.file={config}")
        log = os.path.join(self.workdir, f"exporter-{top}.log")
        with open(log, "wb") as stderr:
            proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=stderr)
        self.started.append(proc)

        def port():
            if proc.poll() is not None:
                raise RuntimeError(f"exporter exited with {proc.returncode}: {open(log).read()}")
            m = re.search(r"msg=listening.*?port=(\d+)", open(log).read())
            return int(m.group(1)) if m else None

        return proc, wait_for(port, 10, "the exporter's listening line")

    def stop(self, proc):
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout:
            proc.stdout.close()

    def stop_all(self):
        for proc in reversed(self.started):
            self.stop(proc)


def check_body(body, expected_size):
    # A broken path must not look fast: every body is complete, up, and about as big as the first.
    if UP_LINE not in body or len(body) < expected_size * 0.9:
        raise RuntimeError(f"bad scrape body ({len(body)} bytes, expected ~{expected_size})")


def sequential_phase(scraper, exporter_pid, proxy_pid, socket_path, expected_size, scrapes,
                     seconds):
    latencies = []
    t0 = proxy_timestamp(socket_path)
    em, pm = CpuMeter(exporter_pid), CpuMeter(proxy_pid)
    em.start()
    pm.start()
    deadline = time.monotonic() + seconds
    while len(latencies) < scrapes and (len(latencies) < 5 or time.monotonic() < deadline):
        body, elapsed, _ = scraper.scrape()
        check_body(body, expected_size)
        latencies.append(elapsed)
    e, p = em.stop(), pm.stop()
    t1 = proxy_timestamp(socket_path)
    fetches = (t1 - t0) // STEP_MS - 1
    n = len(latencies)
    return {
        "scrapes": n,
        "fetches": fetches,
        "p50_ms": percentile(latencies, 50) * 1e3,
        "p99_ms": percentile(latencies, 99) * 1e3,
        "exporter_cpu_ms_per_scrape": e / n * 1e3,
        "exporter_cpu_source": em.source,
        "exporter_stat_cpu_ms_per_scrape": em.stat_seconds / n * 1e3,
        "proxy_cpu_ms_per_snapshot": p / max(1, fetches) * 1e3,
        "proxy_cpu_source": pm.source,
    }


def gzip_phase(port, exporter_pid, expected_series, scrapes):
    scraper = Scraper(port)
    try:
        latencies, sizes = [], []
        em = CpuMeter(exporter_pid)
        em.start()
        for _ in range(scrapes):
            body, elapsed, encoding = scraper.scrape(accept_gzip=True)
            if encoding != "gzip":
                raise RuntimeError(f"gzip asked, got Content-Encoding {encoding!r}")
            latencies.append(elapsed)
            sizes.append(len(body))
        e = em.stop()
        plain = gzip.decompress(body)
        if UP_LINE not in plain or series_count(plain) < expected_series * 0.9:
            raise RuntimeError("gzip body does not decompress to a full scrape")
        return {
            "scrapes": scrapes,
            "p50_ms": percentile(latencies, 50) * 1e3,
            "gzip_bytes": statistics.median(sizes),
            "plain_bytes": len(plain),
            "exporter_cpu_ms_per_scrape": e / scrapes * 1e3,
        }
    finally:
        scraper.close()


def concurrent_phase(port, exporter_pid, proxy_pid, socket_path, expected_size, workers, rounds,
                     seconds):
    """`workers` threads, one keep-alive connection each, released together by a barrier."""
    scrapers = [Scraper(port) for _ in range(workers)]
    bracket = Scraper(port)
    latencies = [[] for _ in range(workers)]
    errors = []
    stop = threading.Event()
    barrier = threading.Barrier(workers + 1)
    done = threading.Barrier(workers + 1)

    def work(i):
        try:
            while True:
                barrier.wait(timeout=120)
                if stop.is_set():
                    return
                try:
                    body, elapsed, _ = scrapers[i].scrape()
                    check_body(body, expected_size)
                    latencies[i].append(elapsed)
                finally:
                    done.wait(timeout=120)
        except Exception as e:  # reported by the main thread
            errors.append(e)

    try:
        # Warm every connection (not counted), then bracket the phase with probes and scrapes.
        for s in scrapers:
            s.scrape()
        t0 = proxy_timestamp(socket_path)
        v0 = int(SCRAPES_RE.search(bracket.scrape()[0]).group(1))
        em, pm = CpuMeter(exporter_pid), CpuMeter(proxy_pid)
        em.start()
        pm.start()
        threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + seconds
        completed = 0
        while completed < rounds and (completed < 3 or time.monotonic() < deadline):
            barrier.wait(timeout=120)
            done.wait(timeout=120)
            completed += 1
            if errors:
                break
        stop.set()
        barrier.wait(timeout=120)
        for t in threads:
            t.join(timeout=120)
        if errors:
            raise errors[0]
        e, p = em.stop(), pm.stop()
        bracket.close()  # idle through the phase; the server may have closed it
        bracket = Scraper(port)
        v1 = int(SCRAPES_RE.search(bracket.scrape()[0]).group(1))
        t1 = proxy_timestamp(socket_path)
    finally:
        for s in scrapers + [bracket]:
            s.close()
    all_latencies = [x for per in latencies for x in per]
    scrapes = len(all_latencies)
    # Served between the probes: the 2 bracket scrapes' fetches, the phase, and probe t1 itself.
    fetches = (t1 - t0) // STEP_MS - 1 - 2
    return {
        "rounds": completed,
        "scrapes": scrapes,
        "exporter_scrapes": v1 - v0 - 1,
        "fetches": fetches,
        "fetches_per_round": fetches / completed,
        "p50_ms": percentile(all_latencies, 50) * 1e3,
        "p99_ms": percentile(all_latencies, 99) * 1e3,
        "exporter_cpu_ms_per_scrape": e / scrapes * 1e3,
        "exporter_cpu_source": em.source,
        "proxy_cpu_ms_per_snapshot": p / max(1, fetches) * 1e3,
    }


def proxy_phase(proxy_pid, socket_path, max_ips, requests, seconds):
    """proxy-sim alone: CPU per snapshot over one keep-alive connection (one serving thread, so
    the ns-precise schedstat sum applies)."""
    conn = UnixHTTPConnection(socket_path)
    query = "" if max_ips is None else f"?ips={max_ips}"
    try:
        conn.request("GET", "/v1/snapshot" + query)
        size = len(conn.getresponse().read())
        meter = CpuMeter(proxy_pid)
        meter.start()
        n, deadline = 0, time.monotonic() + seconds
        while n < requests and (n < 5 or time.monotonic() < deadline):
            conn.request("GET", "/v1/snapshot" + query)
            response = conn.getresponse()
            body = response.read()
            if response.status != 200 or len(body) < size * 0.9:
                raise RuntimeError(f"bad snapshot ({response.status}, {len(body)} bytes)")
            n += 1
        cpu = meter.stop()
    finally:
        conn.close()
    return {"snapshots": n, "json_bytes": size, "cpu_ms_per_snapshot": cpu / n * 1e3,
            "source": meter.source}


def run_proxy_case(args, ips, top):
    workdir = tempfile.mkdtemp(prefix="sb", dir="/tmp")
    procs = Processes(args.build_dir, workdir)
    try:
        proxy, socket_path = procs.start_proxy(ips, args.routes, args.seed)
        return proxy_phase(proxy.pid, socket_path, 20 if top is None else top, args.scrapes,
                           args.seconds)
    finally:
        procs.stop_all()
        shutil.rmtree(workdir, ignore_errors=True)


def run_case(args, ips, top):
    workdir = tempfile.mkdtemp(prefix="sb", dir="/tmp")  # short: sockaddr_un holds 107 bytes
    procs = Processes(args.build_dir, workdir)
    try:
        proxy, socket_path = procs.start_proxy(ips, args.routes, args.seed)
        exporter, port = procs.start_exporter(socket_path, top)
        scraper = Scraper(port)
        body = b""
        for _ in range(3):  # warm-up
            body, _, _ = scraper.scrape()
        series = series_count(body)
        result = {"ips": ips, "top": top if top is not None else "default (20)",
                  "series": series, "body_bytes": len(body)}
        result["seq"] = sequential_phase(scraper, exporter.pid, proxy.pid, socket_path, len(body),
                                         args.scrapes, args.seconds)
        scraper.close()
        result["gzip"] = gzip_phase(port, exporter.pid, series, args.gzip_scrapes)
        result["rss_hwm_mb_after_sequential"] = status_kb(exporter.pid, "VmHWM") / 1024
        result["conc"] = concurrent_phase(port, exporter.pid, proxy.pid, socket_path, len(body),
                                          args.workers, args.rounds, args.seconds)
        result["rss_hwm_mb"] = status_kb(exporter.pid, "VmHWM") / 1024
        result["rss_now_mb"] = status_kb(exporter.pid, "VmRSS") / 1024
        seq = result["seq"]
        result["seq"]["exporter_us_per_series"] = seq["exporter_cpu_ms_per_scrape"] * 1e3 / series
        result["seq"]["series_per_cpu_second_m"] = series / (
            seq["exporter_cpu_ms_per_scrape"] / 1e3) / 1e6 if seq["exporter_cpu_ms_per_scrape"] else float("inf")
        return result
    finally:
        procs.stop_all()
        shutil.rmtree(workdir, ignore_errors=True)


def median_of(runs, path):
    values = []
    for r in runs:
        v = r
        for key in path:
            v = v[key]
        values.append(v)
    return statistics.median(values), min(values)


def table(results):
    """results: {(ips, top): [run, ...]} -> markdown (medians over runs; best in brackets)."""
    lines = [
        "| IPs | ips.top | series | body KB | p50 ms | p99 ms | exp CPU ms/scrape (best) | "
        "µs/series | M series/CPU-s | peak RSS MB | proxy CPU ms/snapshot | gzip KB / p50 ms | "
        "4× p50/p99 ms | 4× exp CPU ms/scrape | 4× fetches/scrapes |",
        "|---" * 15 + "|",
    ]
    for (ips, top), runs in results.items():
        first = runs[0]
        cpu, cpu_best = median_of(runs, ["seq", "exporter_cpu_ms_per_scrape"])
        per_series = cpu * 1e3 / first["series"]
        rate = first["series"] / (cpu / 1e3) / 1e6 if cpu else float("inf")
        p50, _ = median_of(runs, ["seq", "p50_ms"])
        p99, _ = median_of(runs, ["seq", "p99_ms"])
        rss = max(r["rss_hwm_mb"] for r in runs)
        proxy_cpu, _ = median_of(runs, ["seq", "proxy_cpu_ms_per_snapshot"])
        gz, _ = median_of(runs, ["gzip", "gzip_bytes"])
        gzp50, _ = median_of(runs, ["gzip", "p50_ms"])
        c50, _ = median_of(runs, ["conc", "p50_ms"])
        c99, _ = median_of(runs, ["conc", "p99_ms"])
        ccpu, _ = median_of(runs, ["conc", "exporter_cpu_ms_per_scrape"])
        fetches = sum(r["conc"]["fetches"] for r in runs)
        scrapes = sum(r["conc"]["scrapes"] for r in runs)
        lines.append(
            f"| {ips} | {first['top']} | {first['series']} | {first['body_bytes'] / 1024:.0f} | "
            f"{p50:.2f} | {p99:.2f} | {cpu:.3f} ({cpu_best:.3f}) | {per_series:.3f} | "
            f"{rate:.2f} | {rss:.0f} | {proxy_cpu:.3f} | {gz / 1024:.0f} / {gzp50:.2f} | "
            f"{c50:.2f}/{c99:.2f} | {ccpu:.3f} | {fetches}/{scrapes} |")
    return "\n".join(lines)


def results_from_log(path):
    """Rebuilds {(ips, top): [run, ...]} from the per-run lines printed on stderr, so that a
    run cut short still yields a table."""
    import ast
    pattern = re.compile(r"run \d+/\d+ ips=(\d+) top=(\S+): series=(\d+) seq=(\{.*?\}) "
                         r"conc=(\{.*?\}) gzip=(\{.*?\}) rss_hwm=([\d.]+)MB")
    results = {}
    for line in open(path):
        m = pattern.match(line)
        if not m:
            continue
        top = None if m.group(2) == "None" else int(m.group(2))
        gz = ast.literal_eval(m.group(6))
        results.setdefault((int(m.group(1)), top), []).append({
            "top": top if top is not None else "default (20)", "series": int(m.group(3)),
            "body_bytes": gz["plain_bytes"], "seq": ast.literal_eval(m.group(4)),
            "conc": ast.literal_eval(m.group(5)), "gzip": gz, "rss_hwm_mb": float(m.group(7))})
    return results


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build-dir", default=os.path.join(here, "../../build-perf"))
    parser.add_argument("--ips", default="10,1000,10000,100000")
    parser.add_argument("--tops", default="default,1000000",
                        help="ips.top values; 'default' runs without a config file")
    parser.add_argument("--routes", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scrapes", type=int, default=2000, help="max sequential scrapes")
    parser.add_argument("--rounds", type=int, default=200, help="max concurrent rounds")
    parser.add_argument("--seconds", type=float, default=6, help="time bound per phase")
    parser.add_argument("--gzip-scrapes", type=int, default=5)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", help="write every run's raw figures here")
    parser.add_argument("--from-log", help="print the table from a previous run's stderr")
    parser.add_argument("--proxy-only", action="store_true",
                        help="measure proxy-sim's CPU per snapshot alone (?ips=top)")
    args = parser.parse_args()
    args.build_dir = os.path.abspath(args.build_dir)

    if args.from_log:
        print(table(results_from_log(args.from_log)))
        return
    if args.proxy_only:
        print("| IPs | ?ips= | JSON KB | proxy-sim CPU ms/snapshot (median, best) |")
        print("|---|---|---|---|")
        for ips in [int(x) for x in args.ips.split(",")]:
            for top_text in args.tops.split(","):
                top = None if top_text == "default" else int(top_text)
                runs = [run_proxy_case(args, ips, top) for _ in range(args.repeat)]
                cpu = [r["cpu_ms_per_snapshot"] for r in runs]
                print(f"| {ips} | {20 if top is None else top} | {runs[0]['json_bytes'] / 1024:.0f} "
                      f"| {statistics.median(cpu):.3f}, {min(cpu):.3f} |", flush=True)
        return

    results = {}
    for repeat in range(args.repeat):
        for ips in [int(x) for x in args.ips.split(",")]:
            for top_text in args.tops.split(","):
                top = None if top_text == "default" else int(top_text)
                r = run_case(args, ips, top)
                results.setdefault((ips, top), []).append(r)
                print(f"run {repeat + 1}/{args.repeat} ips={ips} top={top}: "
                      f"series={r['series']} seq={r['seq']} conc={r['conc']} "
                      f"gzip={r['gzip']} rss_hwm={r['rss_hwm_mb']:.1f}MB",
                      file=sys.stderr, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{"ips": k[0], "top": k[1], "runs": v} for k, v in results.items()], f,
                      indent=1)
    print(table(results))


if __name__ == "__main__":
    main()
