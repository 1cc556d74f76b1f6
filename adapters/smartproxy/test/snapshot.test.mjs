// buildSnapshot: every SmartProxy getter lands in its protocol v1 field, missing ones leave their
// field out, and numbers that break the protocol's rules are dropped (and counted in
// adapter.skipped) rather than invented.
import assert from 'node:assert/strict';
import test from 'node:test';
import { buildSnapshot, ProxyGetterError, SnapshotError } from '../index.js';
import {
  fakeMetricsProxy, fakeStatsProxy, sampleMetricsData, sampleStatsData,
} from '../testing/fake_proxies.mjs';

const identity = { name: 'smartproxy', instance: 'abc', startTime: 1764040000000 };

// Through JSON, as the exporter sees it (and so null-prototype objects compare as plain ones).
async function snapshotOf(proxy, options = {}) {
  return JSON.parse(JSON.stringify(await buildSnapshot(proxy, { identity, now: 1764043200123, ...options })));
}

function adapterGroup(api, skipped = 0) {
  return { name: '@smartproxy-exporter/adapter', version: '0.3.0', api, skipped };
}

test('an IMetrics proxy fills every protocol field from its getter', async () => {
  assert.deepEqual(await snapshotOf(fakeMetricsProxy()), {
    schemaVersion: 1,
    timestamp: 1764043200123,
    proxy: identity,
    adapter: adapterGroup('IMetrics'),
    connections: {
      active: 42,
      total: 123456,
      byRoute: { api: 30, web: 12 },
      byIP: { '203.0.113.7': 3, '2001:db8::1': 1, '198.51.100.4': 7 },
      distinctIPs: 3,
    },
    requests: { total: 99999, perSecond: 12.5, perMinute: 700 },
    bytes: { in: 123456789, out: 987654321 },
    throughput: {
      instant: { in: 1000, out: 2000 },
      recent: { in: 900, out: 1800 },
      average: { in: 800, out: 1600 },
      byRoute: { api: { in: 10, out: 20 }, web: { in: 5, out: 6 } },
      byIP: {
        '203.0.113.7': { in: 1, out: 2 },
        '2001:db8::1': { in: 3, out: 4 },
        '198.51.100.4': { in: 5, out: 6 },
      },
    },
    percentiles: {
      connectionDurationMs: { p50: 120, p95: 900, p99: 2500 },
      bytesTransferred: { in: { p50: 1, p95: 2, p99: 3 }, out: { p50: 4, p95: 5, p99: 6 } },
    },
  });
});

test('an IProxyStats proxy fills the fields its generation has, and only those', async () => {
  assert.deepEqual(await snapshotOf(fakeStatsProxy()), {
    schemaVersion: 1,
    timestamp: 1764043200123,
    proxy: identity,
    adapter: adapterGroup('IProxyStats'),
    connections: {
      active: 17,
      total: 5000,
      byRoute: { legacy: 17 },
      byIP: { '192.0.2.1': 10, '192.0.2.2': 5, '192.0.2.3': 2 },
      distinctIPs: 3,
    },
    // SmartProxy's 19.x plan: getRequestsPerSecond() is requests of the last 60 s / 60, so it is
    // the 60 s window, and getThroughput() sums the connections open now: a gauge, never bytes.
    requests: { perMinute: 195 },
    openConnectionBytes: { in: 4096, out: 8192 },
  });
});

test('getMetrics() is preferred when a proxy has both generations', async () => {
  const proxy = { ...fakeMetricsProxy(), getStats: () => { throw new Error('must not be called'); } };
  assert.equal((await snapshotOf(proxy)).connections.active, 42);
});

test('missing IMetrics methods and groups leave their fields out, never zero', async (t) => {
  await t.test('whole optional groups', async () => {
    const snapshot = await snapshotOf(fakeMetricsProxy(sampleMetricsData(), {
      omit: ['throughput', 'requests', 'percentiles', 'totals'],
    }));
    assert.deepEqual(Object.keys(snapshot), ['schemaVersion', 'timestamp', 'proxy', 'adapter', 'connections']);
    assert.equal(snapshot.adapter.skipped, 0, 'a method the proxy lacks is not a skipped field');
  });
  await t.test('single methods', async () => {
    const snapshot = await snapshotOf(fakeMetricsProxy(sampleMetricsData(), {
      omit: ['connections.byRoute', 'connections.byIP', 'connections.topIPs', 'requests.total',
        'throughput.recent', 'throughput.byIP', 'percentiles.bytesTransferred'],
    }));
    assert.deepEqual(snapshot.connections, { active: 42, total: 123456 });
    assert.deepEqual(snapshot.requests, { perSecond: 12.5, perMinute: 700 });
    assert.deepEqual(Object.keys(snapshot.throughput), ['instant', 'average', 'byRoute']);
    assert.deepEqual(snapshot.percentiles, { connectionDurationMs: { p50: 120, p95: 900, p99: 2500 } });
  });
  await t.test('bytes needs both totals.bytesIn() and totals.bytesOut()', async () => {
    const snapshot = await snapshotOf(fakeMetricsProxy(sampleMetricsData(), { omit: ['totals.bytesOut'] }));
    assert.equal(snapshot.bytes, undefined);
  });
  await t.test('connections.total falls back to totals.connections()', async () => {
    const data = { ...sampleMetricsData(), totalConnections: 777 };
    const snapshot = await snapshotOf(fakeMetricsProxy(data, { omit: ['connections.total'] }));
    assert.equal(snapshot.connections.total, 777);
  });
});

test('missing IProxyStats methods leave their fields out', async () => {
  const snapshot = await snapshotOf(fakeStatsProxy(sampleStatsData(), {
    omit: ['getConnectionsByRoute', 'getConnectionsByIP', 'getRequestsPerSecond', 'getThroughput'],
  }));
  assert.deepEqual(snapshot.connections, { active: 17, total: 5000 });
  assert.equal(snapshot.requests, undefined);
  assert.equal(snapshot.openConnectionBytes, undefined);
});

test('numbers that break protocol rule 3 are dropped, counters become integers', async () => {
  const data = {
    ...sampleMetricsData(),
    perSecond: Number.NaN,
    perMinute: -1,
    requestsTotal: 41.9,
    bytesIn: 10.7,
    bytesOut: Infinity,
    byRoute: new Map([['ok', 1], ['negative', -3], ['nan', Number.NaN]]),
    instant: { in: 5, out: Number.NaN },
    recent: { in: 1 },
    connectionDuration: { p50: 1, p95: -2, p99: Number.POSITIVE_INFINITY },
    bytesTransferred: { in: { p50: Number.NaN }, out: { p99: 9 } },
  };
  const snapshot = await snapshotOf(fakeMetricsProxy(data));
  // perSecond, perMinute, bytesOut, instant, recent: five getters whose value was unusable.
  // Entries dropped inside a map or a quantile group are not counted.
  assert.equal(snapshot.adapter.skipped, 5);
  assert.deepEqual(snapshot.requests, { total: 41 });
  assert.equal(snapshot.bytes, undefined, 'an {in, out} pair needs both members');
  assert.deepEqual(snapshot.connections.byRoute, { ok: 1 });
  assert.equal(snapshot.throughput.instant, undefined);
  assert.equal(snapshot.throughput.recent, undefined);
  assert.deepEqual(snapshot.percentiles, {
    connectionDurationMs: { p50: 1 },
    bytesTransferred: { out: { p99: 9 } },
  });
});

test('counters above 2^53 are dropped instead of losing precision silently', async () => {
  const data = { ...sampleMetricsData(), requestsTotal: 2 ** 53 + 2 };
  assert.equal((await snapshotOf(fakeMetricsProxy(data))).requests.total, undefined);
});

test('a missing or invalid required field is a SnapshotError, not a zero', async () => {
  await assert.rejects(
    buildSnapshot(fakeMetricsProxy(sampleMetricsData(), { omit: ['connections.active'] })),
    SnapshotError);
  await assert.rejects(
    buildSnapshot(fakeMetricsProxy({ ...sampleMetricsData(), total: Number.NaN })),
    /connections\.total\(\) returned NaN, not a finite non-negative number/);
});

test('a throwing required getter is a ProxyGetterError naming the getter', async () => {
  const proxy = fakeMetricsProxy();
  proxy.metrics.connections.total = () => { throw new Error('tracker not started'); };
  await assert.rejects(buildSnapshot(proxy), (error) =>
    error instanceof ProxyGetterError && error instanceof SnapshotError &&
    error.message === 'connections.total() threw: tracker not started');
});

test('a throwing optional getter leaves its field out and is counted', async () => {
  const proxy = fakeMetricsProxy();
  proxy.metrics.throughput.byRoute = () => { throw new Error('tracker not started'); };
  const snapshot = await snapshotOf(proxy);
  assert.equal(snapshot.throughput.byRoute, undefined);
  assert.deepEqual(snapshot.throughput.instant, { in: 1000, out: 2000 });
  assert.equal(snapshot.adapter.skipped, 1);
});

test('route names and IPs are kept as data, even "__proto__"', async () => {
  const data = { ...sampleMetricsData(), byRoute: new Map([['__proto__', 2], ['constructor', 3]]) };
  const text = JSON.stringify(await buildSnapshot(fakeMetricsProxy(data)));
  assert.match(text, /"byRoute":\{"__proto__":2,"constructor":3\}/);
});

test('?ips=N with topIPs() returns the top N and distinctIPs only when asked', async () => {
  const proxy = fakeMetricsProxy();
  let byIPCalls = 0;
  const byIP = proxy.metrics.connections.byIP;
  proxy.metrics.connections.byIP = () => { byIPCalls += 1; return byIP(); };

  const top2 = await snapshotOf(proxy, { ipLimit: 2 });
  assert.deepEqual(top2.connections.byIP, { '198.51.100.4': 7, '203.0.113.7': 3 });
  assert.deepEqual(top2.throughput.byIP, {
    '198.51.100.4': { in: 5, out: 6 },
    '203.0.113.7': { in: 1, out: 2 },
  });
  assert.equal(top2.connections.distinctIPs, undefined);
  assert.equal(byIPCalls, 0, 'topIPs() serves ?ips=N without building the full map');

  const counted = await snapshotOf(proxy, { ipLimit: 2, countDistinctIPs: true });
  assert.equal(counted.connections.distinctIPs, 3);
});

test('?ips=N without topIPs() selects the top N from byIP() and counts distinctIPs', async () => {
  const proxy = fakeMetricsProxy(sampleMetricsData(), { omit: ['connections.topIPs'] });
  const top1 = await snapshotOf(proxy, { ipLimit: 1 });
  assert.deepEqual(top1.connections.byIP, { '198.51.100.4': 7 });
  assert.deepEqual(top1.throughput.byIP, { '198.51.100.4': { in: 5, out: 6 } });
  assert.equal(top1.connections.distinctIPs, 3);
});

test('?ips=0 returns no IPs and does not ask for throughput.byIP()', async () => {
  const proxy = fakeMetricsProxy();
  proxy.metrics.throughput.byIP = () => { throw new Error('must not be called'); };
  const none = await snapshotOf(proxy, { ipLimit: 0 });
  assert.deepEqual(none.connections.byIP, {});
  assert.deepEqual(none.throughput.byIP, {});
});

test('?ips=N larger than the number of IPs returns them all', async () => {
  const snapshot = await snapshotOf(fakeMetricsProxy(), { ipLimit: 1000 });
  assert.equal(Object.keys(snapshot.connections.byIP).length, 3);
});

test('IProxyStats getTopIPs() serves ?ips=N, with either count or connections as the count', async () => {
  const withCount = await snapshotOf(fakeStatsProxy(sampleStatsData(), { withTopIPs: true }), { ipLimit: 2 });
  assert.deepEqual(withCount.connections.byIP, { '192.0.2.1': 10, '192.0.2.2': 5 });

  const proxy = fakeStatsProxy();
  proxy.stats.getTopIPs = () => [{ ip: '192.0.2.9', connections: 4 }];
  assert.deepEqual((await snapshotOf(proxy, { ipLimit: 5 })).connections.byIP, { '192.0.2.9': 4 });
});

test('a topIPs() that returns more than asked is cut to N', async () => {
  const proxy = fakeMetricsProxy();
  proxy.metrics.connections.topIPs = () => [
    { ip: 'a', count: 3 }, { ip: 'b', count: 2 }, { ip: 'c', count: 1 },
  ];
  assert.deepEqual((await snapshotOf(proxy, { ipLimit: 2 })).connections.byIP, { a: 3, b: 2 });
});

test('plain objects are accepted where SmartProxy returns Maps', async () => {
  const data = { ...sampleMetricsData(), byRoute: { api: 1 }, throughputByRoute: { api: { in: 1, out: 2 } } };
  const snapshot = await snapshotOf(fakeMetricsProxy(data));
  assert.deepEqual(snapshot.connections.byRoute, { api: 1 });
  assert.deepEqual(snapshot.throughput.byRoute, { api: { in: 1, out: 2 } });
});

test('a proxy with neither API is an error', async () => {
  await assert.rejects(buildSnapshot({}), /neither getMetrics\(\) nor getStats\(\)/);
});
