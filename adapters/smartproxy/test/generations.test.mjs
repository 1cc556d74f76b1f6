// The right semantics per SmartProxy generation (docs/snapshot-protocol.md 1.1):
//   19.6.2 IProxyStats: getThroughput() is bytes of the connections open now -> openConnectionBytes
//          (a gauge, never bytes); getRequestsPerSecond() is last-60-s / 60 -> requests.perMinute.
//   21.1.3 IMetrics, synchronous, Maps: as before, adapter.api "IMetrics".
//   27.x   IMetrics, async getters, plain objects, the groups backends/protocols/udp/byDomain.
import assert from 'node:assert/strict';
import test from 'node:test';
import { buildSnapshot } from '../index.js';
import {
  expected27Groups, FakeSmartProxy1962, fakeMetricsProxy, fakeProxy27,
} from '../testing/fake_proxies.mjs';

async function snapshotOf(proxy, options = {}) {
  return JSON.parse(JSON.stringify(await buildSnapshot(proxy, options)));
}

test('19.6.2: getThroughput() becomes openConnectionBytes and falls when a connection closes', async () => {
  const proxy = new FakeSmartProxy1962();
  const first = proxy.open({ ip: '192.0.2.1', route: 'web' });
  const second = proxy.open({ ip: '192.0.2.2', route: 'web' });
  proxy.transfer(first, 1000, 5000);
  proxy.transfer(second, 200, 300);
  const before = await snapshotOf(proxy);
  assert.deepEqual(before.openConnectionBytes, { in: 1200, out: 5300 });
  assert.equal(before.bytes, undefined, 'never the bytes counters');
  assert.equal(before.throughput, undefined);
  assert.deepEqual(before.adapter, {
    name: '@smartproxy-exporter/adapter', version: '0.3.0', api: 'IProxyStats', skipped: 0,
  });
  assert.deepEqual(before.connections, {
    active: 2, total: 2, byRoute: { web: 2 }, byIP: { '192.0.2.1': 1, '192.0.2.2': 1 }, distinctIPs: 2,
  });

  proxy.close(first);
  const after = await snapshotOf(proxy);
  assert.deepEqual(after.openConnectionBytes, { in: 200, out: 300 }, 'it fell: a gauge');
  assert.equal(after.connections.total, 2, 'the connection counter did not');
});

test('19.6.2: getRequestsPerSecond() is the 60 s window, served as requests.perMinute only', async () => {
  let now = 1_000_000;
  const proxy = new FakeSmartProxy1962({ now: () => now });
  proxy.open();
  for (let i = 0; i < 90; i += 1) proxy.request();
  now += 30_000;
  for (let i = 0; i < 30; i += 1) proxy.request();
  const snapshot = await snapshotOf(proxy);
  assert.ok(Math.abs(snapshot.requests.perMinute - 120) < 1e-9, `${snapshot.requests.perMinute}`);
  assert.deepEqual(Object.keys(snapshot.requests), ['perMinute'], 'no perSecond, no total');
  now += 40_000; // the first 90 are now older than 60 s
  assert.ok(Math.abs((await snapshotOf(proxy)).requests.perMinute - 30) < 1e-9);
});

test('21.1.3: synchronous getters and Maps, adapter.api IMetrics, no 1.1 groups', async () => {
  const snapshot = await snapshotOf(fakeMetricsProxy());
  assert.equal(snapshot.adapter.api, 'IMetrics');
  assert.equal(snapshot.adapter.skipped, 0);
  assert.deepEqual(snapshot.bytes, { in: 123456789, out: 987654321 });
  for (const group of ['openConnectionBytes', 'backends', 'protocols', 'udp']) {
    assert.equal(snapshot[group], undefined, group);
  }
  assert.equal(snapshot.requests.byDomain, undefined);
});

test('27.x: async getters and plain objects fill every group, the 1.1 ones included', async () => {
  const proxy = fakeProxy27();
  const snapshot = await snapshotOf(proxy);
  const expected = expected27Groups();
  assert.equal(snapshot.adapter.api, 'IMetrics');
  assert.equal(snapshot.adapter.skipped, 0);
  assert.deepEqual(snapshot.backends, expected.backends);
  assert.deepEqual(snapshot.protocols, expected.protocols);
  assert.deepEqual(snapshot.udp, expected.udp);
  assert.deepEqual(snapshot.requests, { total: 88000, perSecond: 4, perMinute: 240, byDomain: expected.byDomain });
  assert.deepEqual(snapshot.connections, {
    active: 9, total: 4200, byRoute: { api: 6, web: 3 },
    byIP: { '203.0.113.9': 5, '198.51.100.20': 4 }, distinctIPs: 2,
  });
  assert.deepEqual(snapshot.bytes, { in: 5000000, out: 7000000 });
  assert.deepEqual(snapshot.throughput.byRoute, { api: { in: 200, out: 400 }, web: { in: 100, out: 200 } });
  assert.deepEqual(snapshot.percentiles.connectionDurationMs, { p50: 80, p95: 400, p99: 1200 });

  const top = await snapshotOf(proxy, { ipLimit: 1 });
  assert.deepEqual(top.connections.byIP, { '203.0.113.9': 5 });
  assert.deepEqual(top.throughput.byIP, { '203.0.113.9': { in: 150, out: 300 } });
});

test('27.x: each 1.1 group is detected on its own; a proxy without them leaves them out uncounted', async () => {
  const omit = ['backends', 'udp', 'protocols.backend', 'requests.byDomain'];
  const snapshot = await snapshotOf(fakeProxy27(undefined, { omit }));
  assert.equal(snapshot.backends, undefined);
  assert.equal(snapshot.udp, undefined);
  assert.deepEqual(Object.keys(snapshot.protocols), ['frontend']);
  assert.equal(snapshot.requests.byDomain, undefined);
  assert.equal(snapshot.adapter.skipped, 0);
});
