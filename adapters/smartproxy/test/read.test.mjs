// Reads that never hurt the proxy: getters that return Promises, throw, reject or hang, under one
// deadline per snapshot. A required field's failure names its getter; an optional one is left out
// and counted in adapter.skipped; nothing becomes an unhandled rejection, even a late one.
import assert from 'node:assert/strict';
import test from 'node:test';
import { buildSnapshot, ProxyGetterError } from '../index.js';
import { openReadSession } from '../src/read.js';
import { fakeMetricsProxy, fakeProxy27, fakeStatsProxy } from '../testing/fake_proxies.mjs';

// Every rejection nobody handled, for the whole file: each test asserts there were none.
const unhandled = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

function settleLater(ms, settle) {
  return new Promise((resolve, reject) => {
    setTimeout(() => settle(resolve, reject), ms);
  });
}

const never = () => new Promise(() => {});

async function snapshotOf(proxy, options = {}) {
  return JSON.parse(JSON.stringify(await buildSnapshot(proxy, options)));
}

// Lets timers up to `ms` fire and their rejections be reported.
async function waitPast(ms) {
  await new Promise((resolve) => setTimeout(resolve, ms));
  await new Promise((resolve) => setImmediate(resolve));
}

test('a read session turns values, Promises, throws, rejections and lateness into outcomes', async () => {
  const session = openReadSession({ deadlineMs: 50 });
  try {
    const outcomes = await Promise.all([
      session.read('value()', () => 1),
      session.read('promise()', async () => 2),
      session.read('throws()', () => { throw new Error('boom'); }),
      session.read('rejects()', () => Promise.reject(new Error('nope'))),
      session.read('hangs()', never),
      session.read('thenable()', () => ({ then: (resolve) => resolve(3) })),
      session.read('bad-then()', () => ({ then: () => { throw new Error('bad then'); } })),
    ]);
    assert.deepEqual(outcomes, [
      { ok: true, value: 1 },
      { ok: true, value: 2 },
      { ok: false, reason: 'threw: boom' },
      { ok: false, reason: 'rejected: nope' },
      { ok: false, reason: 'did not answer within the snapshot deadline (50 ms)' },
      { ok: true, value: 3 },
      { ok: false, reason: 'rejected: bad then' },
    ]);
    assert.equal(session.skipped, 4);
    // After the deadline a getter is not even called.
    let called = false;
    const late = await session.read('after()', () => { called = true; return 1; });
    assert.equal(called, false);
    assert.equal(late.ok, false);
  } finally {
    session.close();
  }
});

test('required getters that throw, reject or hang reject the snapshot naming the getter', async () => {
  const cases = [
    ['throw', () => { throw new Error('collector not ready'); }, /^connections\.active\(\) threw: collector not ready$/],
    ['reject', () => Promise.reject(new Error('ipc closed')), /^connections\.active\(\) rejected: ipc closed$/],
    ['hang', never, /^connections\.active\(\) did not answer within the snapshot deadline \(40 ms\)$/],
  ];
  for (const [name, getter, message] of cases) {
    const proxy = fakeMetricsProxy();
    proxy.metrics.connections.active = getter;
    await assert.rejects(buildSnapshot(proxy, { deadlineMs: 40 }),
      (error) => error instanceof ProxyGetterError && message.test(error.message), name);
  }
  assert.deepEqual(unhandled, []);
});

test('getMetrics() and getStats() themselves may be async, and their failure names them', async () => {
  const asyncRoot = fakeMetricsProxy();
  const { metrics } = asyncRoot;
  asyncRoot.getMetrics = async () => metrics;
  assert.equal((await snapshotOf(asyncRoot)).connections.active, 42);

  const rejecting = { getMetrics: () => Promise.reject(new Error('not started')) };
  await assert.rejects(buildSnapshot(rejecting), /ProxyGetterError: getMetrics\(\) rejected: not started$/);
  const hanging = { getStats: never };
  await assert.rejects(buildSnapshot(hanging, { deadlineMs: 30 }), /ProxyGetterError: getStats\(\) did not answer within/);
  const empty = { getMetrics: () => undefined };
  await assert.rejects(buildSnapshot(empty), /SnapshotError: getMetrics\(\) returned undefined, not a metrics object$/);
});

test('optional getters that throw, reject or hang are left out and counted; the rest is served', async () => {
  const proxy = fakeMetricsProxy();
  proxy.metrics.throughput.byRoute = () => { throw new Error('tracker not started'); };
  proxy.metrics.requests.total = () => Promise.reject(new Error('ipc closed'));
  proxy.metrics.percentiles.connectionDuration = never;
  const started = Date.now();
  const snapshot = await snapshotOf(proxy, { deadlineMs: 60 });
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 55 && elapsed < 1000, `one deadline for the snapshot, took ${elapsed} ms`);
  assert.equal(snapshot.adapter.skipped, 3);
  assert.equal(snapshot.throughput.byRoute, undefined);
  assert.deepEqual(snapshot.requests, { perSecond: 12.5, perMinute: 700 });
  assert.equal(snapshot.percentiles.connectionDurationMs, undefined);
  assert.deepEqual(snapshot.percentiles.bytesTransferred.out, { p50: 4, p95: 5, p99: 6 });
  assert.equal(snapshot.connections.active, 42);
});

test('a hanging getter costs one deadline, not one per getter', async () => {
  const proxy = fakeProxy27();
  for (const group of ['throughput', 'percentiles', 'udp']) {
    for (const name of Object.keys(proxy.metrics[group])) proxy.metrics[group][name] = never;
  }
  const started = Date.now();
  const snapshot = await snapshotOf(proxy, { deadlineMs: 80 });
  const elapsed = Date.now() - started;
  assert.ok(elapsed < 400, `took ${elapsed} ms for 11 hanging getters with an 80 ms deadline`);
  assert.equal(snapshot.adapter.skipped, 11);
  assert.equal(snapshot.throughput, undefined);
  assert.equal(snapshot.udp, undefined);
  assert.equal(snapshot.connections.active, 9);
});

test('a required failure answers at once, without waiting for hanging optional getters', async () => {
  const proxy = fakeMetricsProxy();
  proxy.metrics.connections.total = () => { throw new Error('gone'); };
  proxy.metrics.throughput.instant = never;
  const started = Date.now();
  await assert.rejects(buildSnapshot(proxy, { deadlineMs: 5000 }), /connections\.total\(\) threw: gone/);
  assert.ok(Date.now() - started < 1000);
});

test('a Promise that rejects after the deadline is handled, for required and optional getters', async () => {
  const proxy = fakeMetricsProxy();
  proxy.metrics.throughput.instant = () => settleLater(60, (_, reject) => reject(new Error('late optional')));
  const snapshot = await snapshotOf(proxy, { deadlineMs: 20 });
  assert.equal(snapshot.adapter.skipped, 1);

  proxy.metrics.connections.active = () => settleLater(60, (_, reject) => reject(new Error('late required')));
  await assert.rejects(buildSnapshot(proxy, { deadlineMs: 20 }), /did not answer within/);

  // And one that rejects while another required getter has already failed the snapshot.
  proxy.metrics.connections.total = () => { throw new Error('first'); };
  await assert.rejects(buildSnapshot(proxy, { deadlineMs: 1000 }), /connections\.total\(\) threw: first/);
  await waitPast(120);
  assert.deepEqual(unhandled, []);
});

test('a getter that answers late but within the deadline is served', async () => {
  const proxy = fakeMetricsProxy();
  proxy.metrics.connections.active = () => settleLater(20, (resolve) => resolve(7));
  assert.equal((await snapshotOf(proxy, { deadlineMs: 500 })).connections.active, 7);
});

test('odd throws (non-Error values, throwing property reads) never escape', async () => {
  const proxy = fakeStatsProxy();
  proxy.stats.getConnectionsByRoute = () => { throw 'a string'; }; // eslint-disable-line no-throw-literal
  proxy.stats.getThroughput = () => Promise.reject(undefined);
  Object.defineProperty(proxy.stats, 'getConnectionsByIP', { get() { throw new Error('getter property'); } });
  const snapshot = await snapshotOf(proxy);
  assert.deepEqual(snapshot.connections, { active: 17, total: 5000 });
  assert.equal(snapshot.adapter.skipped, 2, 'a property that throws when read counts as absent');
  assert.equal(snapshot.openConnectionBytes, undefined);
});

test('a finished snapshot leaves no timer behind, even with a 60 s deadline', async () => {
  const timers = () => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
  const before = timers();
  await buildSnapshot(fakeProxy27(), { deadlineMs: 60000 });
  const proxy = fakeMetricsProxy();
  proxy.metrics.connections.active = () => { throw new Error('x'); };
  await assert.rejects(buildSnapshot(proxy, { deadlineMs: 60000 }));
  assert.equal(timers(), before);
});

test('an AbortSignal ends pending reads early and keeps no listener per snapshot', async () => {
  const { getEventListeners } = await import('node:events');
  const controller = new AbortController();
  for (let i = 0; i < 5; i += 1) await buildSnapshot(fakeProxy27(), { signal: controller.signal });
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0);

  const proxy = fakeMetricsProxy();
  proxy.metrics.connections.active = never;
  const pending = buildSnapshot(proxy, { deadlineMs: 60000, signal: controller.signal });
  setTimeout(() => controller.abort(), 10);
  await assert.rejects(pending, /connections\.active\(\) did not answer within/);
});
