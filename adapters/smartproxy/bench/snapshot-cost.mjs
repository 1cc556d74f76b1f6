// Event-loop cost of one snapshot in the proxy's process: respondToRequest() (parse the request,
// read the proxy's getters under the deadline, select / group the IPs, serialise the body in
// slices), from call to resolved reply. The adapter's work runs in slices that yield to the
// event loop; this reports, per configuration (medians over repeated runs):
//
//   longest block  the longest stretch the adapter held the event loop without yielding, the
//                  proxy's getters not counted (the target: under 2 ms at 100k IPs);
//   getters        time spent inside the proxy's own getters (byIP(), topIPs(), ...), which the
//                  adapter calls once per snapshot and cannot slice; they run in the first block;
//   adapter total  the adapter's event-loop time for the snapshot, all its blocks, getters not
//                  counted (the old "handler time");
//   blocks         how many slices the work took.
//
// Socket I/O is not included (server.js writes the body's chunks in slices too).
//
//   node bench/snapshot-cost.mjs            one table
//   node bench/snapshot-cost.mjs --json     the same as JSON
//   node bench/snapshot-cost.mjs --quick    fewer runs
//   node bench/snapshot-cost.mjs --clients=100000   only these client counts (comma-separated)
//
// Fake proxies (testing/fake_proxies.mjs) return prebuilt Maps, so their byIP() costs nothing;
// the "proxy builds byIP()" rows model a proxy that counts its connection table on every call
// (as SmartProxy 21.x's byIP() does), and "topIPs full sort" one whose topIPs() sorts every IP.
import { respondToRequest } from '../src/respond.js';
import { InstanceTracker } from '../src/identity.js';
import { Slicer } from '../src/slices.js';
import { topEntries } from '../src/top_ips.js';
import { fakeProxyWithClients } from '../testing/fake_proxies.mjs';

const quick = process.argv.includes('--quick');
const clientsArg = process.argv.find((arg) => arg.startsWith('--clients='));
const kClientCounts = clientsArg ? clientsArg.slice(10).split(',').map(Number) : [1000, 10000, 100000];
const kBudgetMs = quick ? 300 : 1500; // per cell: repeat until this much time is spent (at least kMinRuns)
const kMinRuns = quick ? 5 : 15;
const kGrouped = 'ipv4Prefix=24&ipv6Prefix=64';

function efficientTopIPs(metrics) {
  const byIP = metrics.connections.byIP;
  return (limit = 10) => topEntries(byIP(), limit).map(([ip, count]) => ({ ip, count }));
}

// byIP() and throughput.byIP() that build a new Map from a table of connections on every call.
function buildingByIP(proxy) {
  const { connections, throughput } = proxy.metrics;
  const table = [];
  for (const [ip, count] of connections.byIP()) {
    const pair = throughput.byIP().get(ip);
    for (let c = 0; c < count; c += 1) table.push({ ip, in: pair.in / count, out: pair.out / count });
  }
  connections.byIP = () => {
    const counts = new Map();
    for (const connection of table) counts.set(connection.ip, (counts.get(connection.ip) ?? 0) + 1);
    return counts;
  };
  throughput.byIP = () => {
    const sums = new Map();
    for (const connection of table) {
      const sum = sums.get(connection.ip);
      if (sum === undefined) sums.set(connection.ip, { in: connection.in, out: connection.out });
      else {
        sum.in += connection.in;
        sum.out += connection.out;
      }
    }
    return sums;
  };
  return proxy;
}

const variants = [
  { name: 'every IP', url: '/v1/snapshot', proxy: (n) => fakeProxyWithClients(n), ips: (n) => n },
  {
    name: '?ips=20, no topIPs (adapter selects)',
    url: '/v1/snapshot?ips=20',
    proxy: (n) => fakeProxyWithClients(n, { withTopIPs: false }),
  },
  {
    name: '?ips=20, topIPs partial select',
    url: '/v1/snapshot?ips=20',
    proxy: (n) => {
      const proxy = fakeProxyWithClients(n);
      proxy.metrics.connections.topIPs = efficientTopIPs(proxy.metrics);
      return proxy;
    },
  },
  { name: '?ips=20, topIPs full sort', url: '/v1/snapshot?ips=20', proxy: (n) => fakeProxyWithClients(n) },
  {
    name: `grouped ?ips=20&${kGrouped}, mixed addresses`,
    url: `/v1/snapshot?ips=20&${kGrouped}`,
    proxy: (n) => fakeProxyWithClients(n, { addresses: 'mixed' }),
  },
  {
    name: `grouped ?ips=20&${kGrouped}, 10.x (few networks)`,
    url: `/v1/snapshot?ips=20&${kGrouped}`,
    proxy: (n) => fakeProxyWithClients(n),
    ips: (n) => Math.min(20, Math.ceil(n / 256)),
  },
  {
    name: `grouped, every network (?${kGrouped}), mixed addresses`,
    url: `/v1/snapshot?${kGrouped}`,
    proxy: (n) => fakeProxyWithClients(n, { addresses: 'mixed' }),
    ips: () => undefined,
  },
  {
    name: `grouped ?ips=20&${kGrouped}, proxy builds byIP()`,
    url: `/v1/snapshot?ips=20&${kGrouped}`,
    proxy: (n) => buildingByIP(fakeProxyWithClients(n, { addresses: 'mixed' })),
  },
  {
    name: 'every IP, proxy builds byIP()',
    url: '/v1/snapshot',
    proxy: (n) => buildingByIP(fakeProxyWithClients(n)),
    ips: (n) => n,
  },
];

// Wraps every getter of the fake's metrics groups to add its time to clock.gettersMs.
function timeGetters(proxy, clock) {
  for (const group of Object.values(proxy.metrics)) {
    for (const [name, getter] of Object.entries(group)) {
      if (typeof getter !== 'function') continue;
      group[name] = (...args) => {
        const t0 = performance.now();
        try {
          return getter.apply(group, args);
        } finally {
          clock.gettersMs += performance.now() - t0;
        }
      };
    }
  }
  return proxy;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function once(context, url, clock) {
  clock.gettersMs = 0;
  const blocks = [];
  const slicer = new Slicer({ onBlock: (ms) => blocks.push(ms) });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const reply = await respondToRequest('GET', url, { ...context, slicer });
  slicer.finish();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  // The getters run in the first block.
  const own = blocks.map((ms, index) => (index === 0 ? Math.max(0, ms - clock.gettersMs) : ms));
  return {
    reply,
    wallMs,
    gettersMs: clock.gettersMs,
    longestMs: Math.max(...own),
    totalMs: own.reduce((sum, ms) => sum + ms, 0),
    // Process CPU time, getters included: unlike the block times, not inflated when another
    // process preempts this one on a busy machine.
    cpuMs: (cpu.user + cpu.system) / 1000,
    blocks: blocks.length,
  };
}

async function measure(variant, clients) {
  const clock = { gettersMs: 0 };
  const proxy = timeGetters(variant.proxy(clients), clock);
  const context = { proxy, tracker: new InstanceTracker(), countDistinctIPs: false };
  const expectedIPs = variant.ips ? variant.ips(clients) : Math.min(20, clients);
  const runs = [];
  let bodyBytes = 0;
  for (let run = 0; run < 3; run += 1) await once(context, variant.url, clock); // warm-up
  const started = performance.now();
  while (runs.length < kMinRuns || performance.now() - started < kBudgetMs) {
    const result = await once(context, variant.url, clock);
    // Checked inside the loop so that a broken path (a 500, an empty byIP) cannot look fast.
    if (result.reply.status !== 200) throw new Error(`status ${result.reply.status}: ${result.reply.body}`);
    bodyBytes = result.reply.headers['Content-Length'];
    if (runs.length === 0) {
      const snapshot = JSON.parse(result.reply.body);
      const ips = Object.keys(snapshot.connections.byIP).length;
      if (expectedIPs !== undefined && ips !== expectedIPs) throw new Error(`expected ${expectedIPs} IPs, got ${ips}`);
      if (variant.url.includes('Prefix') && snapshot.connections.ipGrouping === undefined) {
        throw new Error('no ipGrouping in a grouped answer');
      }
    }
    runs.push(result);
    if (runs.length >= 500) break;
  }
  const pick = (key) => median(runs.map((run) => run[key]));
  return {
    variant: variant.name,
    longestBlockMs: pick('longestMs'),
    worstLongestBlockMs: Math.max(...runs.map((run) => run.longestMs)),
    gettersMs: pick('gettersMs'),
    adapterTotalMs: pick('totalMs'),
    cpuMs: pick('cpuMs'),
    minCpuMs: Math.min(...runs.map((run) => run.cpuMs)),
    wallMs: pick('wallMs'),
    blocks: pick('blocks'),
    runs: runs.length,
    bodyBytes,
  };
}

const results = [];
for (const clients of kClientCounts) {
  for (const variant of variants) results.push({ clients, ...(await measure(variant, clients)) });
}

if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ node: process.version, results }, null, 2));
} else {
  console.log(`node ${process.version}; medians over runs (ms); "worst" = the longest block of any run; ` +
    '"CPU" = process CPU time per snapshot, getters included (median / min)\n');
  console.log('| client IPs | configuration | longest block | worst | getters | adapter total | CPU | blocks | body bytes |');
  console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    console.log(`| ${r.clients} | ${r.variant} | ${r.longestBlockMs.toFixed(3)} | ${r.worstLongestBlockMs.toFixed(3)} | ` +
      `${r.gettersMs.toFixed(3)} | ${r.adapterTotalMs.toFixed(2)} | ${r.cpuMs.toFixed(1)} / ${r.minCpuMs.toFixed(1)} | ` +
      `${r.blocks} | ${r.bodyBytes} |`);
  }
}
