// A real host process (a separate Node process standing in for SmartProxy, testing/host_process.mjs)
// whose getters throw, reject, hang and reject after the deadline: its snapshot requests fail as
// they should, while it keeps running, keeps answering its own traffic, and never exits with an
// unhandled rejection (it runs with --unhandled-rejections=strict).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeTempDir, request as requestOnce } from '../testing/unix_http.mjs';

const kHostScript = fileURLToPath(new URL('../testing/host_process.mjs', import.meta.url));
const kDeadlineMs = 150;

function startHost(dir) {
  const ownSocket = path.join(dir, 'own.sock');
  const metricsSocket = path.join(dir, 'metrics.sock');
  const child = spawn(process.execPath,
    ['--unhandled-rejections=strict', kHostScript, ownSocket, metricsSocket, String(kDeadlineMs)],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const ready = new Promise((resolve, reject) => {
    child.stdout.once('data', resolve);
    child.once('exit', (code) => reject(new Error(`host exited with ${code} before ready; stderr:\n${stderr}`)));
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, ownSocket, metricsSocket, ready, exited, stderr: () => stderr };
}

// Resolves to the reply and when it arrived.
async function timed(promise) {
  const reply = await promise;
  return { ...reply, at: performance.now() };
}

test('a host process whose getters misbehave keeps running and serving its own traffic', async (t) => {
  const temp = await makeTempDir();
  const host = startHost(temp.dir);
  t.after(async () => {
    if (host.child.exitCode === null && host.child.signalCode === null) host.child.kill('SIGKILL');
    await host.exited;
    await temp.cleanup();
  });
  await host.ready;
  // A request the host cannot answer most likely means it died: say so, with its stderr.
  const request = async (socketPath, urlPath) => {
    try {
      return await requestOnce(socketPath, urlPath);
    } catch (error) {
      const exit = await Promise.race([host.exited, new Promise((resolve) => setTimeout(resolve, 500))]);
      throw new Error(`${urlPath}: ${error.message}; host exit ${JSON.stringify(exit)}; stderr:\n${host.stderr()}`);
    }
  };
  const alive = () => assert.equal(host.child.exitCode, null, `host exited; stderr:\n${host.stderr()}`);
  const setMode = async (mode) => {
    assert.equal((await request(host.ownSocket, `/mode/${mode}`)).body, `mode ${mode}\n`);
  };

  const failures = {
    throw: /^snapshot failed: connections\.active\(\) threw: active threw\n$/,
    reject: /^snapshot failed: connections\.active\(\) rejected: active rejected\n$/,
    hang: /^snapshot failed: connections\.active\(\) did not answer within the snapshot deadline \(150 ms\)\n$/,
    late: /^snapshot failed: connections\.active\(\) did not answer within the snapshot deadline \(150 ms\)\n$/,
    root: /^snapshot failed: getMetrics\(\) rejected: metrics not started\n$/,
  };
  for (const [mode, body] of Object.entries(failures)) {
    await setMode(mode);
    const snapshot = timed(request(host.metricsSocket, '/v1/snapshot'));
    const own = await timed(request(host.ownSocket, '/'));
    assert.equal(own.status, 200, mode);
    assert.match(own.body, /^hello \d+\n$/);
    const failed = await snapshot;
    assert.equal(failed.status, 500, mode);
    assert.match(failed.body, body, mode);
    if (mode === 'hang' || mode === 'late') {
      assert.ok(own.at < failed.at, `${mode}: the host answered its own traffic while the snapshot waited`);
    }
    alive();
  }

  await setMode('optional');
  const partial = await request(host.metricsSocket, '/v1/snapshot');
  assert.equal(partial.status, 200);
  const snapshot = JSON.parse(partial.body);
  assert.equal(snapshot.adapter.skipped, 4, 'requests.total, throughput.instant, .recent, backends');
  assert.deepEqual(snapshot.connections, { active: 3, total: 10 });

  // Let every late rejection fire (3 deadlines after its call), then check the host is still fine.
  await new Promise((resolve) => setTimeout(resolve, kDeadlineMs * 5));
  alive();
  await setMode('ok');
  assert.equal((await request(host.metricsSocket, '/v1/snapshot')).status, 200);
  assert.equal((await request(host.ownSocket, '/')).status, 200);

  host.child.kill('SIGTERM');
  const { code, signal } = await host.exited;
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, `stderr:\n${host.stderr()}`);
  assert.equal(host.stderr(), '', 'nothing on stderr: no unhandled rejection, no warning');
});
