// The chain across languages, once per SmartProxy generation (19.6.2 IProxyStats, 21.1.3 IMetrics,
// 27.x-like IMetrics with the 1.1 groups): this adapter serving a fake proxy -> the C++ exporter
// (SMARTPROXY_EXPORTER_BIN) -> GET /metrics shows the fake's numbers under the families of
// docs/metrics.md. Without the binary each test fails, unless SMARTPROXY_CHAIN_OPTIONAL=1 turns
// that into a reported skip: never silent.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import test from 'node:test';
import { serveSnapshots } from '../index.js';
import {
  FakeSmartProxy1962, fakeMetricsProxy, fakeProxy27, fakeProxyWithClients, sampleMetricsData,
} from '../testing/fake_proxies.mjs';
import { makeTempDir } from '../testing/unix_http.mjs';

const kDeadlineMs = 15000;
const kPollIntervalMs = 100;

// The exporter's flag for reporting its bound port is not decided yet, so the port is chosen
// here: bind 127.0.0.1:0, read the port, release it. Another process could take it in between;
// that shows up as an exporter that exits, with its stderr in the failure.
function pickFreePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function httpGet(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.setTimeout(2000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

// The value of the first sample of `name` whose labels include every `labels` pair.
function sampleValue(exposition, name, labels = {}) {
  for (const line of exposition.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const labelText = match[3] ?? '';
    const wanted = Object.entries(labels).every(([key, value]) =>
      labelText.includes(`${key}=${JSON.stringify(value)}`));
    if (wanted) return Number(match[4]);
  }
  return undefined;
}

// True when any sample of the family `name` is exposed.
function hasFamily(exposition, name) {
  return exposition.split('\n').some((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`));
}

function stopProcess(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killTimer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(killTimer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

// Serves `proxy` through the adapter, runs the exporter against it, and resolves to the first
// /metrics text with smartproxy_up 1 (or to undefined when the test was skipped). `config`: the
// exporter's YAML config file, if any; `log.stderr` receives the exporter's log.
async function exposeThroughChain(t, proxy, { config, log } = {}) {
  const binary = process.env.SMARTPROXY_EXPORTER_BIN;
  if (!binary) {
    const reason = 'SMARTPROXY_EXPORTER_BIN is not set: build the exporter and point it at the binary';
    if (process.env.SMARTPROXY_CHAIN_OPTIONAL === '1') {
      t.skip(`${reason} (skipped because SMARTPROXY_CHAIN_OPTIONAL=1)`);
      return undefined;
    }
    assert.fail(`${reason}, or set SMARTPROXY_CHAIN_OPTIONAL=1 to skip this test`);
  }
  assert.ok(fs.existsSync(binary), `SMARTPROXY_EXPORTER_BIN=${binary} does not exist`);

  const temp = await makeTempDir();
  const socketPath = path.join(temp.dir, 'metrics.sock');
  const handle = await serveSnapshots(proxy, { path: socketPath, mode: 0o600 });
  let exporter;
  let stderr = '';
  try {
    const port = await pickFreePort();
    const args = [`--proxy.socket=${socketPath}`, `--web.listen-address=127.0.0.1:${port}`];
    if (config !== undefined) {
      const configPath = path.join(temp.dir, 'exporter.yml');
      fs.writeFileSync(configPath, config);
      args.push(`--config.file=${configPath}`);
    }
    exporter = spawn(binary, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    exporter.stderr.setEncoding('utf8');
    exporter.stderr.on('data', (chunk) => { stderr += chunk; });
    let spawnError;
    exporter.once('error', (error) => { spawnError = error; });

    const deadline = Date.now() + kDeadlineMs;
    let lastProblem = 'no answer yet';
    while (Date.now() < deadline) {
      if (exporter.exitCode !== null) {
        assert.fail(`exporter exited with ${exporter.exitCode}; stderr:\n${stderr}`);
      }
      if (spawnError) assert.fail(`cannot start ${binary}: ${spawnError.message}`);
      try {
        const reply = await httpGet(`http://127.0.0.1:${port}/metrics`);
        if (reply.status === 200 && sampleValue(reply.body, 'smartproxy_up') === 1) return reply.body;
        lastProblem = `status ${reply.status}, smartproxy_up ${sampleValue(reply.body, 'smartproxy_up')}`;
      } catch (error) {
        lastProblem = error.message;
      }
      await new Promise((resolve) => setTimeout(resolve, kPollIntervalMs));
    }
    assert.fail(`no /metrics with smartproxy_up 1 within ${kDeadlineMs} ms (${lastProblem}); stderr:\n${stderr}`);
  } finally {
    if (exporter) await stopProcess(exporter);
    if (log) log.stderr = stderr;
    await handle.close();
    await temp.cleanup();
  }
  return undefined;
}

// Asserts every [name, labels, value] of `expected`, then that no family of `absent` is exposed;
// all failures are reported together, so a missing exporter family shows with the others.
function assertExposition(exposition, expected, absent = []) {
  const problems = [];
  for (const [name, labels, value] of expected) {
    const actual = sampleValue(exposition, name, labels);
    const close = typeof actual === 'number' && Math.abs(actual - value) <= 1e-9 * Math.max(1, Math.abs(value));
    if (!close) problems.push(`${name}${JSON.stringify(labels)}: expected ${value}, got ${actual}`);
  }
  for (const name of absent) {
    if (hasFamily(exposition, name)) problems.push(`${name}: must not be exposed`);
  }
  assert.deepEqual(problems, [], `/metrics:\n${exposition}`);
}

const kAdapterVersion = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

test('chain, 21.1.3 (IMetrics, synchronous, Maps): adapter -> C++ exporter -> /metrics', async (t) => {
  const data = sampleMetricsData();
  const exposition = await exposeThroughChain(t, fakeMetricsProxy(data));
  if (exposition === undefined) return;
  assertExposition(exposition, [
    ['smartproxy_up', {}, 1],
    ['smartproxy_connections_active', {}, data.active],
    ['smartproxy_connections_total', {}, data.total],
    ['smartproxy_route_connections_active', { route: 'api' }, data.byRoute.get('api')],
    ['smartproxy_route_connections_active', { route: 'web' }, data.byRoute.get('web')],
    ['smartproxy_received_bytes_total', {}, data.bytesIn],
    ['smartproxy_sent_bytes_total', {}, data.bytesOut],
    ['smartproxy_requests_total', {}, data.requestsTotal],
    ['smartproxy_adapter_info', { api: 'IMetrics', version: kAdapterVersion }, 1],
    ['smartproxy_adapter_skipped_fields', {}, 0],
  ]);
});

test('chain, 19.6.2 (IProxyStats): open-connection bytes are gauges, the request rate is the 60 s window', async (t) => {
  const proxy = new FakeSmartProxy1962();
  const first = proxy.open({ ip: '192.0.2.1', route: 'legacy' });
  const second = proxy.open({ ip: '192.0.2.2', route: 'legacy' });
  proxy.transfer(first, 4000, 9000);
  proxy.transfer(second, 96, 1000);
  for (let i = 0; i < 120; i += 1) proxy.request();
  const exposition = await exposeThroughChain(t, proxy);
  if (exposition === undefined) return;
  assertExposition(exposition, [
    ['smartproxy_up', {}, 1],
    ['smartproxy_connections_active', {}, 2],
    ['smartproxy_connections_total', {}, 2],
    ['smartproxy_route_connections_active', { route: 'legacy' }, 2],
    ['smartproxy_open_connections_received_bytes', {}, 4096],
    ['smartproxy_open_connections_sent_bytes', {}, 10000],
    ['smartproxy_requests_per_second', { window: '60s' }, 2],
    ['smartproxy_adapter_info', { api: 'IProxyStats', version: kAdapterVersion }, 1],
  ], ['smartproxy_received_bytes_total', 'smartproxy_sent_bytes_total']);
  assert.equal(sampleValue(exposition, 'smartproxy_requests_per_second', { window: '1s' }), undefined,
    'getRequestsPerSecond() is not a 1 s rate');
});

test('chain, 27.x-like (async IMetrics, plain objects): backends, protocols, UDP and domains', async (t) => {
  const exposition = await exposeThroughChain(t, fakeProxy27());
  if (exposition === undefined) return;
  assertExposition(exposition, [
    ['smartproxy_up', {}, 1],
    ['smartproxy_connections_active', {}, 9],
    ['smartproxy_requests_total', {}, 88000],
    ['smartproxy_adapter_info', { api: 'IMetrics', version: kAdapterVersion }, 1],
    ['smartproxy_adapter_skipped_fields', {}, 0],
    ['smartproxy_backend_connections_total', { backend: '10.0.0.5:8080' }, 120],
    ['smartproxy_backend_connections_active', { backend: '10.0.0.6:8080' }, 1],
    ['smartproxy_backend_errors_total', { backend: '10.0.0.5:8080', kind: 'connect' }, 1],
    ['smartproxy_backend_info', { backend: '10.0.0.5:8080', protocol: 'h2' }, 1],
    ['smartproxy_backend_connect_time_seconds', { backend: '10.0.0.5:8080' }, 0.0045],
    ['smartproxy_protocol_connections_active', { side: 'frontend', protocol: 'h1' }, 5],
    ['smartproxy_protocol_connections_total', { side: 'backend', protocol: 'h2' }, 120],
    ['smartproxy_udp_sessions_active', {}, 2],
    ['smartproxy_udp_sessions_total', {}, 50],
    ['smartproxy_udp_datagrams_total', { direction: 'in' }, 1000],
    ['smartproxy_domain_requests_per_second', { domain: 'example.com', window: '1s' }, 3],
    ['smartproxy_domain_requests_per_second', { domain: 'example.com', window: '60s' }, 3],
  ]);
});

test('chain, anonymize: prefix: the adapter groups at the source, the exporter takes its networks', async (t) => {
  // 2,000 clients 10.0.0.0 .. 10.0.7.207: eight /24 networks, summed here independently.
  const proxy = fakeProxyWithClients(2000);
  const byNetwork = new Map();
  const { byIP } = proxy.getMetrics().connections;
  for (const [ip, count] of byIP()) {
    const network = `${ip.split('.').slice(0, 3).join('.')}.0/24`;
    byNetwork.set(network, (byNetwork.get(network) ?? 0) + count);
  }
  const ranked = [...byNetwork].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const log = {};
  const exposition = await exposeThroughChain(t, proxy, {
    config: 'metrics:\n  ips:\n    anonymize: prefix\n    top: 3\n',
    log,
  });
  if (exposition === undefined) return;
  const expected = ranked.slice(0, 3).map(([network, count]) =>
    ['smartproxy_ip_connections_active', { ip: network }, count]);
  const other = ranked.slice(3).reduce((sum, [, count]) => sum + count, 0);
  assertExposition(exposition, [
    ...expected,
    ['smartproxy_ip_connections_active', { ip: 'other' }, other],
    ['smartproxy_exporter_aggregated_series', { kind: 'ip' }, ranked.length - 3],
    ['smartproxy_client_ips', {}, 2000],
  ]);
  assert.doesNotMatch(exposition, /ip="10\.0\.\d+\.\d+"/, 'a full client address reached /metrics');
  // The exporter asked for networks and got them (3 of them, not 2,000 addresses: a snapshot of
  // every IP here is over 100 kB), and never fell back to fetching every IP.
  assert.ok(sampleValue(exposition, 'smartproxy_exporter_snapshot_size_bytes') < 10000, exposition);
  assert.doesNotMatch(log.stderr, /does not group client IPs at the source/, log.stderr);
});

test('chain, default config at 2,000 clients: topIPs(20) gives no count, yet the IP series add up', async (t) => {
  const proxy = fakeProxyWithClients(2000);
  const { connections } = proxy.getMetrics();
  const top = connections.topIPs(20);
  const listed = top.reduce((sum, entry) => sum + (Array.isArray(entry) ? entry[1] : entry.count), 0);
  const exposition = await exposeThroughChain(t, proxy);
  if (exposition === undefined) return;
  assertExposition(exposition, [
    ['smartproxy_connections_active', {}, connections.active()],
    ['smartproxy_ip_connections_active', { ip: 'other' }, connections.active() - listed],
  ]);
  // No count of the unlisted IPs came with the answer: better no client_ips than a wrong 20.
  const clientIps = sampleValue(exposition, 'smartproxy_client_ips');
  assert.ok(clientIps === undefined || clientIps === 2000, `smartproxy_client_ips ${clientIps}`);
});
