// A real TCP proxy (node:net) with SmartProxy's IMetrics API (19.6.7 / 21.x), for the overhead,
// accuracy and soak benchmarks (README.md here). Run by run.mjs and soak.mjs as a child process
// with an IPC channel; not a library.
//
// What it models, as SmartProxy does it (ts/proxies/smart-proxy: ConnectionManager's records,
// MetricsCollector's getters, ThroughputTracker's 1 s samples):
//  - one record per client connection (remote IP, route, bytes each way, start time), in a Map;
//  - getMetrics() returns the collector, whose getters compute on demand from those records:
//    connections.byIP()/byRoute() walk every record and build a new Map each call, topIPs(N) sorts
//    all of byIP() (what 21.x is believed to do), totals.bytesIn()/bytesOut() walk the records
//    (plus what closed connections carried);
//  - throughput from per-second samples (global, per route, per IP), requests counted per new
//    connection (timestamps of the last 60 s), percentiles over the last 1000 closed connections.
// Idle records with synthetic client IPs (no socket) stand for the tracked clients of a busy proxy.
//
// The adapter is loaded as an operator loads it: `import { serveSnapshots } from
// '@smartproxy-exporter/adapter'` (the package resolves itself through its "exports"), so this
// benchmark runs whatever adapter is in the tree. SMARTPROXY_ADAPTER (a path to another copy's
// index.js, e.g. a `git archive` of a commit) loads that one instead, to compare or to pin one.
//
// IPC (process.send / 'message', {id, cmd, ...} -> {id, ok, result}): see `commands` below.
import net from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';

const kSampleRetentionSeconds = 3600; // ThroughputTracker keeps an hour of 1 s samples
const kRequestWindowMs = 60_000;
const kDurationSamples = 1000;
export const kIdleRoutes = ['api', 'static', 'admin', 'ws'];

// ThroughputTracker: bytes are added as they flow; once a second the pending bytes become a
// sample; a rate is the sum of the samples in the window divided by the window.
class ThroughputTracker {
  constructor() {
    this.pendingIn = 0;
    this.pendingOut = 0;
    this.samples = []; // { t, in, out }
    this.idleSamples = 0;
  }

  add(bytesIn, bytesOut) {
    this.pendingIn += bytesIn;
    this.pendingOut += bytesOut;
  }

  sample(now) {
    this.samples.push({ t: now, in: this.pendingIn, out: this.pendingOut });
    this.idleSamples = this.pendingIn + this.pendingOut === 0 ? this.idleSamples + 1 : 0;
    this.pendingIn = 0;
    this.pendingOut = 0;
    if (this.samples.length > kSampleRetentionSeconds) this.samples.shift();
  }

  rate(windowSeconds, now = Date.now()) {
    const since = now - windowSeconds * 1000;
    let bytesIn = 0;
    let bytesOut = 0;
    for (let i = this.samples.length - 1; i >= 0 && this.samples[i].t > since; i -= 1) {
      bytesIn += this.samples[i].in;
      bytesOut += this.samples[i].out;
    }
    return { in: bytesIn / windowSeconds, out: bytesOut / windowSeconds };
  }
}

function percentilesOf(values) {
  if (values.length === 0) return { p50: 0, p95: 0, p99: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

/** A synthetic client IP for idle record `i`: IPv4 10.x.y.z, every 10th an IPv6 2001:db8:… */
export function syntheticIP(i) {
  if (i % 10 === 9) {
    return `2001:db8:${((i >> 16) & 0xffff).toString(16)}:${((i >> 8) & 0xff).toString(16)}::${(i & 0xff).toString(16)}`;
  }
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

/** How many records idle IP `i` holds: the first 40 IPs 41..2 (distinct, a clear top), others 1. */
export function syntheticCount(i) {
  return i < 40 ? 41 - i : 1;
}

export class BenchProxy {
  constructor({ routes }) {
    this.routes = routes; // [{ name, port (0: any), backendPort }]
    this.connections = new Map(); // id -> record (ConnectionManager's table)
    this.nextId = 1;
    this.terminated = 0;
    this.closedBytesIn = 0;
    this.closedBytesOut = 0;
    this.totalRequests = 0;
    this.requestTimes = [];
    this.durations = [];
    this.transferredIn = [];
    this.transferredOut = [];
    this.throughput = new ThroughputTracker();
    this.routeTrackers = new Map();
    this.ipTrackers = new Map();
    this.servers = [];
    this.live = new Set(); // records with sockets
    this.frozen = false;
    this.idleIds = []; // ids of idle records, in creation order
    this.idleCursor = 0; // next synthetic IP index
    this.onGetMetrics = undefined;
    this.metrics = this.buildCollector();
  }

  async start() {
    for (const route of this.routes) {
      const server = net.createServer({ noDelay: true }, (socket) => this.accept(socket, route));
      await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(route.port ?? 0, '127.0.0.1', resolve);
      });
      route.port = server.address().port;
      this.servers.push(server);
    }
    this.sampler = setInterval(() => this.sampleThroughput(), 1000);
    this.sampler.unref();
  }

  // The getter the adapter detects. SmartProxy returns its MetricsCollector.
  getMetrics() {
    this.onGetMetrics?.();
    return this.metrics;
  }

  newRecord(remoteIP, routeName) {
    const record = {
      id: this.nextId,
      remoteIP,
      routeName,
      bytesReceived: 0,
      bytesSent: 0,
      incomingStartTime: Date.now(),
    };
    this.nextId += 1;
    this.connections.set(record.id, record);
    this.totalRequests += 1;
    const now = Date.now();
    this.requestTimes.push(now);
    if (this.requestTimes.length > 4096 && this.requestTimes[0] <= now - kRequestWindowMs) this.pruneRequests(now);
    return record;
  }

  removeRecord(record) {
    if (!this.connections.delete(record.id)) return;
    this.terminated += 1;
    this.closedBytesIn += record.bytesReceived;
    this.closedBytesOut += record.bytesSent;
    this.durations.push(Date.now() - record.incomingStartTime);
    this.transferredIn.push(record.bytesReceived);
    this.transferredOut.push(record.bytesSent);
    if (this.durations.length > kDurationSamples) {
      this.durations.shift();
      this.transferredIn.shift();
      this.transferredOut.shift();
    }
  }

  pruneRequests(now) {
    const since = now - kRequestWindowMs;
    let drop = 0;
    while (drop < this.requestTimes.length && this.requestTimes[drop] <= since) drop += 1;
    if (drop > 0) this.requestTimes.splice(0, drop);
  }

  trackerOf(map, key) {
    let tracker = map.get(key);
    if (tracker === undefined) {
      tracker = new ThroughputTracker();
      map.set(key, tracker);
    }
    return tracker;
  }

  countBytes(record, bytesIn, bytesOut) {
    record.bytesReceived += bytesIn;
    record.bytesSent += bytesOut;
    this.throughput.add(bytesIn, bytesOut);
    this.trackerOf(this.routeTrackers, record.routeName).add(bytesIn, bytesOut);
    this.trackerOf(this.ipTrackers, record.remoteIP).add(bytesIn, bytesOut);
  }

  sampleThroughput() {
    const now = Date.now();
    this.throughput.sample(now);
    if (this.tickTruths) {
      // Accuracy mode: the records' byte totals at each sample tick, for the rate checks.
      const { bytesIn, bytesOut } = this.truth();
      this.tickTruths.push({ t: now, bytesIn, bytesOut });
      if (this.tickTruths.length > 70) this.tickTruths.shift();
    }
    for (const tracker of this.routeTrackers.values()) tracker.sample(now);
    const activeIPs = new Set();
    for (const record of this.live) activeIPs.add(record.remoteIP);
    for (const [ip, tracker] of this.ipTrackers) {
      tracker.sample(now);
      // An IP with no connection left and a minute without bytes is forgotten.
      if (!activeIPs.has(ip) && tracker.idleSamples > 60) this.ipTrackers.delete(ip);
    }
  }

  accept(client, route) {
    const record = this.newRecord(client.remoteAddress ?? 'unknown', route.name);
    record.socket = client;
    this.live.add(record);
    const upstream = net.connect({ port: route.backendPort, host: '127.0.0.1', noDelay: true });
    record.upstream = upstream;
    if (this.frozen) client.pause();
    // Half-closes pass through ('end' -> end()); the record goes when both sockets are closed;
    // an error on either side destroys both.
    let open = 2;
    const close = () => {
      open -= 1;
      if (open > 0) return;
      if (!this.live.delete(record)) return;
      this.removeRecord(record);
    };
    const fail = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk) => {
      this.countBytes(record, chunk.length, 0);
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('data', (chunk) => {
      this.countBytes(record, 0, chunk.length);
      if (!client.write(chunk)) upstream.pause();
    });
    upstream.on('drain', () => { if (!this.frozen) client.resume(); });
    client.on('drain', () => { if (!this.frozen) upstream.resume(); });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('close', close);
    upstream.on('close', close);
    client.on('error', fail);
    upstream.on('error', fail);
  }

  /** Adds `count` idle records' IPs (see syntheticIP/syntheticCount), with some bytes each. */
  addIdle(count) {
    for (let n = 0; n < count; n += 1) {
      const i = this.idleCursor;
      this.idleCursor += 1;
      const route = kIdleRoutes[i % kIdleRoutes.length];
      for (let c = 0; c < syntheticCount(i); c += 1) {
        const record = this.newRecord(syntheticIP(i), route);
        record.bytesReceived = 500 + (i % 1000);
        record.bytesSent = 4000 + (i % 5000);
        record.incomingStartTime -= i % 600_000;
        if (syntheticCount(i) === 1) this.idleIds.push(record.id);
      }
    }
  }

  /** Closes the oldest `count` idle one-record IPs and opens as many new ones (the top 40 stay). */
  churnIdle(count) {
    let closed = 0;
    while (closed < count && this.idleIds.length > 0) {
      const record = this.connections.get(this.idleIds.shift());
      if (record === undefined) continue;
      this.removeRecord(record);
      closed += 1;
    }
    if (this.idleCursor < 40) this.idleCursor = 40;
    this.addIdle(closed);
    return closed;
  }

  freeze() {
    this.frozen = true;
    for (const record of this.live) {
      record.socket.pause();
      record.upstream.pause();
    }
  }

  thaw() {
    this.frozen = false;
    for (const record of this.live) {
      record.socket.resume();
      record.upstream.resume();
    }
  }

  /** The proxy's own truth, from the records (independent of the collector's getters). */
  truth() {
    const byRoute = {};
    const byIP = {};
    let bytesIn = this.closedBytesIn;
    let bytesOut = this.closedBytesOut;
    for (const record of this.connections.values()) {
      byRoute[record.routeName] = (byRoute[record.routeName] ?? 0) + 1;
      byIP[record.remoteIP] = (byIP[record.remoteIP] ?? 0) + 1;
      bytesIn += record.bytesReceived;
      bytesOut += record.bytesSent;
    }
    return {
      at: Date.now(),
      active: this.connections.size,
      total: this.nextId - 1,
      requestsTotal: this.totalRequests,
      bytesIn,
      bytesOut,
      byRoute,
      byIP,
      distinctIPs: Object.keys(byIP).length,
    };
  }

  buildCollector() {
    const proxy = this;
    const countBy = (key) => {
      const counts = new Map();
      for (const record of proxy.connections.values()) {
        const value = record[key];
        counts.set(value, (counts.get(value) ?? 0) + 1);
      }
      return counts;
    };
    const rates = (map, windowSeconds) => {
      const result = new Map();
      const now = Date.now();
      for (const [key, tracker] of map) {
        const rate = tracker.rate(windowSeconds, now);
        if (rate.in > 0 || rate.out > 0) result.set(key, rate);
      }
      return result;
    };
    const sumBytes = (field, closed) => {
      let total = closed;
      for (const record of proxy.connections.values()) total += record[field];
      return total;
    };
    const collector = {
      connections: {
        active: () => proxy.connections.size,
        total: () => proxy.connections.size + proxy.terminated,
        byRoute: () => countBy('routeName'),
        byIP: () => countBy('remoteIP'),
        topIPs: (limit = 10) => Array.from(countBy('remoteIP').entries())
          .sort((a, b) => b[1] - a[1])
          .slice(0, limit)
          .map(([ip, count]) => ({ ip, count })),
      },
      throughput: {
        instant: () => proxy.throughput.rate(1),
        recent: () => proxy.throughput.rate(10),
        average: () => proxy.throughput.rate(60),
        custom: (seconds) => proxy.throughput.rate(seconds),
        history: (seconds) => proxy.throughput.samples.slice(-seconds),
        byRoute: (windowSeconds = 1) => rates(proxy.routeTrackers, windowSeconds),
        byIP: (windowSeconds = 1) => rates(proxy.ipTrackers, windowSeconds),
      },
      requests: {
        perSecond: () => {
          const since = Date.now() - 1000;
          let n = 0;
          for (let i = proxy.requestTimes.length - 1; i >= 0 && proxy.requestTimes[i] > since; i -= 1) n += 1;
          return n;
        },
        perMinute: () => {
          proxy.pruneRequests(Date.now());
          return proxy.requestTimes.length;
        },
        total: () => proxy.totalRequests,
      },
      totals: {
        bytesIn: () => sumBytes('bytesReceived', proxy.closedBytesIn),
        bytesOut: () => sumBytes('bytesSent', proxy.closedBytesOut),
        connections: () => proxy.connections.size + proxy.terminated,
      },
      percentiles: {
        connectionDuration: () => percentilesOf(proxy.durations),
        bytesTransferred: () => ({
          in: percentilesOf(proxy.transferredIn),
          out: percentilesOf(proxy.transferredOut),
        }),
      },
    };
    return collector;
  }
}

// The proxy's own getters against the adapter's own work, per scrape (the cost phase): issue 12
// asks for the adapter's blocks (≤ 2 ms) apart from the getters it cannot slice (byIP() walks
// every record). Every getter of the collector is wrapped in a timer; the adapter's Slicer (the
// copy this process loaded) reports each slice, and a slice's getter time is taken out of it.
// Scrapes in the cost phase come one at a time, so the getter time since the previous slice
// ended is this slice's.
const timing = { getterMs: 0, getterMaxMs: 0, getterCalls: 0, adapterMs: 0, adapterMaxBlockMs: 0, blocks: 0, blocksOver2Ms: 0 };
let getterMarkMs = 0;

function timeGetters(collector) {
  for (const group of Object.values(collector)) {
    for (const [name, getter] of Object.entries(group)) {
      if (typeof getter !== 'function') continue;
      group[name] = function timedGetter(...args) {
        const start = performance.now();
        try {
          return getter.apply(this, args);
        } finally {
          const ms = performance.now() - start;
          timing.getterMs += ms;
          timing.getterCalls += 1;
          if (ms > timing.getterMaxMs) timing.getterMaxMs = ms;
        }
      };
    }
  }
}

function recordSlice(ms) {
  const own = Math.max(0, ms - (timing.getterMs - getterMarkMs));
  getterMarkMs = timing.getterMs;
  timing.adapterMs += own;
  timing.blocks += 1;
  if (own > timing.adapterMaxBlockMs) timing.adapterMaxBlockMs = own;
  if (own > 2) timing.blocksOver2Ms += 1;
}

async function instrumentSlices(adapterUrl) {
  const { Slicer } = await import(new URL('./src/slices.js', adapterUrl).href);
  const { yield: yieldSlice, waitFor, finish } = Slicer.prototype;
  Slicer.prototype.yield = function timedYield() {
    recordSlice(performance.now() - this.blockStart);
    return yieldSlice.call(this);
  };
  Slicer.prototype.waitFor = function timedWaitFor(promise) {
    recordSlice(performance.now() - this.blockStart);
    return waitFor.call(this, promise);
  };
  Slicer.prototype.finish = function timedFinish() {
    recordSlice(performance.now() - this.blockStart);
    return finish.call(this);
  };
}

function takeTiming() {
  const result = { ...timing };
  for (const key of Object.keys(timing)) timing[key] = 0;
  getterMarkMs = 0;
  return result;
}

function cpuMicros() {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

async function main() {
  const { values } = parseArgs({
    options: {
      socket: { type: 'string' },
      'backend-port': { type: 'string' },
      'idle-ips': { type: 'string', default: '0' },
      'no-adapter': { type: 'boolean', default: false },
    },
  });
  const backendPort = Number(values['backend-port']);
  const proxy = new BenchProxy({ routes: [{ name: 'web', port: 0, backendPort }] });
  await proxy.start();
  proxy.addIdle(Number(values['idle-ips']));
  let handle;
  if (!values['no-adapter']) {
    const adapterUrl = process.env.SMARTPROXY_ADAPTER === undefined
      ? import.meta.resolve('@smartproxy-exporter/adapter')
      : pathToFileURL(process.env.SMARTPROXY_ADAPTER).href;
    timeGetters(proxy.metrics);
    await instrumentSlices(adapterUrl);
    const { serveSnapshots } = await import(adapterUrl);
    handle = await serveSnapshots(proxy, { path: values.socket, mode: 0o600 });
  }

  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  let cpuMark = cpuMicros();
  let captureNext;
  proxy.onGetMetrics = () => {
    if (captureNext) {
      captureNext.resolve({ ...proxy.truth(), ticks: proxy.tickTruths?.slice() });
      captureNext = undefined;
    }
  };

  const ms = (ns) => ns / 1e6;
  const commands = {
    ports: () => ({ web: proxy.routes[0].port }),
    addIdle: ({ count }) => { proxy.addIdle(count); return proxy.truth().distinctIPs; },
    churnIdle: ({ count }) => proxy.churnIdle(count),
    // Event-loop delay and CPU since the last call (then reset).
    loopStats: () => {
      const cpu = cpuMicros();
      const result = {
        p50Ms: ms(loop.percentile(50)), p99Ms: ms(loop.percentile(99)), maxMs: ms(loop.max),
        meanMs: ms(loop.mean), cpuMs: (cpu - cpuMark) / 1000, ...takeTiming(),
      };
      loop.reset();
      cpuMark = cpu;
      return result;
    },
    memory: ({ gc }) => {
      if (gc && typeof globalThis.gc === 'function') globalThis.gc();
      const m = process.memoryUsage();
      return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external,
        arrayBuffers: m.arrayBuffers, records: proxy.connections.size, live: proxy.live.size,
        ipTrackers: proxy.ipTrackers.size, requestTimes: proxy.requestTimes.length };
    },
    truth: () => proxy.truth(),
    tickTruths: ({ on }) => { proxy.tickTruths = on ? [] : undefined; return true; },
    // Resolves with the truth taken inside the next getMetrics() call (the adapter's reads of
    // one snapshot run in that same turn of the event loop when the getters are synchronous).
    truthAtNextSnapshot: () => new Promise((resolve) => { captureNext = { resolve }; }),
    freeze: () => { proxy.freeze(); return proxy.truth(); },
    thaw: () => { proxy.thaw(); return true; },
    stop: async () => {
      await handle?.close();
      for (const server of proxy.servers) server.close();
      for (const record of proxy.live) { record.socket.destroy(); record.upstream.destroy(); }
      setTimeout(() => process.exit(0), 50);
      return true;
    },
  };
  process.on('message', async (message) => {
    try {
      const result = await commands[message.cmd](message);
      process.send({ id: message.id, ok: true, result });
    } catch (error) {
      process.send({ id: message.id, ok: false, error: String(error?.stack ?? error) });
    }
  });
  process.send({ id: 0, ok: true, result: { ready: true, port: proxy.routes[0].port, pid: process.pid } });
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
