// Socket hygiene: never replace what is not a socket, never steal a live socket, remove a stale
// one, apply mode and group, unlink on close (but only our own file).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import test from 'node:test';
import { serveSnapshots } from '../index.js';
import { fakeMetricsProxy } from '../testing/fake_proxies.mjs';
import { getSnapshot, makeTempDir } from '../testing/unix_http.mjs';

async function tempSocketPath(t, name = 'metrics.sock') {
  const temp = await makeTempDir();
  t.after(() => temp.cleanup());
  return path.join(temp.dir, name);
}

function listenOn(socketPath) {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => {
      socket.on('error', () => {}); // the adapter's probe hangs up at once
      socket.end('still mine\n');
    });
    server.once('error', reject);
    server.listen(socketPath, () => resolve(server));
  });
}

function readLine(socketPath) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let text = '';
    socket.on('data', (chunk) => { text += chunk; });
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

// A socket file left behind by a process that died without cleaning up: a child listens, then
// is SIGKILLed, so nothing unlinks the file and nobody accepts on it any more.
async function leaveStaleSocket(socketPath) {
  const child = spawn(process.execPath, ['-e', `
    require('node:net').createServer().listen(${JSON.stringify(socketPath)}, () => console.log('ready'));
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    child.stdout.once('data', resolve);
    child.once('exit', () => reject(new Error('child exited before listening')));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  assert.ok((await fs.lstat(socketPath)).isSocket(), 'the dead child left its socket file');
}

test('a path that exists and is not a socket is refused and left untouched', async (t) => {
  const socketPath = await tempSocketPath(t);
  await fs.writeFile(socketPath, 'precious');
  await assert.rejects(serveSnapshots(fakeMetricsProxy(), { path: socketPath }), /is not a socket/);
  assert.equal(await fs.readFile(socketPath, 'utf8'), 'precious');

  const directory = await tempSocketPath(t, 'adir');
  await fs.mkdir(directory);
  await assert.rejects(serveSnapshots(fakeMetricsProxy(), { path: directory }), /is not a socket/);
});

test('a live socket is not stolen', async (t) => {
  const socketPath = await tempSocketPath(t);
  const owner = await listenOn(socketPath);
  t.after(() => new Promise((resolve) => owner.close(resolve)));
  const before = await fs.lstat(socketPath);
  await assert.rejects(serveSnapshots(fakeMetricsProxy(), { path: socketPath }), /live socket/);
  const after = await fs.lstat(socketPath);
  assert.equal(after.ino, before.ino, 'the same socket file is still in place');
  assert.equal(await readLine(socketPath), 'still mine\n', 'its owner still serves it');
  const leftovers = (await fs.readdir(path.dirname(socketPath))).filter((name) => name !== 'metrics.sock');
  assert.deepEqual(leftovers, [], 'no temporary socket left behind');
});

test('a stale socket left by a dead process is removed and replaced', async (t) => {
  const socketPath = await tempSocketPath(t);
  await leaveStaleSocket(socketPath);
  const handle = await serveSnapshots(fakeMetricsProxy(), { path: socketPath });
  t.after(() => handle.close());
  assert.equal((await getSnapshot(socketPath)).connections.active, 42);
});

test('mode is applied to the socket file', async (t) => {
  for (const mode of [0o600, 0o660, 0o666]) {
    const socketPath = await tempSocketPath(t);
    const handle = await serveSnapshots(fakeMetricsProxy(), { path: socketPath, mode });
    const stats = await fs.lstat(socketPath);
    assert.ok(stats.isSocket());
    assert.equal(stats.mode & 0o777, mode, `mode ${mode.toString(8)}`);
    await handle.close();
  }
});

test('mode defaults to 0660 and group is applied', async (t) => {
  const socketPath = await tempSocketPath(t);
  const gid = process.getgid();
  const handle = await serveSnapshots(fakeMetricsProxy(), { path: socketPath, group: gid });
  t.after(() => handle.close());
  const stats = await fs.lstat(socketPath);
  assert.equal(stats.mode & 0o777, 0o660);
  assert.equal(stats.gid, gid);
});

test('an unknown group name is refused before anything is created', async (t) => {
  const socketPath = await tempSocketPath(t);
  await assert.rejects(
    serveSnapshots(fakeMetricsProxy(), { path: socketPath, group: 'no-such-group-xyz' }),
    /not in \/etc\/group/);
  await assert.rejects(fs.lstat(socketPath), { code: 'ENOENT' });
});

test('close() removes the socket file and nothing else is left in the directory', async (t) => {
  const socketPath = await tempSocketPath(t);
  const handle = await serveSnapshots(fakeMetricsProxy(), { path: socketPath });
  assert.deepEqual(await fs.readdir(path.dirname(socketPath)), ['metrics.sock']);
  await handle.close();
  assert.deepEqual(await fs.readdir(path.dirname(socketPath)), []);
});

test('close() does not remove a file that replaced our socket', async (t) => {
  const socketPath = await tempSocketPath(t);
  const handle = await serveSnapshots(fakeMetricsProxy(), { path: socketPath });
  await fs.unlink(socketPath);
  await fs.writeFile(socketPath, 'someone else');
  await handle.close();
  assert.equal(await fs.readFile(socketPath, 'utf8'), 'someone else');
});

test('a second adapter on the same path is refused while the first serves', async (t) => {
  const socketPath = await tempSocketPath(t);
  const first = await serveSnapshots(fakeMetricsProxy(), { path: socketPath });
  t.after(() => first.close());
  await assert.rejects(serveSnapshots(fakeMetricsProxy(), { path: socketPath }), /live socket/);
  assert.equal((await getSnapshot(socketPath)).connections.active, 42);
});

test('a missing directory is a clear startup error', async (t) => {
  const socketPath = path.join(await tempSocketPath(t, 'missing'), 'metrics.sock');
  await assert.rejects(serveSnapshots(fakeMetricsProxy(), { path: socketPath }), /socket directory .* is not usable: ENOENT/);
});

test('bad options are refused', async () => {
  await assert.rejects(serveSnapshots(fakeMetricsProxy(), { path: '/tmp/x.sock', mode: 0o1777 }), TypeError);
  await assert.rejects(serveSnapshots(fakeMetricsProxy(), { path: '' }), TypeError);
});
