#!/usr/bin/env python3
"""RSS cost of civetweb's worker threads (one per connection, --web.max-connections).

For each --web.max-connections value, starts smartproxy_exporter on 127.0.0.1 port 0 (the port
read back from its `msg=listening ... port=N` line) with no proxy (--proxy.socket points at a
path in a temp dir that nothing listens on), reads VmRSS, RssAnon, Threads and open fds from
/proc/PID, then opens --idle connections that send nothing and reads them again once the
exporter has accepted all it will. A config file sets web.request_timeout long (60s) so that
civetweb does not close the idle connections while they are measured.

Then each connection sends one request (GET /-/healthy) and reads the answer, and the figures
are read a third time ("served"). Reported per value: the three sets of figures, and
  - KiB per worker thread: the slope of start RSS over max-connections (first to last value);
  - KiB per idle connection: (RSS idle held - RSS start) / workers, where workers is
    min(connections, max-connections): the rest wait in civetweb's queue or the listen backlog;
  - KiB per served connection: (RSS served - RSS start) / workers.
Each value is measured --runs times in a fresh process and the median taken. Loopback only,
stdlib only. Nothing is asserted: this is a measurement, see README.md next to it.
"""
import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def proc_figures(pid):
    status = open(f"/proc/{pid}/status").read()

    def field(name):
        return int(re.search(rf"^{name}:\s+(\d+)", status, re.M).group(1))

    return {
        "rss_kib": field("VmRSS"),
        "anon_kib": field("RssAnon"),
        "threads": field("Threads"),
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
    }


def wait_stable(pid, key, stable_for, timeout):
    """Polls /proc until figure `key` has not changed for `stable_for` seconds."""
    deadline = time.monotonic() + timeout
    last = proc_figures(pid)[key]
    since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = proc_figures(pid)[key]
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= stable_for:
            return last
    raise RuntimeError(f"{key} of pid {pid} did not settle within {timeout} s")


def start_exporter(binary, tmp, max_connections):
    config = os.path.join(tmp, "config.yml")
    with open(config, "w") as f:
        f.write("web:\n  request_timeout: 60s\n")
    log = open(os.path.join(tmp, f"exporter-{max_connections}.log"), "w+")
    proc = subprocess.Popen(
        [binary, "--web.listen-address=127.0.0.1:0",
         "--proxy.socket=" + os.path.join(tmp, "nothing.sock"),
         "--config.file=" + config, f"--web.max-connections={max_connections}"],
        stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        log.seek(0)
        match = re.search(r"msg=listening .*port=(\d+)", log.read())
        if match:
            return proc, int(match.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    proc.kill()
    log.seek(0)
    raise RuntimeError(f"exporter did not start: {log.read()}")


def measure(binary, max_connections, idle):
    with tempfile.TemporaryDirectory(prefix="rss-threads-") as tmp:
        proc, port = start_exporter(binary, tmp, max_connections)
        connections = []
        try:
            wait_stable(proc.pid, "threads", 0.3, 20)
            wait_stable(proc.pid, "rss_kib", 0.5, 20)
            start = proc_figures(proc.pid)
            for _ in range(idle):
                connections.append(socket.create_connection(("127.0.0.1", port), timeout=10))
            # Accepted once the fd count stops growing: every worker busy, civetweb's queue full.
            wait_stable(proc.pid, "fds", 0.5, 30)
            wait_stable(proc.pid, "rss_kib", 0.5, 20)
            held = proc_figures(proc.pid)
            # Then one request on each (a worker answers it, keeps the connection alive for
            # keep_alive_timeout, 2 s, then takes the next queued one): workers that have served
            # a request have touched their request buffer.
            for c in connections:
                c.sendall(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n")
            for c in connections:
                c.settimeout(30)
                answer = b""
                while not answer.endswith(b"Healthy\n"):
                    chunk = c.recv(4096)
                    if not chunk:
                        raise RuntimeError(f"connection closed before its answer: {answer!r}")
                    answer += chunk
            wait_stable(proc.pid, "rss_kib", 0.5, 20)
            served = proc_figures(proc.pid)
            return start, held, served
        finally:
            for c in connections:
                c.close()
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    parser.add_argument("--max-connections", default="64,256,1024",
                        help="comma-separated --web.max-connections values")
    parser.add_argument("--idle", type=int, default=200, help="connections held")
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per value")
    args = parser.parse_args()
    binary = os.path.join(args.build_dir, "exporter", "smartproxy_exporter")
    if not os.access(binary, os.X_OK):
        sys.exit(f"no exporter at {binary}: build it first (ninja -C {args.build_dir})")
    values = [int(v) for v in args.max_connections.split(",")]

    rows = []
    for n in values:
        runs = [measure(binary, n, args.idle) for _ in range(args.runs)]
        # Median per state and figure over the runs.
        start, held, served = ({k: statistics.median(r[i][k] for r in runs) for k in runs[0][i]}
                               for i in range(3))
        rows.append((n, start, held, served, min(args.idle, n)))

    print(f"exporter: {binary}; {args.idle} connections; median of {args.runs} runs; "
          f"sizes in KiB (VmRSS; anon = RssAnon)")
    print(f"{'max-conn':>8} {'threads':>7} | {'start':>6} {'anon':>6} | {'idle held':>9} "
          f"{'anon':>6} {'fds':>4} | {'served':>6} {'anon':>6} | {'workers':>7} "
          f"{'KiB/idle conn':>13} {'KiB/served':>10}")
    for n, start, held, served, workers in rows:
        print(f"{n:>8} {start['threads']:>7.0f} | {start['rss_kib']:>6.0f} "
              f"{start['anon_kib']:>6.0f} | {held['rss_kib']:>9.0f} {held['anon_kib']:>6.0f} "
              f"{held['fds']:>4.0f} | {served['rss_kib']:>6.0f} {served['anon_kib']:>6.0f} | "
              f"{workers:>7} {(held['rss_kib'] - start['rss_kib']) / workers:>13.1f} "
              f"{(served['rss_kib'] - start['rss_kib']) / workers:>10.1f}")
    if len(rows) >= 2:
        (n0, s0, *_), (n1, s1, *_) = rows[0], rows[-1]
        threads = s1["threads"] - s0["threads"]
        print(f"KiB per worker thread at start ({n0} -> {n1} max-connections, "
              f"{threads:.0f} more threads): {(s1['rss_kib'] - s0['rss_kib']) / threads:.1f} "
              f"(anon {(s1['anon_kib'] - s0['anon_kib']) / threads:.1f})")


if __name__ == "__main__":
    main()
