// Issue 12: the adapter's own work on a large snapshot runs in slices that yield to the event
// loop, over data read once. Tested by structure, not by the clock (the 2 ms per block is measured
// in bench/snapshot-cost.mjs): the event loop gets turns while a snapshot is built, the text is
// exactly JSON.stringify's, an aborted request stops, concurrent requests do not mix.
import assert from 'node:assert/strict';
import path from 'node:path';
import test from 'node:test';
import { buildSnapshot, serveSnapshots } from '../index.js';
import { respondToRequest } from '../src/respond.js';
import { Slicer } from '../src/slices.js';
import { fakeMetricsProxy, fakeProxyWithClients, sampleMetricsData } from '../testing/fake_proxies.mjs';
import { makeTempDir, request } from '../testing/unix_http.mjs';

// Counts the byIP() calls: a snapshot reads each getter once, however many slices follow.
function countingByIP(proxy) {
  const calls = { byIP: 0, throughputByIP: 0 };
  const { connections, throughput } = proxy.metrics;
  const byIP = connections.byIP;
  const throughputByIP = throughput.byIP;
  connections.byIP = () => { calls.byIP += 1; return byIP(); };
  throughput.byIP = () => { calls.throughputByIP += 1; return throughputByIP(); };
  return calls;
}

// Resolves to how many setImmediate callbacks, each scheduling the next, ran while `promise` was
// pending: the turns the event loop got.
async function turnsWhile(promise) {
  let turns = 0;
  let done = false;
  const tick = () => {
    if (done) return;
    turns += 1;
    setImmediate(tick);
  };
  setImmediate(tick);
  const result = await promise;
  done = true;
  return { result, turns };
}

for (const query of ['', '?ips=20', '?ips=20&ipv4Prefix=24&ipv6Prefix=64', '?ipv4Prefix=24&ipv6Prefix=64']) {
  test(`a snapshot of 100k IPs (${query || 'every IP'}) yields to the event loop many times, reading each getter once`, async () => {
    const proxy = fakeProxyWithClients(100000, { withTopIPs: false, addresses: 'mixed' });
    const calls = countingByIP(proxy);
    const { result, turns } = await turnsWhile(respondToRequest('GET', `/v1/snapshot${query}`, { proxy }));
    assert.equal(result.status, 200);
    assert.ok(turns >= 5, `only ${turns} turns of the event loop during the snapshot`);
    assert.deepEqual(calls, { byIP: 1, throughputByIP: 1 });
  });
}

test('the sliced text is byte for byte JSON.stringify of the snapshot, hostile names included', async () => {
  const data = sampleMetricsData();
  data.byIP = new Map();
  data.throughputByIP = new Map();
  const names = ['12345', '7', '__proto__', 'quote"back\\slash', 'nl\nctl\u0001', 'lone \ud800', 'pair \ud83d\ude80',
    'caf\u00e9', '4294967295', '4294967294', '007', '', '42'];
  for (let i = 0; i < 5000; i += 1) names.push(`10.${i >> 8}.${i & 255}.1`);
  names.forEach((name, i) => {
    data.byIP.set(name, i % 7);
    data.throughputByIP.set(name, { in: i / 3, out: i * 1e21 });
  });
  data.byIP.set(42, 3); // a non-string key, as a Map may hold: one name with the string '42'
  const proxy = fakeMetricsProxy(data, { omit: ['connections.topIPs'] });
  for (const [query, ipLimit] of [['', undefined], ['?ips=20', 20], ['?ips=0', 0]]) {
    const reply = await respondToRequest('GET', `/v1/snapshot${query}`, { proxy });
    assert.equal(reply.status, 200);
    const { timestamp } = JSON.parse(reply.body);
    const expected = JSON.stringify(await buildSnapshot(proxy, { ipLimit, now: timestamp }));
    assert.equal(reply.body, expected, query);
    assert.equal(reply.headers['Content-Length'], Buffer.byteLength(expected));
    assert.ok(reply.chunks.length >= (query === '' ? 2 : 1));
  }
});

test('a large ?ips=N is served from byIP() in slices, not topIPs(N); N covering every IP lists them all', async () => {
  const proxy = fakeProxyWithClients(100000, { addresses: 'mixed' });
  const calls = countingByIP(proxy);
  const { topIPs } = proxy.metrics.connections;
  let topCalls = 0;
  proxy.metrics.connections.topIPs = (n) => { topCalls += 1; return topIPs(n); };
  const { result, turns } = await turnsWhile(respondToRequest('GET', '/v1/snapshot?ips=1000000', { proxy }));
  assert.equal(result.status, 200);
  assert.ok(turns >= 5, `only ${turns} turns of the event loop during the snapshot`);
  assert.equal(topCalls, 0);
  assert.deepEqual(calls, { byIP: 1, throughputByIP: 1 });
  const every = JSON.parse((await respondToRequest('GET', '/v1/snapshot', { proxy })).body);
  const large = JSON.parse(result.body);
  assert.equal(Object.keys(large.connections.byIP).length, 100000);
  assert.deepEqual(large.connections.byIP, every.connections.byIP);
  assert.deepEqual(large.throughput.byIP, every.throughput.byIP);
  assert.equal(large.connections.distinctIPs, 100000);
  // Up to 1000 the proxy's topIPs(N) still chooses.
  const small = JSON.parse((await respondToRequest('GET', '/v1/snapshot?ips=1000', { proxy })).body);
  assert.equal(topCalls, 1);
  assert.equal(Object.keys(small.connections.byIP).length, 1000);
});

test('an aborted request stops at its next slice', async () => {
  const proxy = fakeProxyWithClients(100000, { addresses: 'mixed' });
  const calls = countingByIP(proxy);
  const aborted = new AbortController();
  let blocks = 0;
  let blocksAfterAbort = 0;
  const slicer = new Slicer({
    signal: aborted.signal,
    onBlock: () => {
      blocks += 1;
      if (aborted.signal.aborted) blocksAfterAbort += 1;
    },
  });
  const pending = respondToRequest('GET', '/v1/snapshot', { proxy, signal: aborted.signal, slicer });
  // Abort once the work is under way (a few slices in).
  await new Promise((resolve) => {
    const wait = () => (blocks >= 3 ? resolve() : setImmediate(wait));
    setImmediate(wait);
  });
  aborted.abort();
  const reply = await pending;
  assert.equal(reply.status, 500);
  assert.match(reply.body, /aborted/);
  assert.ok(blocksAfterAbort <= 1, `${blocksAfterAbort} slices ran after the abort`);
  assert.deepEqual(calls, { byIP: 1, throughputByIP: 1 });
});

test('concurrent requests of different kinds each get their own, correct snapshot', async () => {
  const proxy = fakeProxyWithClients(20000, { addresses: 'mixed' });
  const queries = ['', '?ips=20', '?ips=20&ipv4Prefix=24&ipv6Prefix=64', '?ipv4Prefix=16&ipv6Prefix=48', '?ips=0'];
  const strip = (body) => body.replace(/"timestamp":[0-9]+/, '');
  const alone = [];
  for (const query of queries) alone.push(strip((await respondToRequest('GET', `/v1/snapshot${query}`, { proxy })).body));
  const together = await Promise.all(queries.map((query) => respondToRequest('GET', `/v1/snapshot${query}`, { proxy })));
  assert.deepEqual(together.map((reply) => strip(reply.body)), alone);
});

test('over the socket: a large body arrives whole, and an exporter hanging up mid-snapshot is no error', async (t) => {
  const temp = await makeTempDir();
  const socketPath = path.join(temp.dir, 'metrics.sock');
  const errors = [];
  const proxy = fakeProxyWithClients(100000);
  const handle = await serveSnapshots(proxy, { path: socketPath, mode: 0o600, onError: (e) => errors.push(e) });
  t.after(async () => {
    await handle.close();
    await temp.cleanup();
  });
  const { result: reply, turns } = await turnsWhile(request(socketPath, '/v1/snapshot'));
  assert.equal(reply.status, 200);
  assert.equal(Number(reply.headers['content-length']), Buffer.byteLength(reply.body));
  assert.equal(Object.keys(JSON.parse(reply.body).connections.byIP).length, 100000);
  assert.ok(turns >= 5, `only ${turns} turns of the event loop`);

  // Hang up while the snapshot is being built, then ask again on a new connection.
  const { default: http } = await import('node:http');
  await new Promise((resolve) => {
    const req = http.request({ socketPath, path: '/v1/snapshot' });
    req.on('error', () => resolve());
    req.on('close', resolve);
    req.end();
    setImmediate(() => setImmediate(() => req.destroy()));
  });
  const next = await request(socketPath, '/v1/snapshot?ips=1');
  assert.equal(next.status, 200);
  assert.deepEqual(errors, []);
});
