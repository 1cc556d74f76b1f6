// Overhead and accuracy of the exporter on a real Node proxy (README.md here).
//
//   node run.mjs                                   the full matrix, then the tables
//   node run.mjs --ips 1000 --intervals 1 --cell-seconds 1:10   a quick look
//   node run.mjs --accuracy-only                   only the /metrics-against-records checks
//
// Per tracked-IP count: one backend, one proxy (proxy.mjs, adapter loaded, N idle client IPs +
// wrk's 127.0.0.1) and three exporters (default config, anonymize: prefix, every IP), always
// running; an exporter costs only while it is scraped. Cells, each a wrk run (keep-alive,
// --connections): "no exporter" (B, nobody scrapes) and "config C scraped every I s" (X), in the
// order B X B X ... B, so that every X has a B on each side; X is reported as the ratio to the
// mean of its two neighbours, and the ratio between consecutive B cells is the run's noise.
// Scrapes are driven here (lib.scraper: gzip, Prometheus' headers, timeout = min(10 s, I)),
// at I/2, 3I/2, ... into the cell. Event-loop delay is the proxy's monitorEventLoopDelay (10 ms
// resolution; reported as the excess over it).
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import * as lib from './lib.mjs';
import { compareRates, compareScrape } from './accuracy.mjs';

const { values: opt } = parseArgs({
  options: {
    ips: { type: 'string', default: '1000,10000,100000' },
    configs: { type: 'string', default: 'default,prefix,all' },
    intervals: { type: 'string', default: '15,1' },
    // interval:seconds of a cell (B cells take the length of the X cell they neighbour)
    'cell-seconds': { type: 'string', default: '15:45,1:20' },
    connections: { type: 'string', default: '64' },
    'wrk-threads': { type: 'string', default: '1' },
    // e.g. proxy=0,backend=1,wrk=1,exporter=1 (taskset -c); default: no pinning
    pin: { type: 'string', default: '' },
    exporter: { type: 'string', default: lib.defaultExporterBin() },
    accuracy: { type: 'boolean', default: true },
    'no-accuracy': { type: 'boolean', default: false },
    'accuracy-only': { type: 'boolean', default: false },
    'rate-seconds': { type: 'string', default: '60' },
    json: { type: 'string', default: '/tmp/smartproxy-overhead.json' },
  },
});
const pin = Object.fromEntries(opt.pin.split(',').filter(Boolean).map((kv) => kv.split('=')));
const cellSeconds = Object.fromEntries(opt['cell-seconds'].split(',').map((kv) => kv.split(':').map(Number)));
const ipCounts = opt.ips.split(',').map(Number);
const configs = opt.configs.split(',');
const intervals = opt.intervals.split(',').map(Number);
const connections = Number(opt.connections);
const log = (line) => console.error(`${new Date().toISOString()} ${line}`);
const kLoopResolutionMs = 10;

async function runCell(env, { kind, config, interval, seconds }) {
  const { proxy, backend, exporters } = env;
  const exporter = config ? exporters[config] : undefined;
  await proxy.call('loopStats');
  const cpu0 = { backend: lib.cpuMsOf(backend.child.pid), exporter: exporter ? lib.cpuMsOf(exporter.pid) : 0 };
  const wrk = lib.runWrk({ port: proxy.port, seconds, connections, threads: Number(opt['wrk-threads']), cpus: pin.wrk });
  const scrapes = [];
  if (exporter) {
    const s = lib.scraper(exporter.port, { timeoutSeconds: Math.min(10, interval) });
    const t0 = Date.now();
    for (let k = 0; ; k += 1) {
      const at = t0 + (k + 0.5) * interval * 1000;
      if (at > t0 + seconds * 1000 - 200) break;
      await lib.sleep(Math.max(0, at - Date.now()));
      scrapes.push(await s.scrape());
    }
    s.close();
  }
  const w = await wrk;
  const loop = await proxy.call('loopStats');
  const cell = {
    kind, config, interval, seconds, ips: env.ips,
    rps: w.rps, p50Ms: w.p50Ms, p99Ms: w.p99Ms, maxMs: w.maxMs, wrkErrors: w.errors,
    loopP99Ms: Math.max(0, loop.p99Ms - kLoopResolutionMs), loopMaxMs: Math.max(0, loop.maxMs - kLoopResolutionMs),
    proxyCpuPercent: (loop.cpuMs / (w.seconds * 1000)) * 100,
    backendCpuPercent: ((lib.cpuMsOf(backend.child.pid) - cpu0.backend) / (w.seconds * 1000)) * 100,
    scrapes: scrapes.length, scrapeFailures: scrapes.filter((r) => !r.ok).length,
    scrapeMedianMs: scrapes.length ? lib.median(scrapes.map((r) => r.ms)) : undefined,
    scrapeMaxMs: scrapes.length ? Math.max(...scrapes.map((r) => r.ms)) : undefined,
    gzipBytes: scrapes.length ? lib.median(scrapes.map((r) => r.bytes ?? 0)) : undefined,
    exporterCpuMsPerScrape: exporter && scrapes.length ? (lib.cpuMsOf(exporter.pid) - cpu0.exporter) / scrapes.length : undefined,
  };
  log(`${env.ips} ${kind === 'B' ? 'no exporter' : `${config} every ${interval}s`} ${seconds}s: ` +
    `${cell.rps.toFixed(0)} req/s p50 ${cell.p50Ms} p99 ${cell.p99Ms} max ${cell.maxMs} ms, loop p99+${cell.loopP99Ms.toFixed(1)} ` +
    `max+${cell.loopMaxMs.toFixed(1)} ms, proxy ${cell.proxyCpuPercent.toFixed(0)}% CPU, scrapes ${cell.scrapes} ` +
    `(${cell.scrapeFailures} failed, median ${cell.scrapeMedianMs?.toFixed(1)} ms, exporter ${cell.exporterCpuMsPerScrape?.toFixed(1)} ms CPU each)`);
  return cell;
}

async function accuracyPhase(env) {
  const { proxy, exporters } = env;
  const rateSeconds = Number(opt['rate-seconds']);
  const wrk = lib.runWrk({ port: proxy.port, seconds: rateSeconds + 25, connections, timeout: '20s', cpus: pin.wrk });
  const rows = [];
  const add = (mode, config, list) => { for (const r of list) rows.push({ ips: env.ips, mode, config, ...r }); };
  const scrapers = Object.fromEntries(Object.entries(exporters).map(([c, e]) => [c, lib.scraper(e.port, { timeoutSeconds: 10 })]));
  await proxy.call('tickTruths', { on: true });
  await lib.sleep(3000);
  const a = await proxy.call('truth');
  await lib.sleep(rateSeconds * 1000 - 10_000);
  const c = await proxy.call('truth');
  await lib.sleep(10_000);
  // Live, under load: the truth taken inside the getMetrics() call of this very snapshot.
  for (const config of Object.keys(exporters)) {
    const [truth, scrape] = await Promise.all([proxy.call('truthAtNextSnapshot'), scrapers[config].scrape({ full: true })]);
    add('live', config, compareScrape(scrape.text ?? '', truth, config));
    if (config === 'default') {
      add('live', config, compareRates(scrape.text ?? '', a, truth, { window: '60s', seconds: 60 }));
      add('live', config, compareRates(scrape.text ?? '', c, truth, { window: '10s', seconds: 10 }));
    }
  }
  // Frozen: no socket reads, no accepts; the records cannot move between truth and scrape.
  const frozen = await proxy.call('freeze');
  for (const config of Object.keys(exporters)) {
    const scrape = await scrapers[config].scrape({ full: true });
    add('frozen', config, compareScrape(scrape.text ?? '', frozen, config));
  }
  await proxy.call('thaw');
  await proxy.call('tickTruths', { on: false });
  for (const s of Object.values(scrapers)) s.close();
  await wrk.catch(() => {});
  for (const r of rows.filter((x) => !x.pass)) log(`accuracy ${env.ips} ${r.mode} ${r.config}: ${r.check}: expected ${r.expected}, got ${r.got}`);
  return rows;
}

// The proxy's own CPU per scrape, without traffic (so without wrk's noise): n scrapes of each
// config 100 ms apart, the proxy's process CPU (process.cpuUsage: every thread, GC included) less
// its idle rate measured just before, and the longest event-loop block seen meanwhile (with no
// traffic that is the snapshot's synchronous work).
async function costPhase(env, n = 10) {
  const { proxy, exporters } = env;
  await proxy.call('loopStats');
  const idleStart = Date.now();
  await lib.sleep(2000);
  const idle = await proxy.call('loopStats');
  const idleRate = idle.cpuMs / (Date.now() - idleStart);
  const rows = [];
  for (const [config, exporter] of Object.entries(exporters)) {
    const s = lib.scraper(exporter.port, { timeoutSeconds: 10 });
    await s.scrape();
    await proxy.call('loopStats');
    const t0 = Date.now();
    const e0 = lib.cpuMsOf(exporter.pid);
    const times = [];
    let failures = 0;
    for (let i = 0; i < n; i += 1) {
      const r = await s.scrape();
      times.push(r.ms);
      if (!r.ok) failures += 1;
      await lib.sleep(100);
    }
    const loop = await proxy.call('loopStats');
    s.close();
    const row = {
      ips: env.ips, config, scrapes: n, failures,
      proxyCpuMsPerScrape: (loop.cpuMs - idleRate * (Date.now() - t0)) / n,
      proxyLongestBlockMs: Math.max(0, loop.maxMs - kLoopResolutionMs),
      // proxy.mjs's timers: the getters' time (SmartProxy's, not sliceable) and the adapter's own
      // slices with the getters taken out; the warm-up scrape before loopStats is not counted.
      getterMsPerScrape: loop.getterMs / n,
      longestGetterMs: loop.getterMaxMs,
      adapterMsPerScrape: loop.adapterMs / n,
      adapterLongestBlockMs: loop.adapterMaxBlockMs,
      adapterBlocksPerScrape: loop.blocks / n,
      adapterSlicesOver2Ms: loop.blocksOver2Ms,
      exporterCpuMsPerScrape: (lib.cpuMsOf(exporter.pid) - e0) / n,
      scrapeMedianMs: lib.median(times),
    };
    log(`cost ${env.ips} ${config}: proxy ${row.proxyCpuMsPerScrape.toFixed(2)} ms CPU/scrape, longest block ` +
      `${row.proxyLongestBlockMs.toFixed(1)} ms (getters ${row.getterMsPerScrape.toFixed(2)} ms, longest ${row.longestGetterMs.toFixed(2)}; ` +
      `adapter ${row.adapterMsPerScrape.toFixed(2)} ms in ${row.adapterBlocksPerScrape.toFixed(0)} slices, longest ${row.adapterLongestBlockMs.toFixed(2)}), exporter ${row.exporterCpuMsPerScrape.toFixed(2)} ms CPU/scrape, scrape ${row.scrapeMedianMs.toFixed(1)} ms`);
    rows.push(row);
  }
  return rows;
}

async function runIpCount(ips) {
  const dir = lib.tempDir('overhead.');
  const socket = `${dir}/metrics.sock`;
  try {
    const backend = await lib.startBackend({ cpus: pin.backend });
    // N tracked client IPs: N - 1 idle synthetic ones plus wrk's 127.0.0.1.
    const proxy = await lib.startProxy({ socket, backendPort: backend.port, idleIPs: ips - 1, cpus: pin.proxy });
    const exporters = {};
    for (const config of configs) exporters[config] = await lib.startExporter({ bin: opt.exporter, socket, config, dir, cpus: pin.exporter });
    const env = { ips, proxy, backend, exporters };
    log(`${ips} IPs: proxy pid ${proxy.pid}, exporters ${Object.values(exporters).map((e) => `${e.config}:${e.pid}`).join(' ')}`);
    // Warm-up: JIT, the exporters' buffers (Prometheus would have scraped long before).
    const warm = lib.runWrk({ port: proxy.port, seconds: 5, connections, cpus: pin.wrk });
    for (const e of Object.values(exporters)) {
      const s = lib.scraper(e.port, { timeoutSeconds: 10 });
      for (let i = 0; i < 2; i += 1) await s.scrape();
      s.close();
    }
    await warm;
    const result = { ips, cells: [], accuracy: [], cost: await costPhase(env) };
    if (opt.accuracy && !opt['no-accuracy']) result.accuracy = await accuracyPhase(env);
    if (opt['accuracy-only']) return result;
    for (const interval of intervals) {
      const seconds = cellSeconds[interval] ?? Math.max(20, interval * 3);
      for (const config of configs) {
        result.cells.push(await runCell(env, { kind: 'B', seconds }));
        result.cells.push(await runCell(env, { kind: 'X', config, interval, seconds }));
      }
      result.cells.push(await runCell(env, { kind: 'B', seconds }));
    }
    return result;
  } finally {
    await lib.stopAll();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const pct = (ratio) => `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)}%`;

function tables(results) {
  const lines = [];
  lines.push('| IPs | config | interval | scrapes (failed) | req/s | p50 | p99 | max latency | loop delay p99 / max, ms (X; B) | proxy CPU % (X; B) | exporter CPU ms/scrape | gzip body |');
  lines.push('|---:|---|---:|---:|---:|---:|---:|---:|---|---|---:|---:|');
  const noise = [];
  for (const r of results) {
    const cells = r.cells;
    for (let i = 0; i < cells.length; i += 1) {
      if (cells[i].kind === 'B' && cells[i + 1]?.kind === 'B') continue;
      if (cells[i].kind === 'B' && i + 2 < cells.length && cells[i + 2].kind === 'B' && cells[i + 1].kind === 'X') {
        noise.push({ ips: r.ips, seconds: cells[i].seconds, rps: cells[i + 2].rps / cells[i].rps, p99: cells[i + 2].p99Ms / cells[i].p99Ms });
      }
      if (cells[i].kind !== 'X') continue;
      const x = cells[i];
      const b0 = cells[i - 1];
      const b1 = cells[i + 1];
      const base = (k) => (b0[k] + b1[k]) / 2;
      lines.push(`| ${r.ips} | ${x.config} | ${x.interval} s | ${x.scrapes} (${x.scrapeFailures}) | ${pct(x.rps / base('rps'))} | ` +
        `${pct(x.p50Ms / base('p50Ms'))} | ${pct(x.p99Ms / base('p99Ms'))} | ${pct(x.maxMs / base('maxMs'))} | ` +
        `${x.loopP99Ms.toFixed(1)} / ${x.loopMaxMs.toFixed(1)}; ${base('loopP99Ms').toFixed(1)} / ${base('loopMaxMs').toFixed(1)} | ` +
        `${x.proxyCpuPercent.toFixed(0)}; ${base('proxyCpuPercent').toFixed(0)} | ${x.exporterCpuMsPerScrape?.toFixed(1)} | ` +
        `${((x.gzipBytes ?? 0) / 1024).toFixed(0)} KiB |`);
    }
  }
  lines.push('');
  lines.push('Noise: B(next) / B(previous) around each X cell (consecutive "no exporter" cells):');
  lines.push('');
  lines.push('| IPs | cell s | req/s | p99 |');
  lines.push('|---:|---:|---:|---:|');
  for (const n of noise) lines.push(`| ${n.ips} | ${n.seconds} | ${pct(n.rps)} | ${pct(n.p99)} |`);
  const abs = (list) => list.map((v) => Math.abs(v - 1) * 100);
  if (noise.length) {
    lines.push('');
    lines.push(`Noise summary: req/s |B/B-1| median ${lib.median(abs(noise.map((n) => n.rps))).toFixed(1)}%, max ${Math.max(...abs(noise.map((n) => n.rps))).toFixed(1)}%; ` +
      `p99 median ${lib.median(abs(noise.map((n) => n.p99))).toFixed(1)}%, max ${Math.max(...abs(noise.map((n) => n.p99))).toFixed(1)}%`);
  }
  lines.push('');
  lines.push('Absolute "no exporter" cells (mean per IP count): ' + results.map((r) => {
    const b = r.cells.filter((c) => c.kind === 'B');
    if (!b.length) return `${r.ips}: -`;
    const m = (k) => b.reduce((s, c) => s + c[k], 0) / b.length;
    return `${r.ips}: ${m('rps').toFixed(0)} req/s, p50 ${m('p50Ms').toFixed(2)} ms, p99 ${m('p99Ms').toFixed(2)} ms, max ${m('maxMs').toFixed(1)} ms`;
  }).join('; '));
  const cost = results.flatMap((r) => r.cost ?? []);
  if (cost.length) {
    lines.push('');
    lines.push('Cost per scrape without traffic (the proxy\'s CPU and longest event-loop block; share of one core at 15 s / 1 s):');
    lines.push('');
    lines.push('| IPs | config | proxy CPU ms/scrape | longest block ms | getters ms/scrape (longest call) | adapter ms/scrape | adapter slices/scrape | adapter longest slice ms | slices > 2 ms (of all) | share at 15 s | share at 1 s | exporter CPU ms/scrape | scrape ms |');
    lines.push('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const c of cost) {
      lines.push(`| ${c.ips} | ${c.config} | ${c.proxyCpuMsPerScrape.toFixed(2)} | ${c.proxyLongestBlockMs.toFixed(1)} | ` +
        `${c.getterMsPerScrape.toFixed(2)} (${c.longestGetterMs.toFixed(2)}) | ${c.adapterMsPerScrape.toFixed(2)} | ` +
        `${c.adapterBlocksPerScrape.toFixed(0)} | ${c.adapterLongestBlockMs.toFixed(2)} | ` +
        `${c.adapterSlicesOver2Ms} (${Math.round(c.adapterBlocksPerScrape * c.scrapes)}) | ` +
        `${(c.proxyCpuMsPerScrape / 150).toFixed(3)}% | ${(c.proxyCpuMsPerScrape / 10).toFixed(2)}% | ` +
        `${c.exporterCpuMsPerScrape.toFixed(2)} | ${c.scrapeMedianMs.toFixed(1)} |`);
    }
  }
  const acc = results.flatMap((r) => r.accuracy);
  if (acc.length) {
    lines.push('');
    lines.push('| IPs | mode | config | check | expected | got | rel. error | pass |');
    lines.push('|---:|---|---|---|---:|---:|---:|---|');
    for (const a of acc) {
      const fmt = (v) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : String(v));
      lines.push(`| ${a.ips} | ${a.mode} | ${a.config} | ${a.check} | ${fmt(a.expected)} | ${fmt(a.got)} | ` +
        `${Number.isFinite(a.relError) ? `${(a.relError * 100).toFixed(3)}%` : '-'} | ${a.pass ? 'yes' : '**no**'} |`);
    }
  }
  return lines.join('\n');
}

const results = [];
let interrupted = false;
process.on('SIGINT', () => { interrupted = true; lib.stopAll(); });
process.on('SIGTERM', () => { interrupted = true; lib.stopAll(); });
try {
  for (const ips of ipCounts) {
    if (interrupted) break;
    results.push(await runIpCount(ips));
    fs.writeFileSync(opt.json, JSON.stringify({ node: process.version, opt, pin, results }, null, 2));
  }
} finally {
  await lib.stopAll();
  console.log(tables(results));
}
