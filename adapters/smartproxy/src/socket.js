// Unix socket hygiene: who may connect is decided by the socket file's owner, group and mode
// (docs/snapshot-protocol.md, "Transport"), so the file must never be reachable with the wrong
// mode, a stale file from a dead proxy must not block a restart, and a live one must never be
// stolen from the process still serving it.
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

// sun_path is 108 bytes on Linux including the terminating NUL.
const kMaxSocketPathBytes = 107;
const kProbeTimeoutMs = 1000;

/**
 * Makes `socketPath` free for a new socket: nothing there is fine; a socket nobody answers on
 * (ECONNREFUSED) is stale and removed. Rejects if the path is not a socket, or a live one.
 */
export async function clearStalePath(socketPath) {
  if (Buffer.byteLength(socketPath) > kMaxSocketPathBytes) {
    throw new Error(`socket path is longer than ${kMaxSocketPathBytes} bytes: ${socketPath}`);
  }
  let stats;
  try {
    stats = await fs.lstat(socketPath);
  } catch (error) {
    if (error.code === 'ENOENT') return;
    throw new Error(`cannot inspect ${socketPath}: ${error.message}`, { cause: error });
  }
  if (!stats.isSocket()) {
    throw new Error(`${socketPath} exists and is not a socket; refusing to replace it`);
  }
  const state = await probeSocket(socketPath);
  if (state === 'live') {
    throw new Error(`${socketPath} is a live socket (another process is serving it); refusing to take it over`);
  }
  if (state === 'stale') {
    await fs.unlink(socketPath).catch((error) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
}

// 'live' if someone accepts (or might: a full backlog or a slow answer counts as live),
// 'stale' if nobody listens, 'gone' if the file vanished meanwhile.
function probeSocket(socketPath) {
  return new Promise((resolve, reject) => {
    const probe = net.connect({ path: socketPath });
    const finish = (settle) => {
      clearTimeout(timer);
      probe.destroy();
      settle();
    };
    const timer = setTimeout(() => finish(() => resolve('live')), kProbeTimeoutMs);
    probe.once('connect', () => finish(() => resolve('live')));
    probe.once('error', (error) => {
      if (error.code === 'ECONNREFUSED') finish(() => resolve('stale'));
      else if (error.code === 'ENOENT') finish(() => resolve('gone'));
      else if (error.code === 'EAGAIN') finish(() => resolve('live'));
      else {
        finish(() => reject(new Error(
          `cannot tell whether ${socketPath} is in use (${error.code}); refusing to touch it`,
          { cause: error })));
      }
    });
  });
}

/**
 * Starts `server` listening on `socketPath` with `mode` (and group `gid`, if given) already in
 * place when the path appears. Resolves to { dev, ino } of the socket file, for removeOwnSocket.
 *
 * Why a temporary name: listen() creates the file with the process umask, and chmod afterwards
 * leaves a window in which anyone the umask lets in can connect. A process-wide umask() change
 * would race with every other file the proxy creates meanwhile. So we bind a private, random name
 * in the same directory, chown/chmod it there, and only then hard-link it to the public path.
 * link() fails with EEXIST instead of replacing, so a server that appeared at the path since
 * clearStalePath() is never stolen (rename() would silently replace it).
 */
export async function listenWithMode(server, socketPath, { mode, gid }) {
  const directory = path.dirname(socketPath);
  const temporaryPath = path.join(directory, `.smartproxy-${randomBytes(6).toString('hex')}.sock`);
  if (Buffer.byteLength(temporaryPath) > kMaxSocketPathBytes) {
    throw new Error(`directory path too long for a Unix socket: ${directory}`);
  }
  // Node reports bind() in a missing directory as EACCES; say what is actually wrong.
  const directoryStats = await fs.stat(directory).catch((error) => {
    throw new Error(`socket directory ${directory} is not usable: ${error.code}`, { cause: error });
  });
  if (!directoryStats.isDirectory()) throw new Error(`${directory} is not a directory`);
  await listen(server, temporaryPath);
  try {
    if (gid !== undefined) await fs.chown(temporaryPath, -1, gid);
    await fs.chmod(temporaryPath, mode);
    try {
      await fs.link(temporaryPath, socketPath);
    } catch (error) {
      if (error.code === 'EEXIST') {
        throw new Error(`${socketPath} appeared while starting; refusing to replace it`, { cause: error });
      }
      throw error;
    }
    await fs.unlink(temporaryPath);
    const stats = await fs.lstat(socketPath);
    return { dev: stats.dev, ino: stats.ino };
  } catch (error) {
    await new Promise((resolve) => server.close(() => resolve()));
    await fs.unlink(temporaryPath).catch(() => {});
    throw error;
  }
}

function listen(server, socketPath) {
  return new Promise((resolve, reject) => {
    const onError = (error) => reject(error);
    server.once('error', onError);
    server.listen({ path: socketPath, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Removes the socket file, but only if it is still ours ({dev, ino} as placed). */
export async function removeOwnSocket(socketPath, placed) {
  try {
    const stats = await fs.lstat(socketPath);
    if (stats.dev === placed.dev && stats.ino === placed.ino) await fs.unlink(socketPath);
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
  }
}

/**
 * A group name or id as a numeric gid. Names are looked up in /etc/group (Node has no
 * getgrnam); a group that only exists in NSS (LDAP, ...) must be passed as a number.
 */
export async function resolveGroup(group) {
  if (Number.isInteger(group) && group >= 0) return group;
  if (typeof group !== 'string' || group === '') {
    throw new TypeError('group must be a gid (integer >= 0) or a group name');
  }
  if (/^[0-9]+$/.test(group)) return Number(group);
  const text = await fs.readFile('/etc/group', 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && /^[0-9]+$/.test(gid ?? '')) return Number(gid);
  }
  throw new Error(`group "${group}" is not in /etc/group; pass its numeric gid instead`);
}
