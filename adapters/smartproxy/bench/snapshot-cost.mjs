// Event-loop cost of one snapshot: the work of the request handler (parse the request, read the
// proxy's getters under the deadline, build the object, JSON.stringify), i.e. respondToRequest(),
// from call to resolved reply. The fakes' getters are synchronous, so no time is spent waiting:
// all of it is event-loop time (a few microtask turns included). Socket I/O is not included.
//
//   node bench/snapshot-cost.mjs            median of repeated runs, one row per client-IP count
//   node bench/snapshot-cost.mjs --json     the same as JSON
//
// Fake proxies (testing/fake_proxies.mjs) return prebuilt Maps, so what a real SmartProxy spends
// inside its own getters (building byIP(), its topIPs()) is only in the "topIPs full sort" column.
import { respondToRequest } from '../src/respond.js';
import { InstanceTracker } from '../src/identity.js';
import { topEntries } from '../src/top_ips.js';
import { fakeProxyWithClients } from '../testing/fake_proxies.mjs';

const kClientCounts = [10, 1000, 10000, 100000];
const kBudgetMs = 400; // per cell: repeat until this much time is spent (at least kMinRuns)
const kMinRuns = 15;

function efficientTopIPs(metrics) {
  const byIP = metrics.connections.byIP;
  return (limit = 10) => topEntries(byIP(), limit).map(([ip, count]) => ({ ip, count }));
}

const variants = [
  { name: 'all IPs (no ?ips)', url: '/v1/snapshot', proxy: (n) => fakeProxyWithClients(n) },
  {
    name: '?ips=20, proxy has no topIPs (adapter selects)',
    url: '/v1/snapshot?ips=20',
    proxy: (n) => fakeProxyWithClients(n, { withTopIPs: false }),
  },
  {
    name: '?ips=20, proxy topIPs partial select',
    url: '/v1/snapshot?ips=20',
    proxy: (n) => {
      const proxy = fakeProxyWithClients(n);
      proxy.metrics.connections.topIPs = efficientTopIPs(proxy.metrics);
      return proxy;
    },
  },
  {
    name: '?ips=20, proxy topIPs full sort',
    url: '/v1/snapshot?ips=20',
    proxy: (n) => fakeProxyWithClients(n),
  },
];

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function measure(proxy, url, expectedIPs) {
  const context = { proxy, tracker: new InstanceTracker(), countDistinctIPs: false };
  const samples = [];
  let bodyBytes = 0;
  const started = performance.now();
  for (let run = 0; run < 3; run += 1) await respondToRequest('GET', url, context); // warm-up
  while (samples.length < kMinRuns || performance.now() - started < kBudgetMs) {
    const t0 = performance.now();
    const reply = await respondToRequest('GET', url, context);
    const elapsed = performance.now() - t0;
    // Checked inside the loop so that a broken path (a 500, an empty byIP) cannot look fast.
    if (reply.status !== 200) throw new Error(`status ${reply.status}: ${reply.body}`);
    if (samples.length === 0) {
      const ips = Object.keys(JSON.parse(reply.body).connections.byIP).length;
      if (ips !== expectedIPs) throw new Error(`expected ${expectedIPs} IPs, got ${ips}`);
    }
    bodyBytes = reply.body.length;
    samples.push(elapsed);
    if (samples.length >= 2000) break;
  }
  return { medianMs: median(samples), runs: samples.length, bodyBytes };
}

const results = [];
for (const clients of kClientCounts) {
  const row = { clients, cells: [] };
  for (const variant of variants) {
    const expectedIPs = variant.url.includes('ips=20') ? Math.min(20, clients) : clients;
    row.cells.push({ variant: variant.name, ...(await measure(variant.proxy(clients), variant.url, expectedIPs)) });
  }
  results.push(row);
}

if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ node: process.version, results }, null, 2));
} else {
  console.log(`node ${process.version}, median ms of handler time (runs, body bytes)\n`);
  console.log(`| client IPs | ${variants.map((v) => v.name).join(' | ')} |`);
  console.log(`|---:|${variants.map(() => '---:').join('|')}|`);
  for (const row of results) {
    const cells = row.cells.map((c) => `${c.medianMs.toFixed(3)} (${c.runs}, ${c.bodyBytes})`);
    console.log(`| ${row.clients} | ${cells.join(' | ')} |`);
  }
}
