#!/usr/bin/env python3
"""Paired scrape cost of several exporter builds, for differences too small for one run each.

Every BIN runs at once, each fed by its own proxy-sim (100k client IPs, --seed 1); rounds of N
keep-alive scrapes alternate between them (the order reversed every other round), so that the
machine's noise falls on all alike. Per build: exporter CPU per scrape from
/proc/PID/task/*/schedstat, its ratio to the first BIN, minor page faults per scrape, VmHWM.
MODE `all` exports every IP (300k series), `def` is the default config. SIM (environment)
picks the proxy-sim binary. Loopback only; every process started here is stopped.

usage: SIM=build/tools/proxy_sim/proxy-sim paired_scrape.py all|def ROUNDS N BIN...
"""
import http.client, os, sys, subprocess, socket, tempfile, time
mode, rounds, n, bins = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
SIM = os.environ.get("SIM", "/work/main/build/tools/proxy_sim/proxy-sim")
def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
def task_ns(pid):
    t = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try: t += int(open("/proc/%d/task/%s/schedstat" % (pid, tid)).read().split()[0])
        except OSError: pass
    return t
def status(pid, key):
    for l in open("/proc/%d/status" % pid):
        if l.startswith(key): return int(l.split()[1]) // 1024
procs = []; ex = []
try:
    for b in bins:
        d = tempfile.mkdtemp(prefix="paired.")
        sim = subprocess.Popen([SIM, "--socket", d + "/sim.sock", "--routes", "12", "--ips", "100000", "--seed", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(sim)
        while not os.path.exists(d + "/sim.sock"): time.sleep(0.05)
        args = [b, "--proxy.socket", d + "/sim.sock", "--log.level=warn"]
        if mode == "all":
            open(d + "/all.yml", "w").write("metrics:\n  ips:\n    top: 1000000\n")
            args += ["--config.file", d + "/all.yml"]
        port = free_port()
        p = subprocess.Popen(args + ["--web.listen-address=127.0.0.1:%d" % port], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(p)
        for _ in range(100):
            try: socket.create_connection(("127.0.0.1", port), 0.2).close(); break
            except OSError: time.sleep(0.1)
        ex.append((os.path.basename(b), p.pid, http.client.HTTPConnection("127.0.0.1", port, timeout=120)))
    for enc in ("identity", "gzip"):
        h = {"Accept-Encoding": enc}
        tot = [0] * len(ex); flt = [0] * len(ex)
        for name, pid, c in ex:
            for _ in range(3): c.request("GET", "/metrics", headers=h); c.getresponse().read()
        for r in range(rounds):
            order = list(range(len(ex))) if r % 2 == 0 else list(reversed(range(len(ex))))
            for i in order:
                name, pid, c = ex[i]
                c.close()
                c.request("GET", "/metrics", headers=h); c.getresponse().read()
                f0 = int(open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[7])
                t0 = task_ns(pid)
                for _ in range(n): c.request("GET", "/metrics", headers=h); c.getresponse().read()
                tot[i] += task_ns(pid) - t0
                flt[i] += int(open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[7]) - f0
        base = tot[0]
        for i, (name, pid, c) in enumerate(ex):
            print("%-6s %-20s %8.3f ms/scrape  ratio-to-first %.3f  minflt/scrape %6d  HWM %d MiB" % (
                enc, name, tot[i] / rounds / n / 1e6, tot[i] / base, flt[i] // (rounds * n), status(pid, "VmHWM")), flush=True)
finally:
    for p in procs: p.terminate()
