"""Shared pieces of the fleet test (fleet_test.py) and the fleet measurement
(bench/fleet/measure.py): processes stopped even on failure, free loopback ports, a fleet of
proxy-sims and exporters, the agent template, VictoriaMetrics' query API. Standard library only
(run with /usr/bin/python3).
"""

import ctypes
import json
import os
import re
import signal
import socket
import string
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

PR_SET_PDEATHSIG = 1


class TestFailure(Exception):
    pass


class ProcessExited(TestFailure):
    """A started process ended early: poll() stops waiting at once."""


def poll(what, check, deadline_seconds=60, interval=0.25):
    """Calls check() until it returns a truthy value; raises TestFailure after the deadline."""
    deadline = time.monotonic() + deadline_seconds
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except ProcessExited:
            raise
        except (OSError, ValueError, KeyError, TestFailure) as error:
            last_error = error
        time.sleep(interval)
    raise TestFailure(f"timed out after {deadline_seconds}s waiting for {what}"
                      + (f" (last error: {last_error})" if last_error else ""))


def free_port():
    """A port that was free a moment ago on 127.0.0.1 (for servers that cannot report the port
    they bound: Prometheus, VictoriaMetrics, vmalert)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_text(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def _die_with_parent():
    # A child outlives a SIGKILLed test otherwise; SIGKILL when the parent thread exits.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class Processes:
    """Starts processes with their output in files; stop_all() ends each one it started (a
    paused one is continued first so that it can act on SIGTERM)."""

    def __init__(self, directory):
        self.directory = directory
        self.started = {}

    def start(self, name, argv):
        assert name not in self.started, f"process name {name} used twice"
        out = open(os.path.join(self.directory, f"{name}.log"), "wb")
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        self.started[name] = (process, out)
        return process

    def pid(self, name):
        return self.started[name][0].pid

    def output(self, name):
        return read_text(os.path.join(self.directory, f"{name}.log"))

    def check_running(self, names=None):
        for name in names or self.started:
            process = self.started[name][0]
            if process.poll() is not None:
                raise ProcessExited(f"{name} exited with {process.returncode}:\n"
                                  + self.output(name)[-3000:])

    def pause(self, name):
        os.kill(self.pid(name), signal.SIGSTOP)

    def resume(self, name):
        os.kill(self.pid(name), signal.SIGCONT)

    def stop(self, name, timeout=10):
        process, out = self.started[name]
        if process.poll() is None:
            try:
                process.send_signal(signal.SIGCONT)
                process.terminate()
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        out.close()

    def stop_all(self):
        # SIGTERM to all first, then wait: 100+ processes stop in parallel.
        for process, _ in self.started.values():
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.terminate()
        deadline = time.monotonic() + 10
        for name, (process, out) in self.started.items():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            out.close()


def start_server(processes, name, make_argv, ready_path, attempts=3, deadline=60):
    """Starts a server that cannot listen on port 0 (Prometheus, VictoriaMetrics, vmalert) on a
    free port and waits until ready_path answers 200; if another process took the port in the
    meantime (the server exits), tries again on another one. Returns the port."""
    for attempt in range(attempts):
        port = free_port()
        label = name if attempt == 0 else f"{name}-retry{attempt}"
        processes.start(label, make_argv(port))
        url = f"http://127.0.0.1:{port}{ready_path}"

        def ready():
            processes.check_running([label])
            return http_get(url, timeout=2)[0] == 200
        try:
            poll(f"{name} at {url}", ready, deadline)
            processes.started[name] = processes.started.pop(label)
            return port
        except ProcessExited:
            if "address already in use" not in processes.output(label) or attempt + 1 == attempts:
                raise
            processes.stop(label)
    raise AssertionError("unreachable")


def rss_kib(pid, field="VmRSS"):
    """VmRSS (or VmHWM, the peak) of a process in KiB, from /proc."""
    for line in read_text(f"/proc/{pid}/status").splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise TestFailure(f"no {field} for pid {pid}")


def http_get(url, timeout=10):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def unix_http_get(socket_path, path="/v1/snapshot", timeout=5):
    """One HTTP/1.1 GET over a Unix socket (Connection: close); returns the body."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(socket_path)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    response = b"".join(chunks)
    head, _, body = response.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0]
    if b" 200 " not in status + b" ":
        raise TestFailure(f"GET {path} on {socket_path}: {status!r}")
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    return body[:int(length.group(1))] if length else body


def start_sims(processes, proxy_sim, directory, count, seed_base, start_ms, routes):
    """Starts `count` proxy-sims (seed seed_base + i, simulated time: each snapshot served
    advances it by 1 s from start_ms) on Unix sockets in directory; returns the socket paths
    once all listen."""
    sockets = []
    for i in range(count):
        path = os.path.join(directory, f"s{i:02d}.sock")
        processes.start(f"sim{i:02d}", [proxy_sim, "--socket", path, "--routes", str(routes),
                                       "--seed", str(seed_base + i), "--start-time", str(start_ms)])
        sockets.append(path)
    names = [f"sim{i:02d}" for i in range(count)]
    poll(f"{count} proxy-sims to listen",
         lambda: processes.check_running(names) or
         all("proxy-sim listening on" in processes.output(n) for n in names), 60)
    return sockets


def start_exporters(processes, exporter, sockets, extra_args=()):
    """Starts one exporter per socket on 127.0.0.1:0; returns their ports (read back from each
    exporter's listening line)."""
    names = []
    for i, path in enumerate(sockets):
        name = f"exporter{i:02d}"
        processes.start(name, [exporter, f"--proxy.socket={path}",
                               "--web.listen-address=127.0.0.1:0", *extra_args])
        names.append(name)

    def ports():
        processes.check_running(names)
        found = []
        for name in names:
            match = re.search(r"msg=listening .*?port=(\d+)", processes.output(name))
            if not match:
                return None
            found.append(int(match.group(1)))
        return found
    return poll(f"{len(sockets)} exporters' listening lines", ports, 60)


def render_template(template_path, values):
    """${VAR} substitution as envsubst does it (every variable must be given)."""
    return string.Template(read_text(template_path)).substitute(values)


class Store:
    """VictoriaMetrics' Prometheus-compatible query API (what Grafana and vmalert read)."""

    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"

    def get(self, path, params=None):
        url = self.base + path + ("?" + urllib.parse.urlencode(params, doseq=True) if params else "")
        status, body = http_get(url, timeout=30)
        try:
            answer = json.loads(body)
        except ValueError:
            raise TestFailure(f"GET {url}: HTTP {status}: {body[:500]!r}") from None
        if answer.get("status") != "success":
            raise TestFailure(f"GET {url}: {answer.get('errorType')}: {answer.get('error')}")
        return answer["data"]

    def query(self, expr, at=None):
        """Instant query; returns the result list (a scalar as a one-element list)."""
        params = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        data = self.get("/api/v1/query", params)
        if data["resultType"] in ("scalar", "string"):
            return [{"metric": {}, "value": data["result"]}]
        return data["result"]

    def series(self, match, start, end=None):
        params = {"match[]": match, "start": f"{start:.3f}"}
        if end is not None:
            params["end"] = f"{end:.3f}"
        return self.get("/api/v1/series", params)

    def label_values(self, label, match, start):
        return self.get(f"/api/v1/label/{urllib.parse.quote(label)}/values",
                        {"match[]": match, "start": f"{start:.3f}"})

    def own_metrics(self):
        """VictoriaMetrics' /metrics as {name{labels}: value}."""
        _, body = http_get(self.base + "/metrics")
        values = {}
        for line in body.decode().splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.rpartition(" ")
                try:
                    values[key] = float(value)
                except ValueError:
                    pass
        return values
