// serveSnapshots(proxy, {read: {<group>: (metrics, context) => ...}}): names we cannot verify are
// the operator's to fix without a fork. An override replaces the default read of its group, may
// return a value or a Promise, and is held to the same deadline and error handling.
import assert from 'node:assert/strict';
import path from 'node:path';
import test from 'node:test';
import { buildSnapshot, kReadGroups, serveSnapshots } from '../index.js';
import { fakeMetricsProxy, fakeProxy27, fakeStatsProxy } from '../testing/fake_proxies.mjs';
import { getSnapshot, makeTempDir, request } from '../testing/unix_http.mjs';

async function snapshotOf(proxy, options = {}) {
  return JSON.parse(JSON.stringify(await buildSnapshot(proxy, options)));
}

// A 27.x whose names differ from our reading: nothing under the default names.
function differentlyNamedProxy() {
  const proxy = fakeMetricsProxy();
  proxy.metrics.upstreams = {
    stats: async () => [{ name: 'u1', protocol: 'h1', active: 2, total: 9, connectErrors: 1 }],
  };
  proxy.metrics.transport = { udpSessions: () => ({ active: 4, total: 44 }) };
  proxy.metrics.http = { domainRates: async () => ({ 'x.example': { rps: 2, lastMinute: 100 } }) };
  proxy.metrics.protocolCounters = () => ({ client: { h2: { active: 1, total: 2 } } });
  return proxy;
}

const overrides = {
  backends: (metrics) => metrics.upstreams.stats(),
  udp: (metrics) => {
    const sessions = metrics.transport.udpSessions();
    return { activeSessions: sessions.active, totalSessions: sessions.total };
  },
  byDomain: async (metrics) => metrics.http.domainRates(),
  protocols: (metrics) => ({ frontend: metrics.protocolCounters().client }),
};

test('overrides read the 1.1 groups from names the adapter does not know', async () => {
  const proxy = differentlyNamedProxy();
  const plain = await snapshotOf(proxy);
  for (const group of ['backends', 'udp', 'protocols']) assert.equal(plain[group], undefined);

  const snapshot = await snapshotOf(proxy, { read: overrides });
  assert.deepEqual(snapshot.backends, { u1: { protocol: 'h1', active: 2, total: 9, connectErrors: 1 } });
  assert.deepEqual(snapshot.udp, { activeSessions: 4, totalSessions: 44 });
  assert.deepEqual(snapshot.requests.byDomain, { 'x.example': { perSecond: 2, perMinute: 100 } });
  assert.deepEqual(snapshot.protocols, { frontend: { h2: { active: 1, total: 2 } } });
  assert.equal(snapshot.adapter.skipped, 0);
});

test('an override receives the awaited metrics object and { proxy, api, ipLimit }', async () => {
  const proxy = fakeProxy27();
  const seen = [];
  const snapshot = await snapshotOf(proxy, {
    ipLimit: 3,
    read: { udp: (metrics, context) => { seen.push([metrics, context]); return { activeSessions: 1 }; } },
  });
  assert.equal(seen.length, 1);
  assert.equal(seen[0][0], proxy.metrics);
  assert.deepEqual(seen[0][1], { proxy, api: 'IMetrics', ipLimit: 3 });
  assert.deepEqual(snapshot.udp, { activeSessions: 1 });
});

test('any group can be overridden, older ones included', async () => {
  const proxy = fakeStatsProxy();
  const snapshot = await snapshotOf(proxy, {
    ipLimit: 1,
    read: {
      connections: async (stats) => ({
        active: stats.getActiveConnections(), total: 6000,
        byRoute: [{ route: 'r', count: 1 }], byIP: { '192.0.2.8': 1, '192.0.2.9': 5 }, distinctIPs: 99,
      }),
      requests: () => ({ total: 10, perSecond: 1 }),
      bytes: () => ({ in: 1, out: 2 }),
      openConnectionBytes: () => undefined,
      throughput: () => ({
        instant: { in: 3, out: 4 },
        byIP: { '192.0.2.9': { in: 5, out: 6 }, '192.0.2.8': { in: 0, out: 0 } },
      }),
      percentiles: () => ({ connectionDuration: { p50: 1 } }),
    },
  });
  assert.deepEqual(snapshot.connections, {
    active: 17, total: 6000, byRoute: { r: 1 }, byIP: { '192.0.2.9': 5 }, distinctIPs: 99,
  });
  assert.deepEqual(snapshot.requests, { total: 10, perSecond: 1 });
  assert.deepEqual(snapshot.bytes, { in: 1, out: 2 });
  assert.equal(snapshot.openConnectionBytes, undefined, 'undefined leaves the group out');
  assert.deepEqual(snapshot.throughput, { instant: { in: 3, out: 4 }, byIP: { '192.0.2.9': { in: 5, out: 6 } } });
  assert.deepEqual(snapshot.percentiles, { connectionDurationMs: { p50: 1 } });
  assert.equal(snapshot.adapter.skipped, 0);
});

test('overrides that throw, reject, hang or return junk: optional groups counted, connections a 500', async () => {
  const never = () => new Promise(() => {});
  const snapshot = await snapshotOf(fakeProxy27(), {
    deadlineMs: 50,
    read: {
      backends: () => { throw new Error('renamed again'); },
      udp: () => Promise.reject(new Error('no udp')),
      protocols: never,
      byDomain: () => 12,
      requests: () => ({ total: -1, perSecond: 2 }),
    },
  });
  for (const group of ['backends', 'udp', 'protocols']) assert.equal(snapshot[group], undefined, group);
  assert.deepEqual(snapshot.requests, { perSecond: 2 });
  assert.equal(snapshot.adapter.skipped, 5);

  await assert.rejects(
    buildSnapshot(fakeProxy27(), { read: { connections: () => Promise.reject(new Error('x')) } }),
    /read\.connections\(\) rejected: x/);
  await assert.rejects(
    buildSnapshot(fakeProxy27(), { read: { connections: () => ({ active: 1 }) } }),
    /read\.connections\(\) gave total undefined, not a finite non-negative number/);
});

test('unknown groups and non-functions are refused at startup', async () => {
  assert.ok(kReadGroups.includes('backends'));
  await assert.rejects(serveSnapshots(fakeProxy27(), { path: '/tmp/never.sock', read: { backend: () => ({}) } }),
    (error) => error instanceof TypeError && /read\.backend: unknown group/.test(error.message));
  await assert.rejects(serveSnapshots(fakeProxy27(), { path: '/tmp/never.sock', read: { udp: 1 } }), TypeError);
  await assert.rejects(serveSnapshots(fakeProxy27(), { path: '/tmp/never.sock', read: [] }), TypeError);
});

test('overrides through serveSnapshots, and a failing connections override is a 500 naming it', async (t) => {
  const temp = await makeTempDir();
  t.after(() => temp.cleanup());
  const socketPath = path.join(temp.dir, 'm.sock');
  let failConnections = false;
  const handle = await serveSnapshots(differentlyNamedProxy(), {
    path: socketPath,
    read: {
      ...overrides,
      connections: (metrics) => {
        if (failConnections) throw new Error('connections moved');
        return { active: metrics.connections.active(), total: metrics.connections.total() };
      },
    },
  });
  t.after(() => handle.close());
  const snapshot = await getSnapshot(socketPath);
  assert.deepEqual(snapshot.udp, { activeSessions: 4, totalSessions: 44 });
  assert.deepEqual(snapshot.connections, { active: 42, total: 123456 });
  failConnections = true;
  const failed = await request(socketPath, '/v1/snapshot');
  assert.equal(failed.status, 500);
  assert.equal(failed.body, 'snapshot failed: read.connections() threw: connections moved\n');
});
