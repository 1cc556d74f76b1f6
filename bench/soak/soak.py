#!/usr/bin/env python3
"""Soak benchmark (issue 6, "Sanitizers and soak").

4 concurrent scrapers against a 10k-IP proxy-sim, at least 20,000 scrapes, with the proxy's fault
switched on and off (SIGUSR1) every few hundred scrapes. Phases use different faults; proxy-sim is
restarted between phases, the exporter runs throughout. Reports the exporter's RSS, open fds and
thread count at start, after warm-up and at the end, and the failed scrapes:
  - any HTTP error or non-200 status, in any phase;
  - smartproxy_up 0 while the fault is off (must be 0).
Scrapes that start within the settle time after a toggle are counted separately, as in
transition, since they may share a fetch started before it.

The figures are taken between phases, when no scrape is in flight; "warm" is after the first
phase (by default a warm-up without fault). Exit status 0 when no scrape failed, at least 20,000
scrapes ran and the figures are flat from warm to end (see --max-rss-growth-kib), 1 otherwise.
"""
import argparse
import http.client
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def proc_figures(pid):
    status = open(f"/proc/{pid}/status").read()
    rss = int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1))
    threads = int(re.search(r"^Threads:\s+(\d+)", status, re.M).group(1))
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return {"rss_kib": rss, "fds": fds, "threads": threads}


def fmt(fig):
    return f"RSS {fig['rss_kib'] / 1024:.1f} MiB, fds {fig['fds']}, threads {fig['threads']}"


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise RuntimeError(f"timed out waiting for {what}")


class ProxySim:
    def __init__(self, binary, socket_path, fault, ips, log_dir):
        self.log = open(os.path.join(log_dir, f"proxy-sim-{fault}.out"), "w+")
        self.proc = subprocess.Popen(
            [binary, "--socket", socket_path, "--ips", str(ips), f"--fault={fault}"],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(lambda: self._listening(), 10, "proxy-sim to listen")
        self.fault_on = fault != "none"  # proxy-sim starts with the fault on

    def _listening(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"proxy-sim exited with {self.proc.returncode}")
        self.log.seek(0)
        return "listening" in self.log.read()

    def toggle(self):
        self.proc.send_signal(signal.SIGUSR1)
        self.fault_on = not self.fault_on

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)


class Exporter:
    def __init__(self, binary, socket_path, timeout, log_dir):
        self.log_path = os.path.join(log_dir, "exporter.err")
        self.log = open(self.log_path, "w+")
        self.proc = subprocess.Popen(
            [binary, "--web.listen-address=127.0.0.1:0", "--proxy.socket", socket_path,
             f"--proxy.timeout={timeout}"],
            stdout=subprocess.DEVNULL, stderr=self.log)
        self.port = wait_for(self._port, 10, "the exporter to listen")

    def _port(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"exporter exited with {self.proc.returncode}")
        match = re.search(r"msg=listening .*port=(\d+)", open(self.log_path).read())
        return int(match.group(1)) if match else None

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=10)


class Phase:
    """One proxy-sim fault; scrapers share a counter, the main thread toggles the fault."""

    def __init__(self, fault, scrapes, toggle_every):
        self.fault = fault
        self.scrapes = scrapes
        self.toggle_every = toggle_every


def run_phase(phase, args, exporter, socket_path, log_dir, stats, on_scrape):
    sim = ProxySim(args.proxy_sim, socket_path, phase.fault, args.ips, log_dir)
    lock = threading.Lock()
    # A scrape is "in transition" when it may have seen the fault in the other state: it started
    # less than --settle seconds after a toggle (proxy-sim takes the signal asynchronously), or
    # while a scrape that was in flight at the toggle was still running (it could join that
    # scrape's fetch), or a toggle happened while it ran.
    state = {"fault_on": sim.fault_on, "generation": 0,
             "settled_at": time.monotonic() + args.settle, "barrier": set(), "in_flight": set(),
             "started": 0, "done": 0}
    started_at = time.monotonic()

    def scraper():
        while True:
            with lock:
                if state["started"] >= phase.scrapes:
                    return
                state["started"] += 1
                scrape_id = state["started"]
                state["in_flight"].add(scrape_id)
                fault_on = state["fault_on"]
                generation = state["generation"]
                transition = bool(state["barrier"]) or time.monotonic() < state["settled_at"]
            status, up, error, size = scrape(exporter.port)
            with lock:
                state["done"] += 1
                state["in_flight"].discard(scrape_id)
                state["barrier"].discard(scrape_id)
                if transition or state["generation"] != generation:
                    kind = "transition"
                else:
                    kind = "fault_on" if fault_on else "fault_off"
                s = stats[kind]
                s["scrapes"] += 1
                if status != 200:
                    s["http_errors"] += 1
                    if len(stats["errors"]) < 10:
                        stats["errors"].append(f"{phase.fault}/{kind}: {status} {error}")
                elif up == 0:
                    s["up0"] += 1
                elif up == 1:
                    s["up1"] += 1
                    stats["up1_bytes"] = max(stats["up1_bytes"], size)
                else:
                    s["no_up"] += 1
            on_scrape()

    threads = [threading.Thread(target=scraper) for _ in range(args.scrapers)]
    for t in threads:
        t.start()
    next_toggle = phase.toggle_every if phase.toggle_every > 0 else float("inf")
    toggles = 0
    deadline = time.monotonic() + args.phase_limit
    while any(t.is_alive() for t in threads):
        if time.monotonic() > deadline:
            # Bounded: stop handing out scrapes, let the running ones finish.
            with lock:
                state["started"] = phase.scrapes
            print(f"  phase {phase.fault}: time limit reached", flush=True)
            deadline = float("inf")
        with lock:
            if state["done"] >= next_toggle:
                sim.toggle()
                state["fault_on"] = sim.fault_on
                state["generation"] += 1
                state["settled_at"] = time.monotonic() + args.settle
                state["barrier"] = set(state["in_flight"])
                toggles += 1
                next_toggle += phase.toggle_every
        time.sleep(0.002)
    for t in threads:
        t.join()
    sim.stop()
    return state["done"], toggles, time.monotonic() - started_at


def scrape(port):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/metrics")
        response = conn.getresponse()
        body = response.read()
        conn.close()
    except (OSError, http.client.HTTPException) as e:
        return 0, None, repr(e), 0
    match = re.search(rb"^smartproxy_up (\S+)$", body, re.M)
    up = int(float(match.group(1))) if match else None
    return response.status, up, "", len(body)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    parser.add_argument("--ips", type=int, default=10000)
    parser.add_argument("--scrapers", type=int, default=4)
    parser.add_argument("--timeout", default="500ms", help="the exporter's --proxy.timeout")
    parser.add_argument("--settle", type=float, default=0.02,
                        help="seconds after a toggle during which scrapes count as transition")
    parser.add_argument("--phase-limit", type=float, default=300,
                        help="seconds after which a phase stops handing out scrapes")
    parser.add_argument("--phases", default="none:500:0,http500:9000:300,garbage:9000:300,"
                        "hang:1200:150,slow:800:100,truncate:2000:250",
                        help="fault:scrapes:toggle_every,... (toggle_every 0: never); the "
                        "figures after the first phase are the 'warm' ones")
    parser.add_argument("--max-rss-growth-kib", type=int, default=8192,
                        help="allowed RSS growth from after warm-up to the end")
    args = parser.parse_args()
    args.proxy_sim = os.path.join(args.build_dir, "tools/proxy_sim/proxy-sim")
    args.exporter = os.path.join(args.build_dir, "exporter/smartproxy_exporter")
    phases = []
    for spec in args.phases.split(","):
        fault, scrapes, every = spec.split(":")
        phases.append(Phase(fault, int(scrapes), int(every)))

    log_dir = tempfile.mkdtemp(prefix="soak-")
    socket_path = os.path.join(log_dir, "p.sock")
    exporter = Exporter(args.exporter, socket_path, args.timeout, log_dir)
    stats = {k: {"scrapes": 0, "http_errors": 0, "up0": 0, "up1": 0, "no_up": 0}
             for k in ("fault_off", "fault_on", "transition")}
    stats["errors"] = []
    stats["up1_bytes"] = 0
    figures = {"start": proc_figures(exporter.proc.pid)}
    total = [0]
    total_lock = threading.Lock()

    def on_scrape():
        with total_lock:
            total[0] += 1

    print(f"exporter pid {exporter.proc.pid} port {exporter.port}; logs in {log_dir}")
    print(f"start: {fmt(figures['start'])}", flush=True)
    began = time.monotonic()
    exit_status = None
    try:
        for phase in phases:
            done, toggles, took = run_phase(phase, args, exporter, socket_path, log_dir, stats,
                                            on_scrape)
            fig = proc_figures(exporter.proc.pid)
            figures.setdefault("warm", fig)
            print(f"phase {phase.fault:9}: {done} scrapes, {toggles} toggles, {took:.1f} s "
                  f"({done / took:.0f}/s); {fmt(fig)}", flush=True)
        figures["end"] = proc_figures(exporter.proc.pid)
    finally:
        exit_status = exporter.stop()
    elapsed = time.monotonic() - began

    print(f"total: {total[0]} scrapes in {elapsed:.1f} s; largest up=1 response "
          f"{stats['up1_bytes']} bytes")
    for key in ("start", "warm", "end"):
        if key in figures:
            print(f"{key:5}: {fmt(figures[key])}")
    for kind in ("fault_off", "fault_on", "transition"):
        s = stats[kind]
        print(f"{kind:10}: {s['scrapes']} scrapes, up=1 {s['up1']}, up=0 {s['up0']}, "
              f"HTTP errors {s['http_errors']}, no up sample {s['no_up']}")
    for error in stats["errors"]:
        print(f"  error: {error}")
    failed = sum(stats[k]["http_errors"] + stats[k]["no_up"] for k in
                 ("fault_off", "fault_on", "transition")) + stats["fault_off"]["up0"]
    print(f"failed scrapes: {failed} (HTTP errors + missing up + up=0 while the fault is off)")
    print(f"exporter exit status after SIGTERM: {exit_status}")
    ok = failed == 0 and exit_status == 0 and total[0] >= 20000
    if "warm" in figures and "end" in figures:
        warm, end = figures["warm"], figures["end"]
        growth = end["rss_kib"] - warm["rss_kib"]
        flat = (growth <= args.max_rss_growth_kib and end["fds"] == warm["fds"] and
                end["threads"] == warm["threads"])
        print(f"warm -> end: RSS {growth:+d} KiB, fds {end['fds'] - warm['fds']:+d}, "
              f"threads {end['threads'] - warm['threads']:+d} -> {'flat' if flat else 'NOT flat'}")
        ok = ok and flat
    print("soak: PASS" if ok else "soak: FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
