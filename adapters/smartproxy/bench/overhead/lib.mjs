// Shared pieces of run.mjs and soak.mjs: processes (backend, proxy, exporter, wrk) with optional
// CPU pinning, the Prometheus-like scraper, /proc readers, the text-format parser, statistics.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

export const here = path.dirname(fileURLToPath(import.meta.url));
const kTicks = 100; // USER_HZ

export function defaultExporterBin() {
  // The tree's own build (scripts/build.sh), four levels up from here.
  return process.env.SMARTPROXY_EXPORTER_BIN ?? path.resolve(here, '../../../../build/exporter/smartproxy_exporter');
}

const started = [];

/** Spawns `command` (under `taskset -c cpus` when cpus is set); remembered for stopAll(). */
export function start(command, args, { cpus, stdio = ['ignore', 'pipe', 'inherit'], env } = {}) {
  const [file, argv] = cpus ? ['taskset', ['-c', cpus, command, ...args]] : [command, args];
  const child = spawn(file, argv, { stdio, env: env ?? process.env });
  started.push(child);
  child.on('exit', () => { const i = started.indexOf(child); if (i >= 0) started.splice(i, 1); });
  return child;
}

/** Stops every process start() started and that is still running (SIGTERM, then SIGKILL). */
export async function stopAll() {
  const children = [...started];
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((child) => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => { child.kill('SIGKILL'); resolve(); }, 3000);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
  })));
}

export function lineFrom(child, pattern, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no ${pattern} from pid ${child.pid}: ${text}`)), timeoutMs);
    child.stdout.on('data', (chunk) => {
      text += chunk;
      const match = text.match(pattern);
      if (match) { clearTimeout(timer); resolve(match); }
    });
    child.once('exit', (code) => reject(new Error(`pid ${child.pid} exited ${code}: ${text}`)));
  });
}

export async function startBackend({ cpus } = {}) {
  const child = start(process.execPath, [path.join(here, 'backend.mjs')], { cpus });
  const match = await lineFrom(child, /listening (\d+)/);
  return { child, port: Number(match[1]) };
}

/** The proxy as a child with an IPC channel; call(cmd, args) -> Promise of its result. */
export async function startProxy({ cpus, socket, backendPort, idleIPs = 0, exposeGc = false, noAdapter = false }) {
  const args = [...(exposeGc ? ['--expose-gc'] : []), path.join(here, 'proxy.mjs'),
    '--socket', socket, '--backend-port', String(backendPort), '--idle-ips', String(idleIPs)];
  if (noAdapter) args.push('--no-adapter');
  const child = start(process.execPath, args, { cpus, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map();
  let nextId = 1;
  const ready = new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`proxy exited ${code}`)));
    child.on('message', (message) => {
      if (message.id === 0) return resolve(message.result);
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (message.ok) waiter?.resolve(message.result);
      else waiter?.reject(new Error(message.error));
    });
  });
  const info = await ready;
  const call = (cmd, fields = {}) => new Promise((resolve, reject) => {
    const id = nextId;
    nextId += 1;
    pending.set(id, { resolve, reject });
    child.send({ id, cmd, ...fields });
  });
  return { child, pid: child.pid, port: info.port, call };
}

export function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export const kConfigs = {
  default: '',
  prefix: 'metrics:\n  ips:\n    anonymize: prefix\n',
  all: 'metrics:\n  ips:\n    top: 1000000\n',
};

/** Starts smartproxy_exporter with one of kConfigs on a free loopback port. */
export async function startExporter({ bin, socket, config, dir, cpus }) {
  const port = await freePort();
  const args = [`--proxy.socket=${socket}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'];
  if (kConfigs[config]) {
    const file = path.join(dir, `${config}.yml`);
    fs.writeFileSync(file, kConfigs[config]);
    args.push(`--config.file=${file}`);
  }
  const child = start(bin, args, { cpus, stdio: ['ignore', 'ignore', 'inherit'] });
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await new Promise((resolve, reject) => {
        const socketToExporter = net.connect(port, '127.0.0.1', () => { socketToExporter.end(); resolve(); });
        socketToExporter.on('error', reject);
      });
      break;
    } catch (error) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`exporter did not listen: ${error}`);
      await sleep(50);
    }
  }
  return { child, pid: child.pid, port, config };
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A Prometheus-like scraper of one exporter: keep-alive, Accept-Encoding: gzip, Prometheus' Accept
 * header and X-Prometheus-Scrape-Timeout-Seconds, a client timeout. scrape({ full }) resolves to
 * { ok, status, ms, bytes, up, text? }: `up` from the first line of the body (the exporter writes
 * smartproxy_up first), `text` the whole decompressed body when `full`.
 */
export function scraper(port, { timeoutSeconds }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const scrape = ({ full = false } = {}) => new Promise((resolve) => {
    const t0 = performance.now();
    const request = http.get({
      host: '127.0.0.1', port, path: '/metrics', agent,
      headers: {
        'Accept-Encoding': 'gzip',
        Accept: 'application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.2,*/*;q=0.1',
        'X-Prometheus-Scrape-Timeout-Seconds': String(timeoutSeconds),
        'User-Agent': 'Prometheus/2.53.0',
      },
      timeout: timeoutSeconds * 1000,
    }, (response) => {
      const chunks = [];
      let bytes = 0;
      response.on('data', (chunk) => { bytes += chunk.length; chunks.push(chunk); });
      response.on('end', () => {
        const ms = performance.now() - t0;
        const body = Buffer.concat(chunks);
        const gz = response.headers['content-encoding'] === 'gzip';
        let text;
        let up;
        try {
          if (full) text = (gz ? zlib.gunzipSync(body) : body).toString('utf8');
          else {
            // Only the head: the first line is smartproxy_up.
            const head = gz ? zlib.gunzipSync(body.subarray(0, 4096),
              { finishFlush: zlib.constants.Z_SYNC_FLUSH }) : body.subarray(0, 4096);
            text = head.toString('utf8');
          }
          const match = text.match(/^smartproxy_up (\S+)$/m);
          up = match ? Number(match[1]) : undefined;
        } catch (error) {
          up = undefined;
        }
        resolve({ ok: response.statusCode === 200 && up === 1, status: response.statusCode, ms, bytes, up,
          text: full ? text : undefined });
      });
      response.on('error', (error) => resolve({ ok: false, error: String(error), ms: performance.now() - t0 }));
    });
    request.on('timeout', () => request.destroy(new Error('scrape timeout')));
    request.on('error', (error) => resolve({ ok: false, error: String(error), ms: performance.now() - t0 }));
  });
  return { scrape, close: () => agent.destroy() };
}

/** Parses text format 0.0.4 into [{ name, labels: {..}, value }] (no escapes in our labels but \"). */
export function parseMetrics(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/);
    if (!match) continue;
    const labels = {};
    if (match[3]) {
      for (const pair of match[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]] = pair[2];
    }
    samples.push({ name: match[1], labels, value: Number(match[4]) });
  }
  return samples;
}

/** CPU ms of a process (all its threads) from every /proc/<pid>/task/<tid>/schedstat (ns precision). */
export function cpuMsOf(pid) {
  let ns = 0;
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try { ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]); } catch {}
    }
  } catch {
    return NaN;
  }
  return ns / 1e6;
}

/** RSS (bytes), threads and open fds of a process. */
export function procStats(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+)`, 'm'))?.[1]);
  return {
    rss: field('VmRSS') * 1024,
    hwm: field('VmHWM') * 1024,
    threads: field('Threads'),
    fds: fs.readdirSync(`/proc/${pid}/fd`).length,
  };
}

/** Runs wrk; resolves to { requests, seconds, rps, p50Ms, p90Ms, p99Ms, maxMs, errors }. */
export function runWrk({ port, seconds, connections = 64, threads = 1, cpus, script = 'report.lua', timeout = '5s' }) {
  const args = ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--timeout', timeout,
    '-s', path.join(here, script), `http://127.0.0.1:${port}/`];
  const child = start('wrk', args, { cpus, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => { out += chunk; });
    child.on('exit', (code) => {
      const match = out.match(/^WRKJSON (.*)$/m);
      if (code !== 0 || !match) return reject(new Error(`wrk exited ${code}: ${out}`));
      const r = JSON.parse(match[1]);
      resolve({
        requests: r.requests, seconds: r.duration_us / 1e6, rps: r.requests / (r.duration_us / 1e6),
        p50Ms: r.p50 / 1000, p90Ms: r.p90 / 1000, p99Ms: r.p99 / 1000, p999Ms: r.p999 / 1000, maxMs: r.max / 1000,
        errors: r.errors,
      });
    });
  });
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Least-squares slope of y over x (units of y per unit of x). */
export function slope(xs, ys) {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i += 1) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  return sxx === 0 ? 0 : sxy / sxx;
}

export function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function cpuCount() {
  return os.availableParallelism?.() ?? os.cpus().length;
}
