// Soak: the overhead benchmark's proxy, backend and exporters under moderate, steady load for a
// bounded time, sampling the proxy's heap (after a full GC) and RSS, and each exporter's RSS, fds
// and threads. Prints least-squares slopes (MB/h) over the samples after the warm-up and
// start/end values; every sample is also a JSON line in --out.
//
//   node soak.mjs --minutes 35 --out /tmp/soak.jsonl
//   node soak.mjs --analyse /tmp/soak.jsonl --warmup-minutes 5,20   slopes again, from 5 and 20 min
//
// Load: wrk keep-alive (--connections, each paced by --delay-ms per request) plus wrk with
// "Connection: close" (--churn-connections, paced by --churn-delay-ms), in 60 s segments; the
// idle client IPs (--ips) are churned (--ip-churn per second replaced by new ones). Three
// exporters read the one adapter: default config every --default-interval s, anonymize: prefix
// every --prefix-interval s, every IP every --all-interval s. Once a minute the default
// exporter's scrape is compared with the proxy's records taken inside the same snapshot
// (accuracy.mjs): a long run must stay exact. SMARTPROXY_EXPORTER_BIN or --exporter picks the binary.
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import * as lib from './lib.mjs';
import { compareScrape } from './accuracy.mjs';

const { values: opt } = parseArgs({
  options: {
    minutes: { type: 'string', default: '35' },
    'warmup-minutes': { type: 'string', default: '5' },
    ips: { type: 'string', default: '10000' },
    'ip-churn': { type: 'string', default: '20' },
    connections: { type: 'string', default: '8' },
    'delay-ms': { type: 'string', default: '2' },
    'churn-connections': { type: 'string', default: '2' },
    'churn-delay-ms': { type: 'string', default: '10' },
    'default-interval': { type: 'string', default: '1' },
    'prefix-interval': { type: 'string', default: '5' },
    'all-interval': { type: 'string', default: '5' },
    'sample-seconds': { type: 'string', default: '30' },
    exporter: { type: 'string', default: lib.defaultExporterBin() },
    out: { type: 'string', default: '/tmp/smartproxy-soak.jsonl' },
    // Only summarise a finished run's --out file (--warmup-minutes may list several: 5,15).
    analyse: { type: 'string' },
  },
});
/** Slopes (least squares, MB/h) and first/last values over the samples from `fromMinutes` on. */
export function summarise(samples, fromMinutes) {
  const warm = samples.filter((x) => x.t >= fromMinutes * 60);
  const use = warm.length >= 3 ? warm : samples;
  const hours = use.map((x) => x.t / 3600);
  const perHour = (pick) => lib.slope(hours, use.map(pick)) / 2 ** 20;
  const first = use[0];
  const last = use[use.length - 1];
  const mb = (b) => Number((b / 2 ** 20).toFixed(1));
  const share = (a, b) => ((b - a) / ((last.t - first.t) * 1000)) * 100;
  return {
    minutes: samples[samples.length - 1].t / 60,
    slopeWindow: `${(first.t / 60).toFixed(1)}-${(last.t / 60).toFixed(1)} min, ${use.length} samples`,
    proxy: {
      heapUsedMBPerHour: perHour((x) => x.proxy.heapUsed), rssMBPerHour: perHour((x) => x.proxy.rss),
      heapUsedMB: [mb(first.proxy.heapUsed), mb(last.proxy.heapUsed)], rssMB: [mb(first.proxy.rss), mb(last.proxy.rss)],
      fds: [first.proxy.fds, last.proxy.fds], threads: [first.proxy.threads, last.proxy.threads],
      records: [first.proxy.records, last.proxy.records],
      cpuPercent: share(first.proxy.cpuMs, last.proxy.cpuMs),
    },
    exporters: Object.fromEntries(Object.keys(first.exporters).map((c) => [c, {
      rssMBPerHour: perHour((x) => x.exporters[c].rss),
      rssMB: [mb(first.exporters[c].rss), mb(last.exporters[c].rss)],
      fds: [first.exporters[c].fds, last.exporters[c].fds],
      threads: [first.exporters[c].threads, last.exporters[c].threads],
      cpuPercent: share(first.exporters[c].cpuMs, last.exporters[c].cpuMs),
    }])),
  };
}

if (opt.analyse) {
  const samples = fs.readFileSync(opt.analyse, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((x) => x.t !== undefined);
  for (const from of opt['warmup-minutes'].split(',').map(Number)) {
    console.log(JSON.stringify({ fromMinutes: from, ...summarise(samples, from) }, null, 2));
  }
  process.exit(0);
}

const minutes = Number(opt.minutes);
const endAt = Date.now() + minutes * 60_000;
const dir = lib.tempDir('soak.');
const socket = `${dir}/metrics.sock`;
const out = fs.createWriteStream(opt.out);
const log = (line) => console.log(`${new Date().toISOString()} ${line}`);

let stopping = false;
const onSignal = () => { stopping = true; lib.stopAll(); };
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

// One wrk after another until the end: keep-alive, or a new connection per request (close).
async function wrkLoop(port, close, connections, delayMs, stats) {
  const script = 'report.lua';
  while (!stopping && Date.now() < endAt - 1000) {
    const seconds = Math.max(1, Math.min(60, Math.floor((endAt - Date.now()) / 1000) - 1));
    // Read by report.lua; wrk is spawned synchronously by runWrk, before the other loop runs.
    process.env.WRK_DELAY_MS = String(delayMs);
    process.env.WRK_CLOSE = close ? '1' : '0';
    try {
      const r = await lib.runWrk({ port, seconds, connections, threads: 1, script, timeout: '10s' });
      stats.push(r);
    } catch (error) {
      if (!stopping) log(`wrk ${script}: ${error.message}`);
    }
  }
}

// The accuracy check needs the next snapshot to be its own: it closes the gate and waits until no
// scrape is in flight.
const gate = { closed: undefined, inFlight: 0 };

async function scrapeLoop(exporter, intervalSeconds, counts) {
  const s = lib.scraper(exporter.port, { timeoutSeconds: Math.min(10, intervalSeconds) });
  let next = Date.now();
  while (!stopping && Date.now() < endAt) {
    while (gate.closed) await gate.closed;
    gate.inFlight += 1;
    const r = await s.scrape();
    gate.inFlight -= 1;
    if (r.ok) counts.ok += 1;
    else { counts.failed += 1; if (counts.failed <= 5) log(`${exporter.config} scrape failed: ${JSON.stringify(r)}`); }
    counts.maxMs = Math.max(counts.maxMs, r.ms);
    next += intervalSeconds * 1000;
    await lib.sleep(Math.max(0, next - Date.now()));
  }
  s.close();
}

try {
  const backend = await lib.startBackend();
  const proxy = await lib.startProxy({ socket, backendPort: backend.port, idleIPs: Number(opt.ips), exposeGc: true });
  const exporters = {};
  for (const config of ['default', 'prefix', 'all']) {
    exporters[config] = await lib.startExporter({ bin: opt.exporter, socket, config, dir });
  }
  log(`soak ${minutes} min, ${opt.ips} idle IPs (+${opt['ip-churn']}/s churn), proxy pid ${proxy.pid}, ` +
    `exporters ${Object.values(exporters).map((e) => `${e.config}:${e.pid}`).join(' ')}, samples -> ${opt.out}`);

  const wrkStats = { keepAlive: [], churn: [] };
  const counts = Object.fromEntries(Object.keys(exporters).map((c) => [c, { ok: 0, failed: 0, maxMs: 0 }]));
  const accuracy = { checks: 0, failedRows: [] };
  const loops = [
    wrkLoop(proxy.port, false, Number(opt.connections), Number(opt['delay-ms']), wrkStats.keepAlive),
    wrkLoop(proxy.port, true, Number(opt['churn-connections']), Number(opt['churn-delay-ms']), wrkStats.churn),
    scrapeLoop(exporters.default, Number(opt['default-interval']), counts.default),
    scrapeLoop(exporters.prefix, Number(opt['prefix-interval']), counts.prefix),
    scrapeLoop(exporters.all, Number(opt['all-interval']), counts.all),
  ];
  const churnTimer = setInterval(() => proxy.call('churnIdle', { count: Number(opt['ip-churn']) }).catch(() => {}), 1000);

  const samples = [];
  const t0 = Date.now();
  const accuracyScraper = lib.scraper(exporters.default.port, { timeoutSeconds: 10 });
  let lastAccuracy = 0;
  while (!stopping && Date.now() < endAt) {
    const memory = await proxy.call('memory', { gc: true });
    const proxyProc = lib.procStats(proxy.pid);
    const sample = {
      t: (Date.now() - t0) / 1000,
      proxy: { heapUsed: memory.heapUsed, rss: proxyProc.rss, fds: proxyProc.fds, threads: proxyProc.threads,
        records: memory.records, live: memory.live, ipTrackers: memory.ipTrackers, cpuMs: lib.cpuMsOf(proxy.pid) },
      exporters: Object.fromEntries(Object.entries(exporters).map(([c, e]) =>
        [c, { ...lib.procStats(e.pid), cpuMs: lib.cpuMsOf(e.pid) }])),
      scrapes: structuredClone(counts),
    };
    samples.push(sample);
    out.write(`${JSON.stringify(sample)}\n`);
    if (Date.now() - lastAccuracy >= 60_000) {
      lastAccuracy = Date.now();
      let open;
      gate.closed = new Promise((resolve) => { open = resolve; });
      while (gate.inFlight > 0) await lib.sleep(5);
      const [truth, scrape] = await Promise.all([proxy.call('truthAtNextSnapshot'), accuracyScraper.scrape({ full: true })]);
      const rows = compareScrape(scrape.text ?? '', truth, 'default');
      gate.closed = undefined;
      open();
      accuracy.checks += 1;
      for (const r of rows) if (!r.pass) accuracy.failedRows.push({ t: sample.t, ...r });
    }
    const mb = (b) => (b / 2 ** 20).toFixed(1);
    log(`t=${sample.t.toFixed(0)}s proxy heap ${mb(sample.proxy.heapUsed)} MB rss ${mb(sample.proxy.rss)} MB ` +
      `records ${sample.proxy.records} | ${Object.entries(sample.exporters).map(([c, e]) =>
        `${c} rss ${mb(e.rss)} fds ${e.fds} thr ${e.threads}`).join(' | ')}`);
    await lib.sleep(Math.min(Number(opt['sample-seconds']) * 1000, Math.max(0, endAt - Date.now())));
  }
  clearInterval(churnTimer);
  stopping = true;
  await Promise.all(loops);
  accuracyScraper.close();

  const summary = {
    ...summarise(samples, Number(opt['warmup-minutes'])),
    scrapes: counts,
    load: Object.fromEntries(Object.entries(wrkStats).map(([k, list]) => [k, {
      segments: list.length, requests: list.reduce((a, r) => a + r.requests, 0),
      rps: list.reduce((a, r) => a + r.requests, 0) / list.reduce((a, r) => a + r.seconds, 0),
      medianP99Ms: lib.median(list.map((r) => r.p99Ms)), errors: list.reduce((a, r) => a + r.errors, 0),
    }])),
    accuracy,
  };
  out.write(`${JSON.stringify({ summary })}\n`);
  console.log(JSON.stringify(summary, null, 2));
} finally {
  out.end();
  await lib.stopAll();
  fs.rmSync(dir, { recursive: true, force: true });
}
