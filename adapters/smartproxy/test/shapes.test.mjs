// Every collection shape the adapter accepts: Map, plain object, array of [name, value] entries,
// array of records that carry their name ({ip, count}, {route, count}, {backend, ...},
// {protocol, ...}, {domain, ...}). Anything else leaves that field out and counts in skipped.
import assert from 'node:assert/strict';
import test from 'node:test';
import { buildSnapshot } from '../index.js';
import { fakeMetricsProxy, fakeProxy27, sampleMetricsData } from '../testing/fake_proxies.mjs';

async function snapshotOf(proxy, options = {}) {
  return JSON.parse(JSON.stringify(await buildSnapshot(proxy, options)));
}

function withConnections(byRoute, byIP, options) {
  const proxy = fakeMetricsProxy({ ...sampleMetricsData(), byRoute, byIP }, { omit: ['connections.topIPs'] });
  return snapshotOf(proxy, options);
}

test('name -> count collections: Map, object, [name, value] entries and records', async () => {
  const expectedRoutes = { api: 30, web: 12 };
  const expectedIPs = { '203.0.113.7': 3, '198.51.100.4': 7 };
  const shapes = {
    Map: [new Map([['api', 30], ['web', 12]]), new Map([['203.0.113.7', 3], ['198.51.100.4', 7]])],
    object: [{ api: 30, web: 12 }, { '203.0.113.7': 3, '198.51.100.4': 7 }],
    entries: [[['api', 30], ['web', 12]], [['203.0.113.7', 3], ['198.51.100.4', 7]]],
    records: [
      [{ route: 'api', count: 30 }, { route: 'web', count: 12 }],
      [{ ip: '203.0.113.7', count: 3 }, { ip: '198.51.100.4', connections: 7 }],
    ],
  };
  for (const [name, [byRoute, byIP]] of Object.entries(shapes)) {
    const snapshot = await withConnections(byRoute, byIP);
    assert.deepEqual(snapshot.connections.byRoute, expectedRoutes, name);
    assert.deepEqual(snapshot.connections.byIP, expectedIPs, name);
    assert.equal(snapshot.connections.distinctIPs, 2, name);
    assert.equal(snapshot.adapter.skipped, 0, name);
    // ?ips=N selects from every shape too.
    const top = await withConnections(byRoute, byIP, { ipLimit: 1 });
    assert.deepEqual(top.connections.byIP, { '198.51.100.4': 7 }, `${name} ?ips=1`);
  }
});

test('unrecognised shapes leave the field out and are counted', async () => {
  for (const bad of [42, 'api=30', null, true, [1, 2, 3], [{ host: 'api', count: 1 }]]) {
    const snapshot = await withConnections(bad, new Map([['192.0.2.1', 1]]));
    assert.equal(snapshot.connections.byRoute, undefined, JSON.stringify(bad));
    assert.deepEqual(snapshot.connections.byIP, { '192.0.2.1': 1 });
    assert.equal(snapshot.adapter.skipped, 1, JSON.stringify(bad));
  }
  // Also under ?ips=N (the adapter selects) and from topIPs().
  assert.equal((await withConnections({ a: 1 }, 'nope', { ipLimit: 5 })).adapter.skipped, 1);
  const proxy = fakeMetricsProxy();
  proxy.metrics.connections.topIPs = () => 'nope';
  const snapshot = await snapshotOf(proxy, { ipLimit: 2 });
  assert.equal(snapshot.connections.byIP, undefined);
  assert.equal(snapshot.throughput.byIP, undefined);
  assert.equal(snapshot.adapter.skipped, 1);
});

test('an empty collection is served as empty, not counted', async () => {
  const snapshot = await withConnections([], {});
  assert.deepEqual(snapshot.connections.byRoute, {});
  assert.deepEqual(snapshot.connections.byIP, {});
  assert.equal(snapshot.adapter.skipped, 0);
});

test('name -> {in, out} collections in every shape, and throughput.byIP follows ?ips=N', async () => {
  const shapes = [
    new Map([['api', { in: 1, out: 2 }]]),
    { api: { in: 1, out: 2 } },
    [['api', { in: 1, out: 2 }]],
    [{ route: 'api', in: 1, out: 2 }],
  ];
  for (const throughputByRoute of shapes) {
    const throughputByIP = Array.isArray(throughputByRoute)
      ? [{ ip: '198.51.100.4', in: 5, out: 6 }, { ip: '203.0.113.7', in: 1, out: 2 }]
      : { '198.51.100.4': { in: 5, out: 6 }, '203.0.113.7': { in: 1, out: 2 } };
    const proxy = fakeMetricsProxy({ ...sampleMetricsData(), throughputByRoute, throughputByIP });
    const all = await snapshotOf(proxy);
    assert.deepEqual(all.throughput.byRoute, { api: { in: 1, out: 2 } });
    assert.deepEqual(all.throughput.byIP, { '198.51.100.4': { in: 5, out: 6 }, '203.0.113.7': { in: 1, out: 2 } });
    const top = await snapshotOf(proxy, { ipLimit: 1 });
    assert.deepEqual(top.throughput.byIP, { '198.51.100.4': { in: 5, out: 6 } });
  }
});

test('backends: an object of records, a list of {backend, ...}, camelCase or snake_case members', async () => {
  const expected = {
    'b:1': {
      protocol: 'h2', active: 3, total: 120, connectErrors: 1, handshakeErrors: 0, requestErrors: 2,
      connectTimeMs: 4.5, poolHits: 100, poolMisses: 20,
    },
  };
  const camel = {
    protocol: 'h2', activeConnections: 3, totalConnections: 120, connectErrors: 1,
    handshakeErrors: 0, requestErrors: 2, avgConnectTimeMs: 4.5, poolHits: 100, poolMisses: 20,
  };
  const snake = {
    protocol: 'h2', active_connections: 3, total_connections: 120, connect_errors: 1,
    handshake_errors: 0, request_errors: 2, avg_connect_time_ms: 4.5, pool_hits: 100, pool_misses: 20,
  };
  const plain = {
    protocol: 'h2', active: 3, total: 120, connectErrors: 1, handshakeErrors: 0, requestErrors: 2,
    connectTimeMs: 4.5, poolHits: 100, poolMisses: 20,
  };
  const variants = {
    'byBackend() object': (metrics) => { metrics.backends = { byBackend: async () => ({ 'b:1': camel }) }; },
    'byBackend() Map': (metrics) => { metrics.backends = { byBackend: () => new Map([['b:1', snake]]) }; },
    'list() of {backend}': (metrics) => { metrics.backends = { list: async () => [{ backend: 'b:1', ...plain }] }; },
    'list() of {key}': (metrics) => { metrics.backends = { list: () => [{ key: 'b:1', ...snake }] }; },
  };
  for (const [name, install] of Object.entries(variants)) {
    const proxy = fakeProxy27();
    install(proxy.metrics);
    const snapshot = await snapshotOf(proxy);
    assert.deepEqual(snapshot.backends, expected, name);
    assert.equal(snapshot.adapter.skipped, 0, name);
  }
});

test('backend members that break the number rules are dropped one by one', async () => {
  const proxy = fakeProxy27();
  proxy.metrics.backends = {
    byBackend: () => ({
      a: { protocol: 7, activeConnections: -1, totalConnections: 2.7, connectErrors: Number.NaN, poolHits: 2 ** 60 },
      b: 'not a record',
    }),
  };
  const snapshot = await snapshotOf(proxy);
  assert.deepEqual(snapshot.backends, { a: { total: 2 } });
});

test('protocols, udp and requests.byDomain in their accepted shapes', async () => {
  const proxy = fakeProxy27();
  proxy.metrics.protocols = {
    frontend: () => new Map([['h3', { activeConnections: 1, totalConnections: 9 }]]),
    backend: async () => [['h1', { active_connections: 2, total_connections: 8 }]],
  };
  proxy.metrics.requests.byDomain = async () => [
    { domain: 'a.example', perSecond: 2, perMinute: 90 },
    { host: 'b.example', requestsPerSecond: 1, requestsLastMinute: 30 },
    { domain: 'c.example', per_second: 0.5, last_minute: 20 },
    ['d.example', 4],
  ];
  const snapshot = await snapshotOf(proxy);
  assert.deepEqual(snapshot.protocols, {
    frontend: { h3: { active: 1, total: 9 } },
    backend: { h1: { active: 2, total: 8 } },
  });
  assert.deepEqual(snapshot.requests.byDomain, {
    'a.example': { perSecond: 2, perMinute: 90 },
    'b.example': { perSecond: 1, perMinute: 30 },
    'c.example': { perSecond: 0.5, perMinute: 20 },
    'd.example': { perSecond: 4 },
  });
  assert.equal(snapshot.adapter.skipped, 0);
});

test('new groups with unrecognised shapes are left out and counted', async () => {
  const proxy = fakeProxy27();
  proxy.metrics.backends.byBackend = () => 3;
  proxy.metrics.protocols.frontend = () => 'h1';
  proxy.metrics.udp.activeSessions = () => ({ value: 2 });
  proxy.metrics.requests.byDomain = () => [{ site: 'x', perSecond: 1 }];
  const snapshot = await snapshotOf(proxy);
  assert.equal(snapshot.backends, undefined);
  assert.deepEqual(Object.keys(snapshot.protocols), ['backend']);
  assert.deepEqual(Object.keys(snapshot.udp), ['totalSessions', 'datagramsIn', 'datagramsOut']);
  assert.equal(snapshot.requests.byDomain, undefined);
  assert.equal(snapshot.adapter.skipped, 4);
});

test('names are kept as data, even "__proto__", in every new group', async () => {
  const proxy = fakeProxy27();
  proxy.metrics.backends.byBackend = () => [{ backend: '__proto__', total: 1 }];
  proxy.metrics.requests.byDomain = () => new Map([['constructor', { perSecond: 1 }]]);
  const text = JSON.stringify(await buildSnapshot(proxy));
  assert.match(text, /"backends":\{"__proto__":\{"total":1\}\}/);
  assert.match(text, /"byDomain":\{"constructor":\{"perSecond":1\}\}/);
});
