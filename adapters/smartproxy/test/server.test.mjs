// serveSnapshots over a real Unix socket: the JSON on the wire, ?ips=N, status codes, and a
// throwing getter that costs one 500 but not the server.
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import test from 'node:test';
import { serveSnapshots } from '../index.js';
import {
  fakeMetricsProxy, fakeProxy27, fakeProxyWithClients, fakeStatsProxy,
} from '../testing/fake_proxies.mjs';
import { getSnapshot, makeTempDir, request } from '../testing/unix_http.mjs';

async function withServer(t, proxy, options = {}) {
  const temp = await makeTempDir();
  const socketPath = path.join(temp.dir, 'metrics.sock');
  const handle = await serveSnapshots(proxy, { path: socketPath, mode: 0o600, ...options });
  t.after(async () => {
    await handle.close();
    await temp.cleanup();
  });
  return { handle, socketPath };
}

test('GET /v1/snapshot serves the IMetrics snapshot as application/json', async (t) => {
  const before = Date.now();
  const { handle, socketPath } = await withServer(t, fakeMetricsProxy(), { version: '21.1.3' });
  const reply = await request(socketPath, '/v1/snapshot');
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['content-type'], 'application/json');
  assert.equal(Number(reply.headers['content-length']), Buffer.byteLength(reply.body));
  const snapshot = JSON.parse(reply.body);
  assert.equal(snapshot.schemaVersion, 1);
  assert.ok(snapshot.timestamp >= before && snapshot.timestamp <= Date.now());
  assert.deepEqual(Object.keys(snapshot.proxy), ['name', 'version', 'instance', 'startTime']);
  assert.equal(snapshot.proxy.name, 'smartproxy');
  assert.equal(snapshot.proxy.version, '21.1.3');
  assert.equal(snapshot.proxy.instance, handle.instance);
  assert.ok(snapshot.proxy.startTime >= before && snapshot.proxy.startTime <= snapshot.timestamp);
  assert.deepEqual(snapshot.connections.byRoute, { api: 30, web: 12 });
  assert.deepEqual(snapshot.bytes, { in: 123456789, out: 987654321 });
  assert.deepEqual(snapshot.throughput.byRoute.api, { in: 10, out: 20 });
});

test('the old getStats() generation is served too', async (t) => {
  const { socketPath } = await withServer(t, fakeStatsProxy());
  const snapshot = await getSnapshot(socketPath);
  assert.deepEqual(snapshot.connections.byRoute, { legacy: 17 });
  assert.deepEqual(snapshot.openConnectionBytes, { in: 4096, out: 8192 });
  assert.equal(snapshot.bytes, undefined);
  assert.equal(snapshot.throughput, undefined);
  assert.equal(snapshot.adapter.api, 'IProxyStats');
});

test('every serveSnapshots call gets a new instance id', async (t) => {
  const first = await withServer(t, fakeMetricsProxy());
  const second = await withServer(t, fakeMetricsProxy());
  assert.notEqual(first.handle.instance, second.handle.instance);
  assert.match(first.handle.instance, /^[0-9a-f]{16}$/);
});

test('?ips=N returns the N busiest IPs and still counts every IP', async (t) => {
  const { socketPath } = await withServer(t, fakeProxyWithClients(10000, { withTopIPs: false }));
  const snapshot = await getSnapshot(socketPath, '/v1/snapshot?ips=20');
  const counts = Object.values(snapshot.connections.byIP);
  assert.equal(counts.length, 20);
  assert.equal(snapshot.connections.distinctIPs, 10000);
  assert.equal(Math.min(...counts), 97, 'the fake gives the busiest IPs 97 connections');
  assert.deepEqual(Object.keys(snapshot.throughput.byIP).sort(), Object.keys(snapshot.connections.byIP).sort());

  const all = await getSnapshot(socketPath);
  assert.equal(Object.keys(all.connections.byIP).length, 10000);
});

test('?ips=N uses the proxy\'s topIPs() when it has one', async (t) => {
  const proxy = fakeMetricsProxy();
  const limits = [];
  const topIPs = proxy.metrics.connections.topIPs;
  proxy.metrics.connections.topIPs = (limit) => { limits.push(limit); return topIPs(limit); };
  const { socketPath } = await withServer(t, proxy);
  const snapshot = await getSnapshot(socketPath, '/v1/snapshot?ips=1');
  assert.deepEqual(limits, [1]);
  assert.deepEqual(snapshot.connections.byIP, { '198.51.100.4': 7 });
});

test('a throwing getter gives 500 text/plain with the reason, and the next request succeeds', async (t) => {
  const proxy = fakeMetricsProxy();
  let failNext = true;
  const active = proxy.metrics.connections.active;
  proxy.metrics.connections.active = () => {
    if (failNext) {
      failNext = false;
      throw new Error('collector not ready');
    }
    return active();
  };
  const { socketPath } = await withServer(t, proxy);
  const failed = await request(socketPath, '/v1/snapshot');
  assert.equal(failed.status, 500);
  assert.match(failed.headers['content-type'], /^text\/plain/);
  assert.match(failed.body, /connections\.active\(\) threw: collector not ready/);
  const next = await getSnapshot(socketPath);
  assert.equal(next.connections.active, 42);
});

test('a rejecting or late required getter is a 500 naming it; failing optional ones are counted', async (t) => {
  const proxy = fakeProxy27();
  let active = () => Promise.reject(new Error('ipc closed'));
  proxy.metrics.connections.active = () => active();
  proxy.metrics.udp.activeSessions = () => new Promise(() => {});
  const { socketPath } = await withServer(t, proxy, { deadlineMs: 50 });
  const rejected = await request(socketPath, '/v1/snapshot');
  assert.equal(rejected.status, 500);
  assert.equal(rejected.body, 'snapshot failed: connections.active() rejected: ipc closed\n');
  active = () => new Promise(() => {});
  const late = await request(socketPath, '/v1/snapshot');
  assert.equal(late.status, 500);
  assert.equal(late.body, 'snapshot failed: connections.active() did not answer within the snapshot deadline (50 ms)\n');
  active = async () => 9;
  const partial = await getSnapshot(socketPath);
  assert.equal(partial.adapter.skipped, 1);
  assert.equal(partial.udp.activeSessions, undefined);
  assert.equal(partial.udp.totalSessions, 50);
});

test('an exporter that hangs up before a slow snapshot is answered costs the server nothing', async (t) => {
  const proxy = fakeMetricsProxy();
  let slow = true;
  proxy.metrics.connections.active = () => (slow ? new Promise((resolve) => setTimeout(() => resolve(1), 100)) : 2);
  const errors = [];
  const { socketPath } = await withServer(t, proxy, { onError: (error) => errors.push(error) });
  await new Promise((resolve) => {
    const req = http.request({ socketPath, path: '/v1/snapshot' });
    req.on('error', () => resolve());
    req.end();
    setTimeout(() => { req.destroy(); resolve(); }, 20);
  });
  await new Promise((resolve) => setTimeout(resolve, 150)); // the reply is ready after the hang-up
  slow = false;
  assert.equal((await getSnapshot(socketPath)).connections.active, 2);
  assert.deepEqual(errors, []);
});

test('close() while a snapshot still waits for the proxy ends cleanly', async () => {
  const temp = await makeTempDir();
  const socketPath = path.join(temp.dir, 'm.sock');
  const proxy = fakeMetricsProxy();
  proxy.metrics.connections.active = () => new Promise(() => {});
  const handle = await serveSnapshots(proxy, { path: socketPath, deadlineMs: 60000 });
  const pending = request(socketPath, '/v1/snapshot').then(() => 'answered', () => 'cut');
  await new Promise((resolve) => setTimeout(resolve, 20));
  await handle.close();
  assert.equal(await pending, 'cut');
  await temp.cleanup();
});

test('deadlineMs must be a positive number', async () => {
  for (const deadlineMs of [0, -1, Number.NaN, '1000', 2 ** 31]) {
    await assert.rejects(serveSnapshots(fakeMetricsProxy(), { path: '/tmp/never.sock', deadlineMs }), TypeError,
      String(deadlineMs));
  }
});

test('other paths are 404, other methods 405, a bad ips value 400', async (t) => {
  const { socketPath } = await withServer(t, fakeMetricsProxy());
  assert.equal((await request(socketPath, '/')).status, 404);
  assert.equal((await request(socketPath, '/v1/snapshot/')).status, 404);
  assert.equal((await request(socketPath, '/metrics')).status, 404);
  for (const method of ['POST', 'PUT', 'DELETE', 'HEAD']) {
    const reply = await request(socketPath, '/v1/snapshot', { method });
    assert.equal(reply.status, 405, method);
    assert.equal(reply.headers.allow, 'GET');
  }
  for (const bad of ['-1', 'abc', '1.5', '', '0x10']) {
    assert.equal((await request(socketPath, `/v1/snapshot?ips=${bad}`)).status, 400, `ips=${bad}`);
  }
  assert.equal((await request(socketPath, '/v1/snapshot?other=1')).status, 200);
  assert.equal((await request(socketPath, '/v1/snapshot?ips=0')).status, 200);
});

test('one keep-alive connection serves several snapshots', async (t) => {
  const { socketPath } = await withServer(t, fakeMetricsProxy());
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const reused = [];
  for (let i = 0; i < 3; i += 1) {
    const reply = await request(socketPath, '/v1/snapshot', { agent });
    assert.equal(reply.status, 200);
    reused.push(reply.reusedSocket);
  }
  assert.deepEqual(reused, [false, true, true]);
});

test('close() ends keep-alive connections and is idempotent', async () => {
  const temp = await makeTempDir();
  const socketPath = path.join(temp.dir, 'm.sock');
  const handle = await serveSnapshots(fakeMetricsProxy(), { path: socketPath });
  const agent = new http.Agent({ keepAlive: true });
  await request(socketPath, '/v1/snapshot', { agent });
  await Promise.all([handle.close(), handle.close()]);
  await handle.close();
  agent.destroy();
  await temp.cleanup();
});

test('a proxy without a metrics API is refused at startup', async () => {
  await assert.rejects(serveSnapshots({}, { path: '/tmp/never.sock' }), TypeError);
});
