// A SmartProxy stopped and started again in the same process resets its counters under the same
// serveSnapshots() call. The adapter notices a counter that went backwards and starts a new
// proxy.instance with a new startTime, logged once.
import assert from 'node:assert/strict';
import path from 'node:path';
import test from 'node:test';
import { serveSnapshots } from '../index.js';
import { InstanceTracker } from '../src/identity.js';
import { FakeSmartProxy1962, fakeProxy27 } from '../testing/fake_proxies.mjs';
import { getSnapshot, makeTempDir } from '../testing/unix_http.mjs';

function trackerForTest() {
  let clock = 1000;
  let ids = 0;
  const messages = [];
  const tracker = new InstanceTracker({
    version: '19.6.2',
    startTime: 500,
    now: () => clock,
    newInstanceId: () => `id${(ids += 1)}`,
    onRestart: (message) => messages.push(message),
  });
  return { tracker, messages, advance: (ms) => { clock += ms; } };
}

const snapshotWith = (total, extra = {}) => ({ connections: { active: 0, total }, ...extra });

test('a counter that goes backwards starts a new instance with startTime = now', () => {
  const { tracker, messages, advance } = trackerForTest();
  assert.deepEqual(tracker.observe(tracker.begin(), snapshotWith(10)),
    { name: 'smartproxy', version: '19.6.2', instance: 'id1', startTime: 500 });
  assert.equal(tracker.observe(tracker.begin(), snapshotWith(10)).instance, 'id1', 'equal is not backwards');
  assert.equal(tracker.observe(tracker.begin(), snapshotWith(15)).instance, 'id1');
  advance(7000);
  assert.deepEqual(tracker.observe(tracker.begin(), snapshotWith(3)),
    { name: 'smartproxy', version: '19.6.2', instance: 'id2', startTime: 8000 });
  assert.equal(messages.length, 1);
  assert.equal(messages[0], 'connections.total went backwards (15 -> 3) under proxy.instance id1: ' +
    'the proxy restarted; serving proxy.instance id2, startTime 1970-01-01T00:00:08.000Z');
  // The new instance's baseline is the new counter: growing again is fine, and nothing more is logged.
  assert.equal(tracker.observe(tracker.begin(), snapshotWith(4)).instance, 'id2');
  assert.equal(messages.length, 1);
});

test('requests.total and bytes are watched too; gauges and absent counters are not', () => {
  const { tracker, messages } = trackerForTest();
  const full = (requests, bytesIn, open) => snapshotWith(100, {
    requests: { total: requests, perSecond: 5 }, bytes: { in: bytesIn, out: 10 }, openConnectionBytes: { in: open, out: open },
  });
  tracker.observe(tracker.begin(), full(50, 1000, 900));
  assert.equal(tracker.observe(tracker.begin(), full(50, 1000, 10)).instance, 'id1', 'openConnectionBytes may fall');
  assert.equal(tracker.observe(tracker.begin(), snapshotWith(100)).instance, 'id1', 'a skipped counter is no reset');
  assert.equal(tracker.observe(tracker.begin(), full(49, 1000, 10)).instance, 'id2');
  assert.match(messages[0], /^requests\.total went backwards \(50 -> 49\)/);
  assert.equal(tracker.observe(tracker.begin(), full(60, 5, 10)).instance, 'id3');
  assert.match(messages[1], /^bytes\.in went backwards \(1000 -> 5\)/);
});

test('snapshots are compared in the order they started, not the order they finished', () => {
  const { tracker, messages } = trackerForTest();
  const slow = tracker.begin();
  const fast = tracker.begin();
  tracker.observe(fast, snapshotWith(20));
  assert.equal(tracker.observe(slow, snapshotWith(19)).instance, 'id1', 'an older read is no restart');
  assert.equal(messages.length, 0);
});

test('a throwing log callback costs nothing', () => {
  const tracker = new InstanceTracker({ onRestart: () => { throw new Error('log full'); } });
  tracker.observe(tracker.begin(), snapshotWith(5));
  assert.notEqual(tracker.observe(tracker.begin(), snapshotWith(1)).instance, undefined);
});

test('serveSnapshots: a 19.6.2 proxy restarted in the same process gets a new instance, logged once', async (t) => {
  const temp = await makeTempDir();
  t.after(() => temp.cleanup());
  const socketPath = path.join(temp.dir, 'm.sock');
  const proxy = new FakeSmartProxy1962();
  for (let i = 0; i < 5; i += 1) proxy.open();
  const warnings = [];
  const handle = await serveSnapshots(proxy, { path: socketPath, onWarning: (message) => warnings.push(message) });
  t.after(() => handle.close());

  const first = await getSnapshot(socketPath);
  assert.equal(first.proxy.instance, handle.instance);
  proxy.restart(); // proxy.stop(); proxy.start(): totals back to zero
  proxy.open();
  const before = Date.now();
  const second = await getSnapshot(socketPath);
  const third = await getSnapshot(socketPath);
  assert.notEqual(second.proxy.instance, first.proxy.instance);
  assert.equal(second.proxy.instance, handle.instance, 'the handle reports the current instance');
  assert.ok(second.proxy.startTime >= before && second.proxy.startTime > first.proxy.startTime);
  assert.deepEqual(third.proxy, second.proxy);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /connections\.total went backwards \(5 -> 1\)/);
});

test('serveSnapshots: the default log is one console.warn line', async (t) => {
  const temp = await makeTempDir();
  t.after(() => temp.cleanup());
  const socketPath = path.join(temp.dir, 'm.sock');
  const proxy = fakeProxy27();
  const handle = await serveSnapshots(proxy, { path: socketPath });
  t.after(() => handle.close());
  await getSnapshot(socketPath);
  const lines = [];
  t.mock.method(console, 'warn', (line) => lines.push(line));
  proxy.data.requestsTotal = 1;
  await getSnapshot(socketPath);
  await getSnapshot(socketPath);
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^smartproxy-exporter adapter: requests\.total went backwards \(88000 -> 1\)/);
});
